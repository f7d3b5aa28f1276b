"""Small factories: a monitor made through the same domain function the API uses."""

from datetime import datetime, timedelta

from checks.models import Tick
from checks.outcomes.rollup_counts import count_ticks
from monitors.models import Monitor, Region
from monitors.services import create_monitor


def make_monitor(owner, url: str, regions=("india",), **fields) -> Monitor:
    settings = {"name": "site", "interval_seconds": 60, "timeout_seconds": 2, "retries": 0, "retry_interval_seconds": 1}
    settings.update(fields)
    return create_monitor(owner, Region.objects.filter(slug__in=regions), url=url, **settings)


def make_tick(
    monitor, region: str, scheduled_at: datetime, status="up", response_time_ms=100, late=timedelta(0)
) -> Tick:
    """A recorded check of one slot, as a worker would write it, counted into its rollups
    (`late`: start after the slot)."""
    tick = Tick.objects.create(
        monitor=monitor,
        region=Region.objects.get(slug=region),
        status=status,
        status_code=200 if status == "up" else 500,
        response_time_ms=response_time_ms,
        error="" if status == "up" else "unexpected status 500",
        scheduled_at=scheduled_at,
        checked_at=scheduled_at + late,
    )
    count_ticks([tick])
    return tick
