from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from notifications import services
from notifications.models import Channel, Delivery
from uptime.api_views import CreatedLocationMixin

from .serializers import ChannelSerializer, DeliverySerializer


class ChannelViewSet(CreatedLocationMixin, viewsets.ModelViewSet):
    serializer_class = ChannelSerializer
    # Only the test message is rate limited: it makes us post or mail on demand.
    throttle_scope = None

    def get_queryset(self):
        return Channel.objects.owned_by(self.request.user).prefetch_related("monitors")

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
            Delivery.objects.filter(channel=channel).order_by("-created_at", "-id").prefetch_related("attempts_log")
        )
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)
