"""The figures computed from raw ticks, as before rollups: kept here only to compare with."""

from django.db.models import Avg, Count, F, Q, Sum

from checks.figures import rollups
from checks.figures.stats import Percentile
from checks.models import Gap, Tick


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
    avg, p95 = figures["avg_response_time_ms"], figures["p95_response_time_ms"]
    return {
        "uptime_percent": rollups.uptime_percent(figures["checks"], figures["up"]),
        "checks": figures["checks"],
        "maintenance_checks": figures["maintenance_checks"],
        "avg_response_time_ms": round(avg, 1) if avg is not None else None,
        "p95_response_time_ms": round(p95, 1) if p95 is not None else None,
    }


def uptime_summary(monitor, window: str) -> dict:
    """Same response as checks.figures.stats.uptime_summary, over the same (whole-hour/day) window."""
    since = rollups.window_start(window)
    ticks = Tick.objects.filter(monitor=monitor, scheduled_at__gte=since)
    per_region = {
        row["region__slug"]: _present(row) for row in ticks.values("region__slug").annotate(**_figure_expressions())
    }
    overall = _present(ticks.aggregate(**_figure_expressions()))
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
    """Each monitor's 24h check and up counts by joining its ticks (the admin's old way)."""
    in_window = Q(ticks__scheduled_at__gte=rollups.window_start("24h"), ticks__in_maintenance=False)
    return {
        "checks_24h": Count("ticks", filter=in_window),
        "up_24h": Count("ticks", filter=in_window & Q(ticks__status=Tick.Status.UP)),
    }
