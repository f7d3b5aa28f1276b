from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from accounts.actors import acting
from checks.figures.stats import uptime_24h_annotation
from monitors import services
from monitors.models import MaintenanceWindow, Monitor, Region
from uptime.api_views import CreatedLocationMixin
from uptime.openapi import error

from .bulk import BULK_ERRORS, MAX_BULK_MONITORS, BulkMonitorsSerializer
from .serializers import (
    MAX_PAGE_SIZE,
    MaintenanceWindowSerializer,
    MonitorFilterSerializer,
    MonitorSerializer,
    RegionSerializer,
)


class MonitorPagination(PageNumberPagination):
    # MonitorFilterSerializer has refused a bad page_size (400) before the page is cut.
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class RegionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    pagination_class = None


@extend_schema_view(
    create=extend_schema(
        responses={
            201: MonitorSerializer,
            403: error("The organization has as many monitors as its quota allows, or your role may not write."),
        }
    )
)
class MonitorViewSet(CreatedLocationMixin, viewsets.ModelViewSet):
    serializer_class = MonitorSerializer
    pagination_class = MonitorPagination
    # For the OpenAPI document: the type of {id} (get_queryset needs the request's actor).
    queryset = Monitor.objects.none()
    # Only "check now" is rate limited (it makes requests to someone's site on demand).
    throttle_scope = None

    def get_queryset(self):
        windows = MaintenanceWindow.objects.not_over(timezone.now())
        monitors = Monitor.objects.owned_by(acting(self.request).organization)
        if self.action == "list":
            query = MonitorFilterSerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            monitors = monitors.listed(**query.filters())
        return monitors.prefetch_related(
            "regions",
            "channels",
            Prefetch("parents", queryset=Monitor.objects.only("id")),
            Prefetch("maintenance_windows", queryset=windows),
        ).annotate(**uptime_24h_annotation())

    @extend_schema(parameters=[MonitorFilterSerializer])
    def list(self, request, *args, **kwargs):
        """Your monitors, filtered, searched and ordered by the query parameters."""
        return super().list(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.delete_monitor(instance)

    @extend_schema(
        request=None,
        description="Queue a check in every region of the monitor now, outside its schedule.",
        responses={
            202: inline_serializer("ChecksQueued", {"queued": serializers.ListField(child=serializers.SlugField())}),
            409: error("The monitor is paused."),
        },
    )
    @action(detail=True, methods=["post"], throttle_scope="check_now")
    def check(self, request, pk=None):
        monitor = self.get_object()
        if not monitor.is_active:
            return Response({"detail": "The monitor is paused; resume it first."}, status=status.HTTP_409_CONFLICT)
        regions = services.check_now(monitor)
        return Response({"queued": regions}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        # Each item is exactly a single create's body (BulkMonitorsSerializer judges it so).
        request=inline_serializer("BulkMonitorsRequest", {"monitors": MonitorSerializer(many=True)}),
        description=(
            f"Create up to {MAX_BULK_MONITORS} monitors, each as a single create takes it, all or none:"
            " a 400 lists, per item in order, its fields' messages (`{}` for a good one) and writes nothing."
            " Each monitor's first check comes within one interval, the batch spread over it."
        ),
        responses={
            201: inline_serializer(
                "MonitorsCreated",
                {"created": serializers.IntegerField(), "ids": serializers.ListField(child=serializers.IntegerField())},
            ),
            400: OpenApiResponse(
                BULK_ERRORS, description="Nothing written: a message per field of each item, in order."
            ),
            403: error("The monitors would pass the organization's quota, or your role may not write."),
        },
    )
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request):
        serializer = BulkMonitorsSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        monitors = serializer.save()
        # The ids in the order sent; the monitors themselves are a list request away.
        return Response({"created": len(monitors), "ids": [monitor.pk for monitor in monitors]}, status=201)

    @extend_schema(
        request=None,
        description="Give the monitor a new `badge_key`: its badge URLs with the old key answer 404 from now on.",
    )
    @action(detail=True, methods=["post"], url_path="rotate-badge-key")
    def rotate_badge_key(self, request, pk=None):
        monitor = services.rotate_badge_key(self.get_object())
        return Response(self.get_serializer(monitor).data)


class MaintenanceWindowViewSet(CreatedLocationMixin, viewsets.ModelViewSet):
    serializer_class = MaintenanceWindowSerializer
    # For the OpenAPI document: the type of {id} (get_queryset needs the request's actor).
    queryset = MaintenanceWindow.objects.none()

    def get_queryset(self):
        return MaintenanceWindow.objects.owned_by(acting(self.request).organization).prefetch_related("monitors")
