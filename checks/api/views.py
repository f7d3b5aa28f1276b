from django.conf import settings
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.crypto import constant_time_compare
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework import generics, permissions, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.actors import acting
from checks.api.serializers import (
    GapSerializer,
    HealthReportSerializer,
    IncidentFilterSerializer,
    IncidentSerializer,
    StatusChangeSerializer,
    TickFilterSerializer,
    TickSerializer,
    TimeRangeSerializer,
    UptimeQuerySerializer,
    UptimeSummarySerializer,
)
from checks.figures import metrics
from checks.figures.health import health_report
from checks.figures.stats import uptime_summary
from checks.models import Gap, Incident, StatusChange, Tick
from monitors.models import Monitor


def owned_monitor(request, pk) -> Monitor:
    return get_object_or_404(Monitor.objects.owned_by(acting(request).organization), pk=pk)


def in_time_range(queryset, field: str, filters: dict):
    """Keep the rows whose `field` lies within the validated `since` / `until`, if given."""
    if "since" in filters:
        queryset = queryset.filter(**{f"{field}__gte": filters["since"]})
    if "until" in filters:
        queryset = queryset.filter(**{f"{field}__lte": filters["until"]})
    return queryset


@extend_schema(parameters=[TickFilterSerializer])
class MonitorTicksView(generics.ListAPIView):
    """A monitor's ticks, newest first, filtered by region, status, maintenance and time."""

    serializer_class = TickSerializer

    def get_queryset(self):
        monitor = owned_monitor(self.request, self.kwargs["pk"])
        query = TickFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        ticks = Tick.objects.filter(monitor=monitor).select_related("region").order_by("-scheduled_at", "-id")
        if "region" in filters:
            ticks = ticks.filter(region=filters["region"])
        if "status" in filters:
            ticks = ticks.filter(status=filters["status"])
        if filters.get("in_maintenance") is not None:
            ticks = ticks.filter(in_maintenance=filters["in_maintenance"])
        return in_time_range(ticks, "scheduled_at", filters)


@extend_schema_view(list=extend_schema(parameters=[IncidentFilterSerializer]))
class IncidentViewSet(viewsets.ReadOnlyModelViewSet):
    """The organization's incidents, newest first: by monitor, open or resolved, and overlapping a
    time range. /api/monitors/{id}/incidents/ is the same list for one monitor."""

    serializer_class = IncidentSerializer
    # For the OpenAPI document: the type of {id}.
    queryset = Incident.objects.none()

    def get_queryset(self):
        organization = acting(self.request).organization
        incidents = Incident.objects.filter(monitor__organization=organization).select_related("monitor")
        if "monitor_pk" in self.kwargs:
            incidents = incidents.filter(monitor=owned_monitor(self.request, self.kwargs["monitor_pk"]))
        if self.action != "list":
            return incidents
        query = IncidentFilterSerializer(data=self.request.query_params, context={"request": self.request})
        query.is_valid(raise_exception=True)
        return filter_incidents(incidents, query.validated_data)


def filter_incidents(incidents, filters: dict):
    if "monitor" in filters:
        incidents = incidents.filter(monitor=filters["monitor"])
    if filters.get("state") == "open":
        incidents = incidents.filter(resolved_at__isnull=True)
    elif filters.get("state") == "resolved":
        incidents = incidents.filter(resolved_at__isnull=False)
    if "since" in filters:
        incidents = incidents.filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=filters["since"]))
    if "until" in filters:
        incidents = incidents.filter(started_at__lte=filters["until"])
    return incidents


@extend_schema(parameters=[TimeRangeSerializer])
class MonitorStatusChangesView(generics.ListAPIView):
    """A monitor's status changes, newest first: how long it has been down, how often it flaps."""

    serializer_class = StatusChangeSerializer

    def get_queryset(self):
        monitor = owned_monitor(self.request, self.kwargs["pk"])
        query = TimeRangeSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return in_time_range(StatusChange.objects.filter(monitor=monitor), "changed_at", query.validated_data)


class MonitorGapsView(generics.ListAPIView):
    """Runs of a monitor's slots that no check covered (our outage, not the site's)."""

    serializer_class = GapSerializer

    def get_queryset(self):
        monitor = owned_monitor(self.request, self.kwargs["pk"])
        return Gap.objects.filter(monitor=monitor).select_related("region")


class MonitorUptimeView(APIView):
    @extend_schema(
        description="Uptime and response times over a window, overall and per region.",
        parameters=[UptimeQuerySerializer],
        responses=UptimeSummarySerializer,
    )
    def get(self, request, pk):
        monitor = owned_monitor(request, pk)
        query = UptimeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(uptime_summary(monitor, query.validated_data["window"]))


class HealthView(APIView):
    """Open to all, for load balancers and operators: 503 when the database or broker is down."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(
        responses={
            200: OpenApiResponse(HealthReportSerializer, description="The database and the broker answer."),
            503: OpenApiResponse(HealthReportSerializer, description="The database or the broker is down."),
        }
    )
    def get(self, request):
        healthy, report = health_report()
        return Response(report, status=status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE)


def metrics_view(request):
    """Prometheus text format. Open unless METRICS_TOKEN is set, then a bearer token."""
    token = settings.METRICS_TOKEN
    if token and not constant_time_compare(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return HttpResponse("metrics need the bearer token\n", status=401, content_type="text/plain")
    return HttpResponse(metrics.render(), content_type=CONTENT_TYPE_LATEST)
