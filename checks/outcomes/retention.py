"""Retention: ticks and rollups older than their settings are deleted, daily, by the
housekeeping worker (checks.prune_ticks). Rollups outlive the raw ticks."""

from datetime import timedelta

from django.utils import timezone

from checks.models import DailyRollup, HourlyRollup, Tick
from checks.outcomes.rollup_counts import day_of


def prune_ticks(retention_days: int, batch_size: int = 10_000) -> int:
    """Delete ticks older than the retention period; return how many went.

    In batches, so a first run over months of ticks never holds one huge lock or
    transaction while workers keep writing.
    """
    cutoff = timezone.now() - timedelta(days=retention_days)
    total = 0
    while True:
        batch = list(Tick.objects.filter(scheduled_at__lt=cutoff).values_list("pk", flat=True)[:batch_size])
        if not batch:
            return total
        deleted, _ = Tick.objects.filter(pk__in=batch).delete()
        total += deleted


def prune_rollups(hourly_retention_days: int, daily_retention_days: int, batch_size: int = 10_000) -> dict:
    """Delete hourly rollups older than their retention, and daily ones older than theirs
    (0: kept forever). In batches, like the ticks."""
    now = timezone.now()
    deleted = {"hourly": _delete_before(HourlyRollup, "hour", now - timedelta(days=hourly_retention_days), batch_size)}
    deleted["daily"] = 0
    if daily_retention_days:
        cutoff = day_of(now - timedelta(days=daily_retention_days))
        deleted["daily"] = _delete_before(DailyRollup, "day", cutoff, batch_size)
    return deleted


def _delete_before(model, field_name: str, cutoff, batch_size: int) -> int:
    total = 0
    while True:
        batch = list(model.objects.filter(**{f"{field_name}__lt": cutoff}).values_list("pk", flat=True)[:batch_size])
        if not batch:
            return total
        deleted, _ = model.objects.filter(pk__in=batch).delete()
        total += deleted
