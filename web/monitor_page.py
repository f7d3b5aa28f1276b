"""A monitor's page: response times and uptime over a window (from the rollups), its
incidents with their timelines, status changes, gaps (our outages, shown as ours), the
latest checks with their errors, the certificate's expiry and maintenance."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from accounts.actors import acting
from checks.figures.rollups import WINDOWS
from checks.figures.series import window_series
from checks.figures.stats import uptime_summary
from checks.models import Gap, Incident, RegionImpairment, StatusChange, Tick
from checks.state.certificates import tls_expiry_warning
from monitors.maintenance import monitor_maintenance
from monitors.models import Monitor

from .charts import response_time_chart
from .period_bars import uptime_bars

LATEST_TICKS = 50
LISTED = 20


def _incidents_with_timelines(monitor: Monitor, now) -> list[dict]:
    """The latest incidents, each with the status changes that happened while it was open."""
    incidents = list(Incident.objects.filter(monitor=monitor)[:LISTED])
    if not incidents:
        return []
    earliest = min(incident.started_at for incident in incidents)
    changes = list(StatusChange.objects.filter(monitor=monitor, changed_at__gte=earliest).order_by("changed_at", "id"))
    return [
        {
            "incident": incident,
            "duration_seconds": incident.duration_at(now),
            "timeline": [
                change
                for change in changes
                if incident.started_at <= change.changed_at <= (incident.resolved_at or now)
            ],
        }
        for incident in incidents
    ]


@login_required
def monitor_page(request: HttpRequest, pk: int) -> HttpResponse:
    # Another user's monitor does not exist here, as in the API.
    monitor = get_object_or_404(
        Monitor.objects.owned_by(acting(request).organization).prefetch_related("regions"), pk=pk
    )
    window = request.GET.get("window", "24h")
    if window not in WINDOWS:
        window = "24h"
    now = timezone.now()
    series = window_series(monitor.pk, window, now)
    occurrence = monitor_maintenance(monitor, now)
    context = {
        "monitor": monitor,
        "window": window,
        "windows": list(WINDOWS),
        "summary": uptime_summary(monitor, window, now, per_region=series.totals()),
        "response_chart": response_time_chart(series),
        "uptime_bars": uptime_bars(series),
        "incidents": _incidents_with_timelines(monitor, now),
        "status_changes": StatusChange.objects.filter(monitor=monitor)[:LISTED],
        "gaps": Gap.objects.filter(monitor=monitor).select_related("region")[:LISTED],
        # Its regions' own network failures (checks/state/impairments.py): the open ones
        # first, as a notice, then the latest.
        "impairments": list(
            RegionImpairment.objects.filter(region__monitors=monitor)
            .select_related("region")
            .order_by("-started_at", "-id")[:LISTED]
        ),
        "ticks": Tick.objects.filter(monitor=monitor).select_related("region")[:LATEST_TICKS],
        "maintenance": occurrence,
        "in_maintenance": occurrence is not None and occurrence.is_current(now),
        "tls_warning": tls_expiry_warning(monitor, now),
        "tls_days_left": (monitor.tls_expires_at - now) // timedelta(days=1) if monitor.tls_expires_at else None,
    }
    return render(request, "web/monitor.html", context)
