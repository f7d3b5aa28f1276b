"""Tick storage, the plain table of before against day partitions, in one run: 25,000
monitors checked every 60 s from one region (36 million ticks a day).

    .venv/bin/python -m bench.tick_storage [--monitors 25000] [--days 1] [--requests 40]

Starts its own throwaway PostgreSQL and Valkey (uptime.embedded), migrates with the tick
table of before (checks 0007), fills `--days` days of ticks in bulk SQL and measures it:
bytes per tick (heap and each index), the outcome writer's insert rate (its own
statement, in batches of its size), retention's batched DELETE, the watchdog's and
dashboard's latest-tick reads and the API and web pages over the ticks. Then it runs the
migration to day partitions (checks 0008), timed, and measures the same, with empty day
partitions made back to 90 days (the partition count of the default retention), and
retention dropping a day's partition. Prints a table; writes
bench/results/tick-storage-<time>.json. A month of ticks (over a billion rows) does not fit
this machine: figures per day, per month and per 90 days are measured per tick and
multiplied out. The table over days of retention: bench/tick_storage_week.py.
"""

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from importlib import import_module

from .rollup_rows import insert_rollups
from .served import percentile, report_head, say, served_process, write_report
from .tick_tables import (
    OLD_PRUNE_BATCH,
    WRITER_BATCH,
    add_monitors,
    fill,
    partition_tick_table,
    sizes,
    tick_table_of_before,
    writer_rate,
)

TARGET_P95_MS = 50
# The reads the 50 ms target is for; the others are timed to compare the two layouts.
TARGET_READS = ("uptime 24h", "uptime 7d", "uptime 30d", "uptime 90d", "ticks page", "ticks of an hour")


def old_prune_rate(batches: int) -> dict:
    """Retention of before (checks/outcomes/retention.py until partitions): the ids of the
    oldest ticks, 10,000 at a time, deleted by id, each batch its own transaction."""
    from django.db import connection

    samples, deleted = [], 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(scheduled_at) + interval '6 hours' FROM checks_tick")
        (cutoff,) = cursor.fetchone()
        for _ in range(batches):
            started = time.perf_counter()
            cursor.execute("SELECT id FROM checks_tick WHERE scheduled_at < %s LIMIT %s", [cutoff, OLD_PRUNE_BATCH])
            ids = [row[0] for row in cursor.fetchall()]
            cursor.execute("DELETE FROM checks_tick WHERE id = ANY(%s)", [ids])
            deleted += cursor.rowcount
            samples.append(time.perf_counter() - started)
        cursor.execute("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'checks_tick'")
        (dead,) = cursor.fetchone()
    per_batch = statistics.median(samples)
    return {
        "batches": batches,
        "deleted": deleted,
        "batch_ms_p50": round(per_batch * 1000, 1),
        "seconds": round(sum(samples), 1),
        "seconds_per_36m_ticks": round(sum(samples) / deleted * 36_000_000),
        "dead_rows_left": dead,
    }


def timed_call(function, requests: int) -> dict:
    """p50 and p95 ms of `requests` calls, after 3 that warm caches and connections."""
    samples = []
    for round_ in range(requests + 3):
        started = time.perf_counter()
        function()
        if round_ >= 3:
            samples.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(samples), 2), "p95_ms": round(percentile(samples, 0.95), 2)}


def timed_get(client, path: str, params: dict, requests: int) -> dict:
    def get() -> None:
        response = client.get(path, params)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])

    return timed_call(get, requests)


def reads(data: dict, requests: int) -> dict:
    """The pages and reads over the ticks, p50 and p95 in ms."""
    from django.test import Client
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from checks.figures.recent import latest_ticks
    from checks.outcomes.watchdog import watch

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(data['owner']).access_token}")
    web = Client()
    web.force_login(data["owner"])
    monitor_id = data["monitor_ids"][len(data["monitor_ids"]) // 2]
    hour_ago = (data["now"] - timedelta(hours=1)).isoformat()
    results = {
        f"uptime {window}": timed_get(api, f"/api/monitors/{monitor_id}/uptime/", {"window": window}, requests)
        for window in ("24h", "7d", "30d", "90d")
    }
    results["monitor list (page of 50)"] = timed_get(api, "/api/monitors/", {}, requests)
    results["ticks page"] = timed_get(api, f"/api/monitors/{monitor_id}/ticks/", {}, requests)
    results["ticks of an hour"] = timed_get(api, f"/api/monitors/{monitor_id}/ticks/", {"since": hour_ago}, requests)
    results["web monitor page"] = timed_get(web, f"/monitors/{monitor_id}/", {}, requests)
    page = data["monitor_ids"][:50]
    results["latest 30 ticks of 50 monitors"] = timed_call(lambda: latest_ticks(page), requests)
    # A whole watchdog run just after the last slot filled, when every monitor is on time
    # (its usual case): each monitor-region's latest tick is looked up, no gap opens.
    on_time = data["now"] + timedelta(seconds=30)
    results["watchdog run, all on time"] = timed_call(lambda: watch(on_time), 5)
    return results


def run(args) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.urls import get_resolver

    from checks.outcomes import partitions

    # Everything the run imports, imported now: the tree may change under a run this long,
    # and a module half-edited an hour in would end it after the fill.
    get_resolver().url_patterns  # noqa: B018 - imports every view
    import_module("checks.outcomes.recording")
    import_module("checks.outcomes.watchdog")
    import_module("checks.figures.recent")
    from monitors.models import Monitor

    report: dict = {}
    call_command("migrate", "--no-input", verbosity=0)
    tick_table_of_before()
    owner, india, monitor_ids = add_monitors(args.monitors)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    Monitor.objects.filter(pk__in=monitor_ids).update(checking_since=now - timedelta(days=args.days))
    data = {"owner": owner, "monitor_ids": monitor_ids, "now": now}
    with connection.cursor() as cursor:
        insert_rollups(cursor, now, days=30, max_failed=3)
        started = time.perf_counter()
        report["fill"] = fill(cursor, monitor_ids, india.pk, now - timedelta(days=args.days), now)
        say(f"filled in {time.perf_counter() - started:.0f} s: {report['fill']}")
        report["plain"] = {"size": sizes(cursor)}
    plain = report["plain"]
    say(f"plain table: {plain['size']['rows']:,} ticks, {plain['size']['bytes_per_tick']}")
    plain["writer"] = writer_rate(monitor_ids, india.pk, now + timedelta(minutes=1), args.writer_batches)
    say(f"plain table writer: {plain['writer']}")
    plain["reads"] = reads(data, args.requests)
    say("plain table reads done")
    plain["retention"] = old_prune_rate(args.prune_batches)
    say(f"plain table retention: {plain['retention']}")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM checks_tick")
        cursor.execute("SELECT count(*) FROM checks_tick")
        (rows,) = cursor.fetchone()

    seconds = partition_tick_table()
    report["migration"] = {
        "ticks": rows,
        "seconds": round(seconds, 1),
        "seconds_per_million_ticks": round(seconds / rows * 1_000_000, 1),
    }
    say(f"migration: {report['migration']}")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE checks_tick")
        report["partitioned"] = {"size": sizes(cursor)}
    parted = report["partitioned"]
    say(f"partitioned: {parted['size']['rows']:,} ticks, {parted['size']['bytes_per_tick']}")
    # The slots right after the plain table's writer's: no hole for the watchdog to record.
    slots_written = -(-args.writer_batches // (len(monitor_ids) // WRITER_BATCH))
    next_slot = now + timedelta(minutes=1 + slots_written)
    parted["writer"] = writer_rate(monitor_ids, india.pk, next_slot, args.writer_batches)
    say(f"partitioned writer: {parted['writer']}")
    # A table kept 90 days has about 95 partitions (91 days back, 3 ahead, the default):
    # the reads are timed with as many.
    today = now.date()
    partitions.create_partitions(today - timedelta(days=90), today)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE checks_tick")
        parted["partitions"] = len(partitions.day_partitions(cursor))
    parted["reads"] = reads(data, args.requests)
    say("partitioned reads done")
    # Retention at its largest: the partitions up to today's, which holds nearly all the ticks.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {partitions.partition_name(today)}")  # noqa: S608
        (day_rows,) = cursor.fetchone()
    started = time.perf_counter()
    ticks, dropped = partitions.drop_partitions_before(partitions.day_start(today + timedelta(days=1)))
    parted["retention"] = {
        "dropped_partitions": len(dropped),
        "dropped_ticks": ticks,
        "largest_partition_ticks": day_rows,
        "seconds": round(time.perf_counter() - started, 2),
    }
    say(f"partitioned retention: {parted['retention']}")
    return report


def extrapolate(report: dict, monitors: int) -> dict:
    """Disk per tick and per monitor-day measured here, multiplied out to 30 and 90 days."""
    per_day = monitors * 1440
    out = {}
    for layout in ("plain", "partitioned"):
        per_tick = report[layout]["size"]["bytes_per_tick"]["total"]
        out[layout] = {
            "bytes_per_tick": per_tick,
            "mb_per_monitor_day_60s": round(per_tick * 1440 / 1e6, 3),
            "gb_per_day": round(per_tick * per_day / 1e9, 1),
            "gb_30_days": round(per_tick * per_day * 30 / 1e9),
            "gb_90_days": round(per_tick * per_day * 90 / 1e9),
        }
    return out


def print_report(report: dict) -> None:
    plain, parted = report["plain"], report["partitioned"]
    print(f"\n{'bytes per tick':<34} {'plain':>10} {'partitioned':>12}")
    names = sorted(
        set(plain["size"]["bytes_per_tick"]) | set(parted["size"]["bytes_per_tick"]), key=lambda n: n == "total"
    )
    for name in names:
        a, b = plain["size"]["bytes_per_tick"].get(name, "-"), parted["size"]["bytes_per_tick"].get(name, "-")
        print(f"{name:<34} {a!s:>10} {b!s:>12}")
    print(f"\n{'writer (batches of 500)':<34} {'plain':>10} {'partitioned':>12}")
    for key in ("ticks_per_second", "batch_ms_p50", "batch_ms_p95"):
        print(f"{key:<34} {plain['writer'][key]:>10} {parted['writer'][key]:>12}")
    ratio = parted["writer"]["ticks_per_second"] / plain["writer"]["ticks_per_second"]
    print(f"{'partitioned / plain':<34} {ratio:>23.2f}")
    print(f"\n{'read (p50 / p95 ms)':<34} {'plain':>16} {'partitioned':>16}")
    for name, row in plain["reads"].items():
        other = parted["reads"][name]
        print(
            f"{name:<34} {row['p50_ms']:>7.1f} / {row['p95_ms']:>6.1f}",
            f"{other['p50_ms']:>7.1f} / {other['p95_ms']:>6.1f}",
        )
    old = plain["retention"]
    print(
        f"\nretention, plain: {old['deleted']:,} ticks in {old['batches']} DELETEs, {old['seconds']} s"
        f" ({old['seconds_per_36m_ticks']} s per 36 M ticks), {old['dead_rows_left']:,} dead rows left"
    )
    new = parted["retention"]
    print(
        f"retention, partitioned: {new['dropped_partitions']} partitions ({new['dropped_ticks']:,} ticks) dropped"
        f" in {new['seconds']} s"
    )
    migration = report["migration"]
    print(
        f"migration to partitions: {migration['ticks']:,} ticks in {migration['seconds']} s"
        f" ({migration['seconds_per_million_ticks']} s per million)"
    )
    print("\nextrapolated (measured bytes per tick x ticks):")
    for layout, row in report["extrapolated"].items():
        print(f"  {layout}: {row}")
    machine = report["machine"]
    print(
        f"machine ms before / after: {machine['machine_ms_before']} / {machine['machine_ms_after']}; "
        f"load average before / after: {machine['load_before']} / {machine['load_after']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tick_storage", description=__doc__.splitlines()[0])
    parser.add_argument("--monitors", type=int, default=25_000)
    parser.add_argument("--days", type=float, default=1, help="days of 60 s ticks to fill")
    parser.add_argument("--requests", type=int, default=40, help="timed requests per read")
    parser.add_argument("--writer-batches", type=int, default=200, help="timed writer batches per layout")
    parser.add_argument("--prune-batches", type=int, default=100, help="timed DELETE batches of the plain table")
    parser.add_argument("--out", default="bench/results")
    args = parser.parse_args(argv)
    if args.monitors < WRITER_BATCH:
        parser.error(f"--monitors must be at least {WRITER_BATCH}")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    started = time.perf_counter()
    with served_process("tick-storage") as machine:
        report = run(args)
    report = {
        **report_head("bench.tick_storage", machine, args),
        "seconds": round(time.perf_counter() - started),
        **report,
    }
    report["extrapolated"] = extrapolate(report, args.monitors)
    print_report(report)
    write_report("tick-storage", stamp, args.out, report)
    met = all(report["partitioned"]["reads"][name]["p95_ms"] <= TARGET_P95_MS for name in TARGET_READS)
    print(
        f"\ntarget: uptime windows and ticks pages p95 ≤ {TARGET_P95_MS} ms with partitions:",
        "met" if met else "MISSED",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
