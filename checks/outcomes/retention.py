"""Retention: ticks and rollups older than their settings are removed, daily, by the
housekeeping worker (checks.prune_ticks). Rollups outlive the raw ticks."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from checks.models import DailyRollup, DayTotal, HourlyRollup
from checks.outcomes import partitions
from checks.outcomes.rollup_counts import day_of


def prune_ticks(retention_days: int, batch_size: int = 10_000) -> int:
    """Remove ticks older than the retention period; return how many went.

    Whole days go at once: each day partition whose every slot is older than the cutoff
    is dropped (checks/outcomes/partitions.py), with no row deleted and nothing left for
    vacuum. A day partition that holds the cutoff waits for the next run, so a tick is
    kept up to a day longer than the setting. Ticks in the default partition (days that
    have no partition) older than the cutoff are deleted in batches, so a run never
    holds one huge lock or transaction while the writer keeps inserting.
    """
    cutoff = timezone.now() - timedelta(days=retention_days)
    total, _ = partitions.drop_partitions_before(cutoff)
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                DELETE FROM {partitions.DEFAULT_PARTITION} WHERE ctid = ANY(ARRAY(
                    SELECT ctid FROM {partitions.DEFAULT_PARTITION} WHERE scheduled_at < %s LIMIT %s
                ))
                """,  # noqa: S608 - a name of ours, values as parameters
                [cutoff, batch_size],
            )
            deleted = cursor.rowcount
        if not deleted:
            return total
        total += deleted


def prune_rollups(hourly_retention_days: int, daily_retention_days: int, batch_size: int = 10_000) -> dict:
    """Delete hourly rollups older than their retention, and daily ones and the day totals
    older than theirs (0: kept forever). In batches, like the ticks."""
    now = timezone.now()
    deleted = {"hourly": _delete_before(HourlyRollup, "hour", now - timedelta(days=hourly_retention_days), batch_size)}
    deleted["daily"] = deleted["day_totals"] = 0
    if daily_retention_days:
        cutoff = day_of(now - timedelta(days=daily_retention_days))
        deleted["daily"] = _delete_before(DailyRollup, "day", cutoff, batch_size)
        deleted["day_totals"] = _delete_day_totals_before(cutoff, batch_size)
    return deleted


def _delete_day_totals_before(cutoff, batch_size: int) -> int:
    # Keyed by (monitor, day), with no id: a batch of 10,000 keys in `pk__in` is an expression
    # too deep for PostgreSQL, so a batch goes by row address, as the default partition's
    # ticks do. Finding them needs no index of their own (checks.models.DayTotal).
    table = DayTotal._meta.db_table
    total = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                DELETE FROM {table} WHERE ctid = ANY(ARRAY(
                    SELECT ctid FROM {table} WHERE day < %s LIMIT %s
                ))
                """,  # noqa: S608 - a name of ours, values as parameters
                [cutoff, batch_size],
            )
            deleted = cursor.rowcount
        if not deleted:
            return total
        total += deleted


def _delete_before(model, field_name: str, cutoff, batch_size: int) -> int:
    total = 0
    while True:
        batch = list(model.objects.filter(**{f"{field_name}__lt": cutoff}).values_list("pk", flat=True)[:batch_size])
        if not batch:
            return total
        deleted, _ = model.objects.filter(pk__in=batch).delete()
        total += deleted
