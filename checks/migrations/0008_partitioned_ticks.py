"""Store ticks in day partitions (checks/outcomes/partitions.py), keeping every stored tick
and the id sequence.

The tick table is rebuilt: a partitioned table of the same columns is made, with a day
partition for each day of the retention period that has ticks, for today and the days
ahead, and a default partition for the rest; the ticks are copied, the old table is
dropped and the new one takes its name; then its indexes and constraints are built.
The database's primary key becomes (id, scheduled_at), as PostgreSQL requires of a
partitioned table (ids still come from one sequence, so Django keeps `id` as the key),
and the indexes are slimmed (INDEXES below).

It holds an ACCESS EXCLUSIVE lock on the tick table throughout: tick writes and reads
wait (3.6–4.7 s per million ticks on the benchmark machine, docs/benchmarks.md). Stop
the housekeeping worker for the upgrade: the checks' outcomes wait in the spool
(docs/operations.md, "Upgrading a large tick table").
"""

from datetime import UTC, datetime, time, timedelta

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TICK_TABLE = "checks_tick"
NEW_TABLE = "checks_tick_partitioned"
# Built after the copy. The slot rule leads with the monitor and slot, so it also serves
# what tick_monitor_recent (monitor, -scheduled_at) served; that index and the foreign
# keys' single-column indexes are gone (bytes per tick measured in docs/benchmarks.md).
INDEXES = (
    f"ALTER TABLE {TICK_TABLE} ADD CONSTRAINT checks_tick_pkey PRIMARY KEY (id, scheduled_at)",
    f"ALTER TABLE {TICK_TABLE} ADD CONSTRAINT tick_one_per_slot UNIQUE (monitor_id, scheduled_at, region_id)",
    f"CREATE INDEX tick_scheduled_brin ON {TICK_TABLE} USING brin (scheduled_at)",
)


# As checks/outcomes/partitions.py names and bounds partitions today, copied so that this
# migration does what it did whatever that module becomes.
DEFAULT_PARTITION = "checks_tick_default"
PARTITION_PREFIX = "checks_tick_p"
DAYS_AHEAD = 3


def partition_name(day) -> str:
    return f"{PARTITION_PREFIX}{day:%Y%m%d}"


def day_start(day) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def columns_of(cursor, table: str = TICK_TABLE) -> str:
    cursor.execute(
        "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute"
        " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        [table],
    )
    return cursor.fetchone()[0]


def partition_ticks(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        # A table with foreign key checks pending cannot be dropped: run any now (ticks
        # written earlier in the same transaction, as a test does).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"LOCK TABLE {TICK_TABLE} IN ACCESS EXCLUSIVE MODE")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        # The foreign keys are made again as they were, under their names.
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass"
            " AND contype = 'f' ORDER BY conname",
            [TICK_TABLE],
        )
        foreign_keys = cursor.fetchall()
        cursor.execute(f"SELECT min(scheduled_at), max(id) FROM {TICK_TABLE}")  # noqa: S608
        earliest, max_id = cursor.fetchone()
        next_id = _next_id(cursor, max_id)
        columns = columns_of(cursor)

        cursor.execute(
            f"CREATE TABLE {NEW_TABLE} (LIKE {TICK_TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            " PARTITION BY RANGE (scheduled_at)"
        )
        # LIKE leaves the identity out: the ids come from a plain sequence below.
        cursor.execute(f"ALTER TABLE {NEW_TABLE} ALTER COLUMN id DROP DEFAULT")
        today = datetime.now(UTC).date()
        first = today
        if earliest is not None:
            # Older ticks than retention keeps go to the default partition, where the
            # next retention run deletes them.
            first = max(earliest.date(), today - timedelta(days=settings.TICK_RETENTION_DAYS + 1))
            first = min(first, today)
        last = today + timedelta(days=DAYS_AHEAD)
        day = first
        while day <= last:
            starts, ends = day_start(day), day_start(day + timedelta(days=1))
            cursor.execute(
                f"CREATE TABLE {partition_name(day)} PARTITION OF {NEW_TABLE}"
                f" FOR VALUES FROM ('{starts.isoformat()}') TO ('{ends.isoformat()}')"
            )
            day += timedelta(days=1)
        cursor.execute(f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF {NEW_TABLE} DEFAULT")

        # Copied before any index exists: building each index once is faster than
        # growing it row by row.
        cursor.execute(f"INSERT INTO {NEW_TABLE} ({columns}) SELECT {columns} FROM {TICK_TABLE}")  # noqa: S608
        cursor.execute(f"DROP TABLE {TICK_TABLE}")
        cursor.execute(f"ALTER TABLE {NEW_TABLE} RENAME TO {TICK_TABLE}")
        cursor.execute(f"CREATE SEQUENCE {TICK_TABLE}_id_seq AS bigint START WITH {next_id} OWNED BY {TICK_TABLE}.id")
        cursor.execute(f"ALTER TABLE {TICK_TABLE} ALTER COLUMN id SET DEFAULT nextval('{TICK_TABLE}_id_seq')")
        for definition in INDEXES:
            cursor.execute(definition)
        for name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {TICK_TABLE} ADD CONSTRAINT {name} {definition}")
        cursor.execute(f"ANALYZE {TICK_TABLE}")


def _next_id(cursor, max_id: int | None) -> int:
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TICK_TABLE])
    (sequence,) = cursor.fetchone()
    cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608 - the table's own sequence
    last_value, is_called = cursor.fetchone()
    return max(last_value + 1 if is_called else last_value, (max_id or 0) + 1)


def unpartition_ticks(apps, schema_editor):
    """Back to one plain table, as `0007` left it, keeping the ticks and the sequence."""
    tick = apps.get_model("checks", "Tick")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"LOCK TABLE {TICK_TABLE} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"SELECT last_value, is_called FROM {TICK_TABLE}_id_seq")  # noqa: S608
        last_value, is_called = cursor.fetchone()
        cursor.execute(f"ALTER TABLE {TICK_TABLE} RENAME TO {NEW_TABLE}")
        # The new table needs the index and constraint names: the partitioned table's go.
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f')",
            [NEW_TABLE],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"ALTER TABLE {NEW_TABLE} DROP CONSTRAINT {name}")
        cursor.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass",
            [NEW_TABLE],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP INDEX {name}")
        cursor.execute(f"ALTER SEQUENCE {TICK_TABLE}_id_seq RENAME TO {NEW_TABLE}_id_seq")
    schema_editor.create_model(tick)
    with schema_editor.connection.cursor() as cursor:
        columns = columns_of(cursor, NEW_TABLE)
        cursor.execute(
            f"INSERT INTO {TICK_TABLE} ({columns}) OVERRIDING SYSTEM VALUE SELECT {columns} FROM {NEW_TABLE}"  # noqa: S608
        )
        cursor.execute(f"DROP TABLE {NEW_TABLE}")
        if is_called:
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [TICK_TABLE, last_value])


class Migration(migrations.Migration):
    dependencies = [("checks", "0007_build_rollups")]

    operations = [
        migrations.RunPython(partition_ticks, unpartition_ticks),
        # The database's side was done above.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="tick",
                    name="monitor",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="ticks",
                        to="monitors.monitor",
                    ),
                ),
                migrations.AlterField(
                    model_name="tick",
                    name="region",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="ticks",
                        to="monitors.region",
                    ),
                ),
                migrations.RemoveIndex(model_name="tick", name="tick_monitor_recent"),
                migrations.RemoveConstraint(model_name="tick", name="tick_one_per_slot"),
                migrations.AddConstraint(
                    model_name="tick",
                    constraint=models.UniqueConstraint(
                        fields=("monitor", "scheduled_at", "region"), name="tick_one_per_slot"
                    ),
                ),
            ]
        ),
    ]
