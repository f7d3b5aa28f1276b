"""The last checks of many monitors at once, for the dashboard's check bars and sparklines:
one query whatever the number of monitors."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from django.db import connection

from checks.models import Tick
from monitors.models import Region


@dataclass(frozen=True, slots=True)
class RecentTick:
    scheduled_at: datetime
    status: str  # a Tick.Status value
    region_slug: str
    response_time_ms: int | None
    status_code: int | None
    error: str
    in_maintenance: bool


# Per monitor, one backward walk of the tick_one_per_slot index (monitor, slot, region) in
# each day partition, merged, stopped after `count` rows: the cost grows with monitors ×
# (count + partitions), never with the ticks stored. The ids go as one array parameter
# (uptime/lookups.py says why, not an IN list).
# Table names are the models', not input.
#
# Measured at 1,000 monitors × 30 ticks (of 1,440 stored each):
# - The walk is in the index's order alone. Also breaking ties between one slot's ticks in
#   several regions by id made PostgreSQL sort each monitor's rows (an incremental sort), a
#   quarter more of its time. So where the `count`-th tick shares its slot with another, which
#   of them is kept is the index's choice; the ticks kept are ordered here by slot, then region.
# - No ORDER BY around the join: sorting the 30,000 rows took PostgreSQL half as long again as
#   the rest of the query; each monitor's rows are sorted here instead, a few µs each.
# - scheduled_at comes as UTC text, made into a datetime by fromisoformat: Django loads a
#   timestamptz through a Python subclass of psycopg's loader that parses it with a regex
#   (fetching the rows took 5 times as long), and a naive `timestamp` made aware with
#   replace() costs about 2 µs a value. The text, always in UTC, sorts as the times do.
_LATEST_TICKS_SQL = f"""
SELECT wanted.id, (tick.scheduled_at AT TIME ZONE 'UTC')::text || '+00:00', tick.status, region.slug,
    tick.response_time_ms, tick.status_code, tick.error, tick.in_maintenance
FROM unnest(%(ids)s::bigint[]) AS wanted(id)
JOIN LATERAL (
    SELECT scheduled_at, status, region_id, response_time_ms, status_code, error, in_maintenance
    FROM {Tick._meta.db_table}
    WHERE monitor_id = wanted.id
    ORDER BY scheduled_at DESC
    LIMIT %(count)s
) AS tick ON true
JOIN {Region._meta.db_table} AS region ON region.id = tick.region_id
"""  # noqa: S608

_BY_SLOT = itemgetter(1, 3)  # scheduled_at, then the region's slug


def latest_ticks(monitor_ids: Sequence[int], count: int = 30) -> dict[int, list[RecentTick]]:
    """Each monitor's last `count` ticks (by slot), oldest first; every id asked for is a key,
    with an empty list where the monitor has no ticks."""
    rows_of: dict[int, list[tuple[Any, ...]]] = {monitor_id: [] for monitor_id in monitor_ids}
    if rows_of and count > 0:
        with connection.cursor() as cursor:
            cursor.execute(_LATEST_TICKS_SQL, {"ids": list(rows_of), "count": count})
            for row in cursor.fetchall():
                rows_of[row[0]].append(row)
    return {monitor_id: _oldest_first(rows) for monitor_id, rows in rows_of.items()}


def _oldest_first(rows: list[tuple[Any, ...]]) -> list[RecentTick]:
    return [
        RecentTick(datetime.fromisoformat(at), status, slug, response_time_ms, status_code, error, in_maintenance)
        for _, at, status, slug, response_time_ms, status_code, error, in_maintenance in sorted(rows, key=_BY_SLOT)
    ]
