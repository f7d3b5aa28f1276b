"""Uptime and latency figures over a window, overall and per region, read from rollups
(checks/figures/rollups.py): a window is whole hours or days, the current one included.

Ticks checked in a maintenance window count in none of the figures, only in
`maintenance_checks`: planned downtime is not downtime. The admin's column and the monitor
list follow the same rule.
"""

from datetime import datetime
from typing import Any

from django.db.models import Aggregate, FloatField, Q, Sum
from django.utils import timezone

from checks.figures import rollups
from checks.models import Gap
from monitors.models import Monitor, Region

WINDOWS = tuple(rollups.WINDOWS)


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


def _present(figures: rollups.Figures) -> dict[str, Any]:
    avg, p95 = figures.avg_response_time_ms, figures.response_time_percentile_ms(0.95)
    return {
        "uptime_percent": rollups.uptime_percent(figures.checks, figures.up),
        "checks": figures.checks,
        "maintenance_checks": figures.maintenance_checks,
        "avg_response_time_ms": round(avg, 1) if avg is not None else None,
        # Estimated from the response-time histogram: within 10% of the exact figure.
        "p95_response_time_ms": round(p95, 1) if p95 is not None else None,
    }


def uptime_summary(
    monitor: Monitor, window: str, now: datetime | None = None, per_region: dict[str, rollups.Figures] | None = None
) -> dict[str, Any]:
    """Figures for the monitor's ticks whose slot falls in `window`.

    Response times count only successful checks: a timeout's duration says nothing
    about how fast the site answers. `per_region` (region slug -> figures over the window:
    those with figures and the monitor's regions without any) is read here unless the
    caller has it already (the monitor page sums its Series).
    """
    now = now or timezone.now()
    if per_region is None:
        per_region_id = rollups.window_figures(monitor.pk, window, now)
        # The regions with figures, and the monitor's regions without any yet (shown empty).
        regions = Region.objects.filter(Q(pk__in=per_region_id) | Q(monitors=monitor)).distinct()
        per_region = {
            slug: per_region_id.get(region_id, rollups.Figures())
            for region_id, slug in regions.values_list("pk", "slug")
        }
    overall = rollups.Figures.sum_of(per_region.values())
    presented = {slug: _present(figures) for slug, figures in per_region.items()}
    # Slots nobody checked (our outage, not the site's) are counted apart: neither up nor down.
    missed = dict(
        Gap.objects.filter(monitor=monitor, starts_at__gte=rollups.window_start(window, now))
        .values_list("region__slug")
        .annotate(missed=Sum("slots_missed"))
        .values_list("region__slug", "missed")
    )
    for slug, shown in presented.items():
        shown["missed_slots"] = missed.get(slug, 0)
    summary = _present(overall)
    summary["missed_slots"] = sum(missed.values())
    return {"window": window, **summary, "regions": dict(sorted(presented.items()))}


def uptime_24h_annotation() -> dict[str, Any]:
    """Annotations giving each monitor's 24-hour check and up counts (`checks_24h`,
    `up_24h`: admin list, monitor API), maintenance ticks left out as in uptime_summary."""
    return rollups.uptime_24h_annotation(timezone.now())


def uptime_24h_percent(monitor: Any) -> float | None:  # a Monitor, annotated or not
    """A monitor's 24-hour uptime: from the annotations when the queryset has them, else
    one query."""
    if not hasattr(monitor, "checks_24h"):
        figures = rollups.window_figures(monitor.pk, "24h")
        return rollups.uptime_percent(sum(f.checks for f in figures.values()), sum(f.up for f in figures.values()))
    return rollups.uptime_percent(monitor.checks_24h, monitor.up_24h)
