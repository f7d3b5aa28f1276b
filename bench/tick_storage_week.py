"""Tick storage over a week of retention, measured: days pass, each fills a day of ticks and
then runs retention as production does, in the plain table of before and in day partitions.

    .venv/bin/python -m bench.tick_storage_week [--monitors 2000] [--days 8] [--retention-days 3]

Starts its own throwaway PostgreSQL and Valkey (uptime.embedded), autovacuum on as in
production. The plain table of before (checks 0007) first: each simulated day puts a day
of ticks in (bulk SQL, every index kept up to date as the writer's inserts keep them),
times the outcome writer's statement on the table as it is, then, at the day's end,
deletes the ticks older than the retention 10,000 by id per statement (the `prune_ticks`
of before) and waits for autovacuum to have vacuumed the table, as it has a day to in
production. Then the same days again in day partitions (checks 0008, on the emptied
table): `checks.outcomes.partitions.ensure_partitions` at the day's start and
`checks.outcomes.retention.prune_ticks` at its end, with the clock at that midnight.
Records per day: table and index bytes, dead tuples, retention's time, the writer's rate.
Prints a table; writes bench/results/tick-storage-week-<time>.json. At 2,000 monitors
(2.9 million ticks a day) about 50 minutes and 4 GB of disk; the figures are per tick.
"""

import argparse
import sys
import time
from datetime import UTC, date, datetime, timedelta
from unittest import mock

from .served import report_head, say, served_process, write_report
from .tick_tables import (
    OLD_PRUNE_BATCH,
    WRITER_BATCH,
    add_monitors,
    insert_ticks,
    partition_tick_table,
    sizes,
    tick_table_of_before,
    writer_rate,
)

# The tick table's statistics, its partitions summed.
TICK_TABLES_SQL = """
    SELECT COALESCE(sum(n_dead_tup), 0), COALESCE(sum(n_live_tup), 0), COALESCE(sum(autovacuum_count), 0),
           count(*) FILTER (WHERE relid IN (SELECT relid FROM pg_stat_progress_vacuum))
    FROM pg_stat_user_tables
    WHERE relid = 'checks_tick'::regclass
       OR relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'checks_tick'::regclass)
"""


def vacuum_state(cursor) -> dict:
    """Dead and live tuples of the tick table (its partitions summed), autovacuum runs so
    far and vacuums running now."""
    # Our own DELETEs' counts reach the statistics at the next flush: force it.
    cursor.execute("SELECT pg_stat_force_next_flush()")
    cursor.execute(TICK_TABLES_SQL)
    dead, live, autovacuums, running = cursor.fetchone()
    return {"dead": int(dead), "live": int(live), "autovacuums": int(autovacuums), "running": int(running)}


def delete_by_id(cursor, cutoff: datetime) -> dict:
    """Retention of before: the ids of ticks older than the cutoff, 10,000 at a time, then
    DELETE by id, each batch its own transaction, until none is left."""
    deleted, statements = 0, 0
    started = time.perf_counter()
    while True:
        cursor.execute("SELECT id FROM checks_tick WHERE scheduled_at < %s LIMIT %s", [cutoff, OLD_PRUNE_BATCH])
        ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            break
        cursor.execute("DELETE FROM checks_tick WHERE id = ANY(%s)", [ids])
        deleted += cursor.rowcount
        statements += 1
    return {"deleted": deleted, "statements": statements, "seconds": round(time.perf_counter() - started, 1)}


def wait_for_autovacuum(cursor, before: dict, deleted: int, timeout_seconds: float) -> dict:
    """Wait until nearly no dead tuple is left, or an autovacuum has finished since the
    DELETEs and none runs (one that began during them may leave some: then what is left
    waits, as in production, until enough dead tuples gather for the next); how long it
    took and what is left."""
    started = time.perf_counter()
    while True:
        state = vacuum_state(cursor)
        waited = time.perf_counter() - started
        done = (state["autovacuums"] > before["autovacuums"] and not state["running"]) or state["dead"] < deleted / 100
        if done or waited > timeout_seconds:
            return {"vacuumed": done, "waited_seconds": round(waited), "dead_after": state["dead"]}
        time.sleep(5)


def simulate(layout: str, days: list[date], monitor_ids: list[int], region_id: int, args) -> list[dict]:
    from django.db import connection
    from django.utils import timezone

    from checks.outcomes import partitions, retention

    out = []
    for n, day in enumerate(days):
        # When, on the wall clock: the machine is shared, and its load changes over a run.
        row: dict = {"day": n + 1, "date": day.isoformat(), "started": datetime.now(UTC).isoformat(timespec="seconds")}
        if layout == "partitioned":
            started = time.perf_counter()
            row["partitions_made"] = len(partitions.ensure_partitions(today=day))
            row["partitions_made_seconds"] = round(time.perf_counter() - started, 2)
        with connection.cursor() as cursor:
            started = time.perf_counter()
            insert_ticks(cursor, monitor_ids, region_id, partitions.day_start(day), last_slot_of(day))
            row["fill_seconds"] = round(time.perf_counter() - started, 1)
        # The writer's statement on the table as the day left it, for slots 30 s after the
        # filled ones (new slots, as the writer sees them).
        row["writer"] = writer_rate(
            monitor_ids, region_id, partitions.day_start(day) + timedelta(seconds=30), args.writer_batches
        )
        midnight = partitions.day_start(day + timedelta(days=1))
        with connection.cursor() as cursor:
            row["size_before_retention"] = brief_size(sizes(cursor))
            if layout == "plain":
                cutoff = midnight - timedelta(days=args.retention_days)
                row["retention"] = delete_by_id(cursor, cutoff)
            else:
                # The housekeeping worker's retention, its clock at the day's midnight.
                started = time.perf_counter()
                with mock.patch.object(timezone, "now", return_value=midnight):
                    deleted = retention.prune_ticks(args.retention_days)
                row["retention"] = {"deleted": deleted, "seconds": round(time.perf_counter() - started, 2)}
            after = vacuum_state(cursor)
            row["dead_after_retention"] = after["dead"]
            if layout == "plain" and row["retention"]["deleted"]:
                row["vacuum"] = wait_for_autovacuum(cursor, after, row["retention"]["deleted"], args.vacuum_wait)
            row["size_after_retention"] = brief_size(sizes(cursor))
            if layout == "partitioned":
                row["partitions"] = len(partitions.day_partitions(cursor))
        say(f"{layout} day {n + 1}: {row}")
        out.append(row)
    return out


def last_slot_of(day: date) -> datetime:
    return datetime.combine(day, datetime.max.time(), tzinfo=UTC).replace(second=0, microsecond=0)


def brief_size(size: dict) -> dict:
    heap = size["bytes"]["heap"]
    return {
        "ticks": size["rows"],
        "heap_bytes": heap,
        "index_bytes": size["total_bytes"] - heap,
        "total_bytes": size["total_bytes"],
        "bytes_per_tick": size["bytes_per_tick"]["total"],
    }


def run(args) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", "--no-input", verbosity=0)
    tick_table_of_before()
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        autovacuum = cursor.fetchone()[0]
    _, india, monitor_ids = add_monitors(args.monitors)
    today = datetime.now(UTC).date()
    days = [today + timedelta(days=n) for n in range(args.days)]
    report: dict = {"autovacuum": autovacuum, "plain": simulate("plain", days, monitor_ids, india.pk, args)}
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE checks_tick")
    partition_tick_table()
    report["partitioned"] = simulate("partitioned", days, monitor_ids, india.pk, args)
    return report


def print_report(report: dict, monitors: int) -> None:
    def mb(n: int) -> str:
        return f"{n / 1e6:,.0f}"

    for layout in ("plain", "partitioned"):
        print(f"\n{layout}: {monitors:,} monitors at 60 s, retention {report['options']['retention_days']} days")
        print(
            f"{'day':>3} {'ticks':>11} {'MB before':>10} {'MB after':>9} {'B/tick':>7} {'dead after':>11}"
            f" {'retention s':>11} {'vacuum s':>9} {'dead left':>10} {'writer/s':>9}"
        )
        for row in report[layout]:
            after, before = row["size_after_retention"], row["size_before_retention"]
            vacuum = row.get("vacuum", {})
            print(
                f"{row['day']:>3} {after['ticks']:>11,} {mb(before['total_bytes']):>10} {mb(after['total_bytes']):>9}"
                f" {after['bytes_per_tick']:>7} {row['dead_after_retention']:>11,} {row['retention']['seconds']:>11}"
                f" {vacuum.get('waited_seconds', '-')!s:>9} {vacuum.get('dead_after', '-')!s:>10}"
                f" {row['writer']['ticks_per_second']:>9,}"
            )
    machine = report["machine"]
    print(
        f"\nmachine ms before / after: {machine['machine_ms_before']} / {machine['machine_ms_after']}; "
        f"load average before / after: {machine['load_before']} / {machine['load_after']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tick_storage_week", description=__doc__.splitlines()[0])
    parser.add_argument("--monitors", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=8, help="simulated days")
    parser.add_argument("--retention-days", type=int, default=3, help="TICK_RETENTION_DAYS")
    parser.add_argument("--writer-batches", type=int, default=100, help="timed writer batches per day")
    parser.add_argument("--vacuum-wait", type=float, default=600, help="most seconds to wait for autovacuum")
    parser.add_argument("--out", default="bench/results")
    args = parser.parse_args(argv)
    if args.monitors < WRITER_BATCH:
        parser.error(f"--monitors must be at least {WRITER_BATCH}")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    started = time.perf_counter()
    with served_process("tick-storage-week") as machine:
        report = run(args)
    report = {
        **report_head("bench.tick_storage_week", machine, args),
        "seconds": round(time.perf_counter() - started),
        **report,
    }
    print_report(report, args.monitors)
    write_report("tick-storage-week", stamp, args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
