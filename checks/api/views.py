from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from checks.health import health_report
from checks.models import Tick
from checks.stats import uptime_summary
from monitors.models import Monitor

from .serializers import (
    HealthReportSerializer,
    TickFilterSerializer,
    TickSerializer,
    UptimeQuerySerializer,
    UptimeSummarySerializer,
)


def owned_monitor(request, pk) -> Monitor:
    return get_object_or_404(Monitor.objects.owned_by(request.user), pk=pk)


@extend_schema(parameters=[TickFilterSerializer])
class MonitorTicksView(generics.ListAPIView):
    """A monitor's ticks, newest first, filtered by region, status and time."""

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
        if "since" in filters:
            ticks = ticks.filter(scheduled_at__gte=filters["since"])
        if "until" in filters:
            ticks = ticks.filter(scheduled_at__lte=filters["until"])
        return ticks


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
