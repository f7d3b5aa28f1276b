"""The tick table for the tick storage benchmarks (bench/tick_storage.py,
bench/tick_storage_week.py): monitors to own ticks, the single table of before or day
partitions, ticks put in by bulk SQL or by the outcome writer's statement, and sizes."""

import secrets
import statistics
import time
from datetime import datetime, timedelta
from importlib import import_module

from .served import percentile

WRITER_BATCH = 500  # checks/outcomes/writer.py BATCH_SIZE
OLD_PRUNE_BATCH = 10_000  # the batch of the row-by-row retention of before

# One tick per monitor per minute, in slot order as they arrive; 0.5% down.
FILL_SQL = """
INSERT INTO checks_tick (monitor_id, region_id, status, status_code, response_time_ms, error,
                         attempts, scheduled_at, checked_at, in_maintenance)
SELECT m, %(region)s, CASE WHEN up THEN 'up' ELSE 'down' END, CASE WHEN up THEN 200 ELSE 503 END,
       CASE WHEN up THEN 40 + (m * 7 + extract(epoch FROM s)::bigint) %% 600 END,
       CASE WHEN up THEN '' ELSE 'unexpected status 503' END, 1, s, s + interval '120 milliseconds', false
FROM generate_series(%(first)s::timestamptz, %(last)s::timestamptz, interval '60 seconds') AS s,
     LATERAL (SELECT m, random() >= 0.005 AS up FROM unnest(%(monitors)s::bigint[]) AS m) AS checked
"""


def sizes(cursor) -> dict:
    """Rows, and bytes of the heap and each index of the tick table (summed over its
    partitions), per tick."""
    cursor.execute("SELECT count(*) FROM checks_tick")
    (rows,) = cursor.fetchone()
    cursor.execute(
        """
        WITH tables AS (
            SELECT 'checks_tick'::regclass AS table_oid
            UNION ALL SELECT inhrelid FROM pg_inherits WHERE inhparent = 'checks_tick'::regclass
        )
        SELECT 'heap', sum(pg_relation_size(table_oid) + COALESCE(pg_relation_size(c.reltoastrelid), 0))
        FROM tables JOIN pg_class c ON c.oid = table_oid
        UNION ALL
        SELECT COALESCE(parent.relname, index_class.relname), sum(pg_relation_size(i.indexrelid))
        FROM tables JOIN pg_index i ON i.indrelid = table_oid
        JOIN pg_class index_class ON index_class.oid = i.indexrelid
        LEFT JOIN pg_inherits up ON up.inhrelid = i.indexrelid
        LEFT JOIN pg_class parent ON parent.oid = up.inhparent
        GROUP BY 1
        """
    )
    parts = {name: int(size) for name, size in cursor.fetchall()}
    total = sum(parts.values())
    return {
        "rows": rows,
        "bytes": parts,
        "total_bytes": total,
        "bytes_per_tick": {name: round(size / rows, 1) for name, size in parts.items()}
        | {"total": round(total / rows, 1)},
    }


def insert_ticks(cursor, monitor_ids: list[int], region_id: int, first: datetime, last: datetime) -> None:
    """The ticks of every monitor for every minute from first to last, two hours a
    statement (each its own transaction outside an atomic block)."""
    at = first
    while at <= last:
        upto = min(at + timedelta(hours=2) - timedelta(seconds=60), last)
        cursor.execute(FILL_SQL, {"region": region_id, "first": at, "last": upto, "monitors": monitor_ids})
        at = upto + timedelta(seconds=60)


def fill(cursor, monitor_ids: list[int], region_id: int, first: datetime, last: datetime) -> dict:
    """The ticks of every monitor for every minute from first to last, into the plain table
    with its indexes and constraints dropped first and made again after (as a restore
    would), so the fill is quick and the indexes as compact as built ones."""
    cursor.execute(
        """
        SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid = 'checks_tick'::regclass AND contype IN ('p', 'u', 'f') ORDER BY contype DESC
        """
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'checks_tick'::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = i.indexrelid)
        """
    )
    indexes = cursor.fetchall()
    for name, _ in constraints:
        cursor.execute(f"ALTER TABLE checks_tick DROP CONSTRAINT {name}")
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    started = time.perf_counter()
    insert_ticks(cursor, monitor_ids, region_id, first, last)
    insert_seconds = time.perf_counter() - started
    cursor.execute("SET maintenance_work_mem = '256MB'")
    started = time.perf_counter()
    for name, definition in constraints:
        cursor.execute(f"ALTER TABLE checks_tick ADD CONSTRAINT {name} {definition}")
    for _, definition in indexes:
        cursor.execute(definition)
    cursor.execute("VACUUM ANALYZE checks_tick")
    return {"insert_seconds": round(insert_seconds, 1), "index_seconds": round(time.perf_counter() - started, 1)}


def writer_rate(monitor_ids: list[int], region_id: int, first_slot: datetime, batches: int) -> dict:
    """Ticks a second through the outcome writer's INSERT ... ON CONFLICT, in its batches,
    each committed on its own, for new slots (as the writer sees them)."""
    from django.db import connection, transaction

    from checks.outcomes.batch_rows import rows_json

    # The statement alone, private as it is: record_outcomes, its public caller, also counts
    # rollups and decides statuses, the same work in both layouts, which would hide the
    # difference the layout makes.
    from checks.outcomes.recording import _INSERT_TICKS_SQL

    per_slot = len(monitor_ids) // WRITER_BATCH
    samples = []
    for n in range(batches):
        slot = first_slot + timedelta(minutes=n // per_slot)
        chunk = monitor_ids[(n % per_slot) * WRITER_BATCH : (n % per_slot + 1) * WRITER_BATCH]
        rows = [
            {
                "monitor_id": m,
                "region_id": region_id,
                "scheduled_at": slot,
                "status": "up",
                "status_code": 200,
                "response_time_ms": 80 + m % 300,
                "error": "",
                "attempts": 1,
                "checked_at": slot,
                "in_maintenance": False,
                "tls_expires_at": None,
            }
            for m in chunk
        ]
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_INSERT_TICKS_SQL, [rows_json(rows)])
            assert len(cursor.fetchall()) == len(rows)
        samples.append(time.perf_counter() - started)
    return {
        "batches": batches,
        "batch_ms_p50": round(statistics.median(samples) * 1000, 2),
        "batch_ms_p95": round(percentile(samples, 0.95) * 1000, 2),
        "ticks_per_second": round(batches * WRITER_BATCH / sum(samples)),
    }


def add_monitors(count: int):
    """`count` monitors of one user's organization, checked every 60 s from india: the
    user, the region and the monitors' ids in order."""
    from accounts.models import User
    from monitors.models import Monitor, Region

    from .organizations import personal_organization

    india = Region.objects.get(slug="india")
    owner = User.objects.create_user(email="ticks@example.com", password=secrets.token_urlsafe())
    organization = personal_organization(owner)
    made = Monitor.objects.bulk_create(
        (
            Monitor(organization=organization, name=f"site {n}", url=f"https://site{n}.example/", interval_seconds=60)
            for n in range(count)
        ),
        batch_size=5000,
    )
    Monitor.regions.through.objects.bulk_create(
        (Monitor.regions.through(monitor=m, region=india) for m in made), batch_size=5000
    )
    return owner, india, sorted(m.pk for m in made)


# The migration that made the partitions: its two directions make the tick table of before
# and turn it into partitions again. `migrate checks 0007` would also undo the migrations
# after it, whose tables today's pages read.
PARTITIONING_MIGRATION = ("checks", "0008_partitioned_ticks")


def tick_table_of_before() -> None:
    """Turn the (empty) partitioned tick table into the single table of checks 0007."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    migration = import_module(".".join((PARTITIONING_MIGRATION[0], "migrations", PARTITIONING_MIGRATION[1])))
    before = MigrationExecutor(connection).loader.project_state(("checks", "0007_build_rollups")).apps
    with connection.schema_editor() as editor:
        migration.unpartition_ticks(before, editor)


def partition_tick_table() -> float:
    """Run the migration's own forward step on the tick table; the seconds it took."""
    from django.db import connection

    migration = import_module(".".join((PARTITIONING_MIGRATION[0], "migrations", PARTITIONING_MIGRATION[1])))
    started = time.perf_counter()
    with connection.schema_editor() as editor:
        migration.partition_ticks(None, editor)
    return time.perf_counter() - started
