"""Tick partitions: the tick table is partitioned by slot (`scheduled_at`), one table per UTC
day, made ahead by the housekeeping worker (checks.create_tick_partitions) and dropped
whole by retention (checks/outcomes/retention.py), so old ticks go without a row deleted.

A DEFAULT partition takes any tick whose day has no partition (a slot years ago or far
ahead): a tick is never refused for its date. Making a day's partition moves that day's
rows out of the default partition first, in the same transaction.
"""

import logging
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.utils import OperationalError
from psycopg.errors import LockNotAvailable

logger = logging.getLogger(__name__)

TICK_TABLE = "checks_tick"
DEFAULT_PARTITION = "checks_tick_default"
PARTITION_PREFIX = "checks_tick_p"
# Days of partitions kept ready after today: three days of housekeeping outage before a
# tick lands in the default partition (where it is kept, and moved once its day's
# partition is made). Not more: a read of a monitor's latest ticks probes every
# partition, the empty ones ahead too.
DAYS_AHEAD = 3
# Any number that is the same in every process that makes or drops partitions: two
# housekeeping workers take turns rather than both making the same day's table.
PARTITION_LOCK_ID = 0x7570_7470  # "uptp"
# Attaching or dropping a partition takes a lock that waits for every open statement on
# the tick table and makes new ones wait behind it: give up after this and try again
# later, rather than stall the outcome writer behind a long read.
LOCK_TIMEOUT_MS = 3000
LOCK_ATTEMPTS = 5


def partition_name(day: date) -> str:
    return f"{PARTITION_PREFIX}{day:%Y%m%d}"


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def day_partitions(cursor) -> dict[date, str]:
    """The day partitions of the tick table, by day."""
    cursor.execute(
        """
        SELECT child.relname FROM pg_inherits
        JOIN pg_class child ON child.oid = pg_inherits.inhrelid
        WHERE pg_inherits.inhparent = %s::regclass AND child.relname LIKE %s
        """,
        [TICK_TABLE, PARTITION_PREFIX + "%"],
    )
    days = {}
    for (name,) in cursor.fetchall():
        suffix = name.removeprefix(PARTITION_PREFIX)
        if len(suffix) == 8 and suffix.isdigit():
            days[datetime.strptime(suffix, "%Y%m%d").date()] = name
    return days


def ensure_partitions(today: date | None = None, days_ahead: int = DAYS_AHEAD) -> list[str]:
    """Make the day partitions from `today` to `days_ahead` days after it that are missing;
    the names made. Idempotent, and safe when two workers run it at once."""
    today = today or datetime.now(UTC).date()
    return create_partitions(today, today + timedelta(days=days_ahead))


def create_partitions(first: date, last: date) -> list[str]:
    made = []
    day = first
    while day <= last:
        if _create_partition(day):
            made.append(partition_name(day))
        day += timedelta(days=1)
    return made


def _create_partition(day: date) -> bool:
    """Make one day's partition unless it exists, moving that day's ticks out of the
    default partition; True if it was made."""
    name = partition_name(day)
    starts, ends = day_start(day), day_start(day + timedelta(days=1))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PARTITION_LOCK_ID])
        if day in day_partitions(cursor):
            return False
        _set_lock_timeout(cursor)
        columns = columns_of(cursor)
        # A table of the tick table's shape (its NOT NULL and CHECK constraints are what
        # ATTACH requires), filled with the day's ticks that are in the default
        # partition, then attached: attaching takes only a SHARE UPDATE EXCLUSIVE lock on
        # the tick table, so the writer keeps inserting into the other partitions (CREATE
        # TABLE ... PARTITION OF would lock them all out). ATTACH builds the indexes and
        # checks the foreign keys, over the rows moved (none in the usual case).
        cursor.execute(f"CREATE TABLE {name} (LIKE {TICK_TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        cursor.execute(
            f"""
            WITH moved AS (
                DELETE FROM {DEFAULT_PARTITION} WHERE scheduled_at >= %s AND scheduled_at < %s RETURNING {columns}
            )
            INSERT INTO {name} ({columns}) SELECT {columns} FROM moved
            """,  # noqa: S608 - names made here, values as parameters
            [starts, ends],
        )
        cursor.execute(
            f"ALTER TABLE {TICK_TABLE} ATTACH PARTITION {name}"
            f" FOR VALUES FROM ('{starts.isoformat()}') TO ('{ends.isoformat()}')"
        )
    return True


def drop_partitions_before(cutoff: datetime) -> tuple[int, list[str]]:
    """Drop the day partitions whose every slot is older than `cutoff`; the ticks they
    held and their names. A partition that cannot be locked now (a long read holds it)
    is left for the next run."""
    dropped_ticks, dropped = 0, []
    with connection.cursor() as cursor:
        old = sorted(
            (day, name) for day, name in day_partitions(cursor).items() if day_start(day + timedelta(1)) <= cutoff
        )
    for _day, name in old:
        for attempt in range(LOCK_ATTEMPTS):
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PARTITION_LOCK_ID])
                    cursor.execute(f"SELECT count(*) FROM {name}")  # noqa: S608 - our own name
                    (ticks,) = cursor.fetchone()
                    _set_lock_timeout(cursor)
                    # DROP, not DETACH ... CONCURRENTLY: PostgreSQL refuses CONCURRENTLY on a
                    # table with a default partition, and a plain DETACH takes the same
                    # ACCESS EXCLUSIVE lock on the tick table as DROP, for as short a time.
                    cursor.execute(f"DROP TABLE {name}")
            except OperationalError as error:
                if not isinstance(error.__cause__, LockNotAvailable):
                    raise
                if attempt == LOCK_ATTEMPTS - 1:
                    logger.warning("left %s for the next run: the tick table stayed locked", name)
                    break
                continue
            dropped_ticks += ticks
            dropped.append(name)
            break
    return dropped_ticks, dropped


def _set_lock_timeout(cursor) -> None:
    cursor.execute(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}")


def columns_of(cursor, table: str = TICK_TABLE) -> str:
    """The table's columns, in order, for statements that copy ticks between tables."""
    cursor.execute(
        """
        SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
        WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped
        """,
        [table],
    )
    return cursor.fetchone()[0]
