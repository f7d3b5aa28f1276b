from django.shortcuts import get_object_or_404
from django.urls import reverse
from rest_framework import generics, mixins, status, viewsets
from rest_framework.response import Response

from accounts.actors import acting
from statuspages import services
from statuspages.models import PageIncident, StatusPage, Subscriber
from uptime.api_views import CreatedLocationMixin

from .serializers import IncidentUpdateSerializer, PageIncidentSerializer, StatusPageSerializer, SubscriberSerializer


class StatusPageViewSet(CreatedLocationMixin, viewsets.ModelViewSet):
    serializer_class = StatusPageSerializer
    # For the OpenAPI document: the type of {id} (get_queryset needs the request's actor).
    queryset = StatusPage.objects.none()

    def get_queryset(self):
        return StatusPage.objects.owned_by(acting(self.request).organization).prefetch_related("sections__components")

    def perform_destroy(self, page):
        services.delete_page(page)


class _OnOwnedPage(generics.GenericAPIView):
    """Views under /api/status-pages/<page_pk>/: another user's page does not exist."""

    def page(self) -> StatusPage:
        if not hasattr(self, "_page"):
            self._page = get_object_or_404(
                StatusPage.objects.owned_by(acting(self.request).organization), pk=self.kwargs["page_pk"]
            )
        return self._page

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "page": self.page()}


class PageIncidentViewSet(
    _OnOwnedPage,
    CreatedLocationMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = PageIncidentSerializer

    def get_queryset(self):
        return PageIncident.objects.filter(page=self.page()).prefetch_related("updates", "components")

    def created_location(self, incident) -> str:
        return reverse("status-page-incident-detail", kwargs={"page_pk": incident.page_id, "pk": incident.pk})

    def perform_destroy(self, incident):
        slug = incident.page.slug
        incident.delete()
        services.forget_rendered(slug)


class IncidentUpdateCreateView(_OnOwnedPage, generics.CreateAPIView):
    """Post a timed update: the incident takes its status, subscribers are told."""

    serializer_class = IncidentUpdateSerializer

    def create(self, request, *args, **kwargs):
        incident = get_object_or_404(PageIncident, page=self.page(), pk=self.kwargs["pk"])
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        update = services.post_update(incident, **serializer.validated_data)
        return Response(self.get_serializer(update).data, status=status.HTTP_201_CREATED)


class SubscriberViewSet(
    _OnOwnedPage, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """The page's subscribers: its organization's members see them and its editors remove
    them, never add one (a visitor subscribes and confirms from the page)."""

    serializer_class = SubscriberSerializer

    def get_queryset(self):
        return Subscriber.objects.filter(page=self.page())

    def perform_destroy(self, subscriber):
        services.unsubscribe(subscriber.token)
