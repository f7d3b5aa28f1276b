from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.actors import acting
from notifications import dead_letter, services
from notifications.dead_letter import NOT_DEAD
from notifications.models import Channel, Delivery
from uptime.api_views import CreatedLocationMixin
from uptime.openapi import error

from .serializers import ChannelSerializer, DeliverySerializer, ReplaySerializer


class ChannelViewSet(CreatedLocationMixin, viewsets.ModelViewSet):
    serializer_class = ChannelSerializer
    # For the OpenAPI document: the type of {id} (get_queryset needs the request's actor).
    queryset = Channel.objects.none()
    # Only the test message is rate limited: it makes us post or mail on demand.
    throttle_scope = None

    def get_queryset(self):
        return Channel.objects.owned_by(acting(self.request).organization).prefetch_related("monitors")

    @action(detail=True, methods=["post"], throttle_scope="channel_test")
    def test(self, request, pk=None):
        delivery = services.send_test(self.get_object())
        return Response({"delivery": delivery.pk, "uid": str(delivery.uid)}, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        channel = services.rotate_secret(self.get_object())
        return Response(self.get_serializer(channel).data)

    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        channel = self.get_object()
        deliveries = (
            Delivery.objects.filter(channel=channel)
            .order_by("-created_at", "-id")
            .select_related("replay")
            .prefetch_related("attempts_log")
        )
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(responses={200: DeliverySerializer(many=True)})
    @action(detail=False, methods=["get"], url_path="dead-deliveries")
    def dead_deliveries(self, request):
        """The dead letter: your channels' deliveries whose every attempt failed, not replayed
        yet, newest first, each with every attempt's error."""
        dead = (
            dead_letter.unreplayed()
            .filter(channel__in=self.get_queryset())
            .order_by("-finished_at", "-id")
            .prefetch_related("attempts_log")
        )
        page = self.paginate_queryset(dead)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={
            202: ReplaySerializer,
            404: error("No such channel, or no such delivery of it."),
            409: error(NOT_DEAD),
        },
    )
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_pk>\d+)/replay")
    def replay(self, request, pk=None, delivery_pk=None):
        """Send a dead delivery's message once more, as one new delivery (at most once)."""
        delivery = get_object_or_404(Delivery, channel=self.get_object(), pk=delivery_pk)
        new = dead_letter.replay(delivery)
        if new is None:
            return Response({"detail": NOT_DEAD}, status=status.HTTP_409_CONFLICT)
        return _replayed([new])

    @extend_schema(request=None, responses={202: ReplaySerializer})
    @action(detail=True, methods=["post"], url_path="replay-dead")
    def replay_dead(self, request, pk=None):
        """Replay every dead delivery of the channel not replayed yet, each once."""
        return _replayed(dead_letter.replay_channel(self.get_object()))


def _replayed(deliveries: list[Delivery]) -> Response:
    body = {"replayed": len(deliveries), "deliveries": DeliverySerializer(deliveries, many=True).data}
    return Response(body, status=status.HTTP_202_ACCEPTED)
