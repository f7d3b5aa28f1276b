"""Uptime and latency figures over a window, overall and per region.

Ticks checked in a maintenance window count in none of the figures, only in
`maintenance_checks`: planned downtime is not downtime. The admin's column follows the same rule.
"""

from datetime import timedelta

from django.db.models import Aggregate, Avg, Count, F, FloatField, Q, Sum
from django.utils import timezone

from .models import Gap, Tick

WINDOWS = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def _figure_expressions() -> dict:
    counted = Q(in_maintenance=False)
    up = counted & Q(status=Tick.Status.UP)
    return {
        "checks": Count("id", filter=counted),
        "up": Count("id", filter=up),
        "maintenance_checks": Count("id", filter=Q(in_maintenance=True)),
        "avg_response_time_ms": Avg("response_time_ms", filter=up),
        "p95_response_time_ms": Percentile(F("response_time_ms"), 0.95, filter=up),
    }


def _present(figures: dict) -> dict:
    checks = figures["checks"]
    avg, p95 = figures["avg_response_time_ms"], figures["p95_response_time_ms"]
    return {
        # No checks in the window is "unknown", not 0% or 100%.
        "uptime_percent": round(100.0 * figures["up"] / checks, 3) if checks else None,
        "checks": checks,
        "maintenance_checks": figures["maintenance_checks"],
        "avg_response_time_ms": round(avg, 1) if avg is not None else None,
        "p95_response_time_ms": round(p95, 1) if p95 is not None else None,
    }


def uptime_summary(monitor, window: str) -> dict:
    """Figures for the monitor's ticks whose slot falls in the last `window`.

    Response times count only successful checks: a timeout's duration says nothing
    about how fast the site answers.
    """
    since = timezone.now() - WINDOWS[window]
    ticks = Tick.objects.filter(monitor=monitor, scheduled_at__gte=since)
    per_region = {
        row["region__slug"]: _present(row) for row in ticks.values("region__slug").annotate(**_figure_expressions())
    }
    no_checks = {
        "checks": 0,
        "up": 0,
        "maintenance_checks": 0,
        "avg_response_time_ms": None,
        "p95_response_time_ms": None,
    }
    for slug in monitor.regions.values_list("slug", flat=True):
        per_region.setdefault(slug, _present(no_checks))
    overall = _present(ticks.aggregate(**_figure_expressions()))
    # Slots nobody checked (our outage, not the site's) are counted apart: neither up nor down.
    missed = dict(
        Gap.objects.filter(monitor=monitor, starts_at__gte=since)
        .values_list("region__slug")
        .annotate(missed=Sum("slots_missed"))
        .values_list("region__slug", "missed")
    )
    for slug, figures in per_region.items():
        figures["missed_slots"] = missed.get(slug, 0)
    overall["missed_slots"] = sum(missed.values())
    return {"window": window, **overall, "regions": dict(sorted(per_region.items()))}


def uptime_24h_annotation() -> dict:
    """Annotations giving each monitor's 24-hour check and up counts (admin list),
    maintenance ticks left out as in uptime_summary."""
    since = timezone.now() - WINDOWS["24h"]
    in_window = Q(ticks__scheduled_at__gte=since, ticks__in_maintenance=False)
    return {
        "checks_24h": Count("ticks", filter=in_window),
        "up_24h": Count("ticks", filter=in_window & Q(ticks__status=Tick.Status.UP)),
    }
