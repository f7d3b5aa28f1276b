from django.db.models import Prefetch
from django.utils import timezone
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from checks.stats import uptime_24h_annotation
from monitors import services
from monitors.models import MaintenanceWindow, Monitor, Region

from .serializers import MaintenanceWindowSerializer, MonitorSerializer, RegionSerializer


class RegionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    pagination_class = None


class MonitorViewSet(viewsets.ModelViewSet):
    serializer_class = MonitorSerializer
    # Only "check now" is rate limited (it makes requests to someone's site on demand).
    throttle_scope = None

    def get_queryset(self):
        windows = MaintenanceWindow.objects.not_over(timezone.now())
        return (
            Monitor.objects.owned_by(self.request.user)
            .prefetch_related("regions", "channels", Prefetch("maintenance_windows", queryset=windows))
            .annotate(**uptime_24h_annotation())
        )

    def perform_destroy(self, instance):
        services.delete_monitor(instance)

    @action(detail=True, methods=["post"], throttle_scope="check_now")
    def check(self, request, pk=None):
        monitor = self.get_object()
        if not monitor.is_active:
            return Response({"detail": "The monitor is paused; resume it first."}, status=status.HTTP_409_CONFLICT)
        regions = services.check_now(monitor)
        return Response({"queued": regions}, status=status.HTTP_202_ACCEPTED)


class MaintenanceWindowViewSet(viewsets.ModelViewSet):
    serializer_class = MaintenanceWindowSerializer

    def get_queryset(self):
        return MaintenanceWindow.objects.owned_by(self.request.user).prefetch_related("monitors")
