"""Server time of a /metrics scrape with per-monitor series: 25,000 monitors (--monitors), each
in three regions, with hourly rollups for the last hour (--hours) and a latest tick per region.

    .venv/bin/python -m bench.metrics_scrape [--monitors 25000] [--hours 1] [--scrapes 10] [--limit all]

Starts its own throwaway PostgreSQL and Valkey (uptime.embedded), seeds the rows in bulk,
then scrapes the collector through Django's test client in this process (every middleware,
real PostgreSQL and Valkey). Prints the median and p95 ms, the queries and the response
size; writes bench/results/metrics-<time>.json.
"""

import argparse
import gc
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from .served import percentile, say, served_process, write_report

# Current status of the monitors, drawn in this proportion (cumulative bounds), else up.
STATUS_MIX = ((0.04, "down"), (0.07, "degraded"), (0.09, "pending"), (0.14, "paused"), (0.15, "maintenance"))

# Per monitor, region and hour: 60 checks, all up except for the down monitors' last hour.
ROLLUPS_SQL = """
INSERT INTO checks_hourlyrollup (monitor_id, region_id, hour, checks, up, maintenance_checks,
    response_time_sum_ms, response_time_min_ms, response_time_max_ms, response_time_histogram)
SELECT pair.monitor_id, pair.region_id, hour, 60,
    CASE WHEN monitor.status = 'down' AND hour = %(this_hour)s THEN 20 ELSE 60 END,
    0, 60 * %(ms)s, %(ms)s, %(ms)s, %(histogram)s::integer[]
FROM monitors_monitor_regions AS pair
JOIN monitors_monitor AS monitor ON monitor.id = pair.monitor_id
CROSS JOIN generate_series(%(first_hour)s::timestamptz, %(this_hour)s::timestamptz, interval '1 hour') AS hour
WHERE monitor.status NOT IN ('paused', 'pending')
ORDER BY hour
"""

# One tick per monitor and region, a minute or so ago: down for the down monitors.
TICKS_SQL = """
INSERT INTO checks_tick (monitor_id, region_id, status, status_code, response_time_ms, error, attempts,
    scheduled_at, checked_at, in_maintenance)
SELECT pair.monitor_id, pair.region_id,
    CASE WHEN monitor.status = 'down' THEN 'down' ELSE 'up' END,
    CASE WHEN monitor.status = 'down' THEN 503 ELSE 200 END,
    CASE WHEN monitor.status = 'down' THEN NULL ELSE 40 + (random() * 500)::int END,
    CASE WHEN monitor.status = 'down' THEN 'HTTP 503, expected 200-399' ELSE '' END,
    1, slot, slot, monitor.status = 'maintenance'
FROM monitors_monitor_regions AS pair
JOIN monitors_monitor AS monitor ON monitor.id = pair.monitor_id
CROSS JOIN LATERAL (SELECT %(now)s::timestamptz - mod(pair.monitor_id, 60) * interval '1 second') AS s(slot)
WHERE monitor.status NOT IN ('paused', 'pending')
"""


def seed(args) -> dict:
    import random

    from django.db import connection

    from accounts.models import User
    from checks.outcomes.rollup_counts import BUCKETS, bucket_of, hour_of
    from monitors.models import Monitor, Region

    from .organizations import personal_organization

    started = time.perf_counter()
    rng = random.Random(1)
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    regions = list(Region.objects.order_by("slug"))[:3]
    owner = User.objects.create_user(email="metrics@example.com", password=secrets.token_urlsafe())
    organization = personal_organization(owner)
    monitors = []
    for n in range(args.monitors):
        draw = rng.random()
        status = next((s for bound, s in STATUS_MIX if draw < bound), "up")
        monitors.append(
            Monitor(
                organization=organization,
                # Some names need escaping in the exposition format, as real ones may.
                name=f'Shop "{n}"' if n % 50 == 0 else f"Shop {n}",
                url=f"https://shop{n}.example.com/health?token=not-a-label",
                status=status,
                is_active=status != "paused",
                status_changed_at=now - timedelta(hours=2),
                last_checked_at=now,
                checking_since=now - timedelta(days=1),
                tls_expires_at=now + timedelta(days=rng.uniform(-2, 90)) if n % 4 else None,
            )
        )
    Monitor.objects.bulk_create(monitors, batch_size=5000)
    Monitor.regions.through.objects.bulk_create(
        (Monitor.regions.through(monitor=monitor, region=region) for monitor in monitors for region in regions),
        batch_size=10000,
    )
    histogram = [0] * BUCKETS
    histogram[bucket_of(180)] = 60
    this_hour = hour_of(now)
    with connection.cursor() as cursor:
        cursor.execute(
            ROLLUPS_SQL,
            {
                "first_hour": this_hour - timedelta(hours=args.hours - 1),
                "this_hour": this_hour,
                "ms": 180,
                "histogram": histogram,
            },
        )
        rollups = cursor.rowcount
        cursor.execute(TICKS_SQL, {"now": now})
        ticks = cursor.rowcount
        cursor.execute("VACUUM ANALYZE")
    statuses = {status: sum(m.status == status for m in monitors) for status in Monitor.Status.values}
    return {
        "monitors": args.monitors,
        "regions": len(regions),
        "hourly_rollups": rollups,
        "ticks": ticks,
        "statuses": statuses,
        "seed_seconds": round(time.perf_counter() - started, 1),
    }


def run(args) -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", "--no-input", verbosity=0)
    data = seed(args)
    say(f"seeded {data}")
    if args.limit != "all":
        settings.METRICS_MONITORS = 0 if args.limit == "none" else int(args.limit)
    gc.collect()
    import uptime.wsgi  # noqa: F401  (the process as served: gc.freeze() and all)

    client = Client()
    client.get("/metrics")  # modules loaded, connections opened
    queries: list[tuple[str, float]] = []  # each statement's first words and ms

    def timed(execute, sql, *rest):
        started = time.perf_counter()
        try:
            return execute(sql, *rest)
        finally:
            queries.append((" ".join(sql.split())[:70], round((time.perf_counter() - started) * 1000, 1)))

    with connection.execute_wrapper(timed):
        body = client.get("/metrics").content
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(client.get, "/metrics")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    walls, cpus = [], []
    for _ in range(args.scrapes):
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get("/metrics")
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        assert response.status_code == 200, response.status_code
    lines = [line for line in body.decode().splitlines() if line and not line.startswith("#")]
    return {
        "data": data,
        "scrape": {
            "median_ms": round(statistics.median(walls), 1),
            "p95_ms": round(percentile(walls, 0.95), 1),
            "max_ms": round(max(walls), 1),
            "cpu_median_ms": round(statistics.median(cpus), 1),
            "size_bytes": len(body),
            "samples": len(lines),
            "per_monitor_samples": sum(line.startswith("uptime_monitor_") for line in lines),
            "queries": len(queries),
            "query_ms": queries,
            "samples_ms": [round(v, 1) for v in walls],
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.metrics_scrape", description=" ".join(__doc__.split("\n\n")[0].split())
    )
    parser.add_argument("--monitors", type=int, default=25000)
    parser.add_argument("--hours", type=int, default=1, help="hours of hourly rollups per monitor and region (1-24)")
    parser.add_argument("--scrapes", type=int, default=10, help="timed scrapes, after one untimed")
    parser.add_argument("--limit", default="all", help="METRICS_MONITORS: all, none or a number")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of one scrape")
    parser.add_argument("--out", default="bench/results")
    args = parser.parse_args()
    if not 1 <= args.hours <= 24:
        parser.error("--hours must be 1 to 24 (the 24h window)")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    with served_process("metrics", METRICS_TOKEN="") as machine:
        report = run(args)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": ".venv/bin/python -m bench.metrics_scrape " + " ".join(sys.argv[1:]),
        "machine": machine,
        "options": vars(args),
        **report,
    }
    scrape = report["scrape"]
    print(f"\n{'monitors':>9} {'hours':>6} {'limit':>6} {'median ms':>10} {'p95 ms':>8} {'CPU ms':>7} {'KB':>7}")
    print(
        f"{args.monitors:>9,} {args.hours:>6} {args.limit:>6} {scrape['median_ms']:>10.1f} {scrape['p95_ms']:>8.1f}"
        f" {scrape['cpu_median_ms']:>7.1f} {scrape['size_bytes'] / 1024:>7.0f}"
    )
    print(
        f"{scrape['samples']:,} samples ({scrape['per_monitor_samples']:,} per monitor), {scrape['queries']} queries;"
        f" machine ms before / after: {machine['machine_ms_before']} / {machine['machine_ms_after']}"
    )
    for sql, ms in scrape["query_ms"]:
        print(f"  {ms:>8.1f} ms  {sql}")
    write_report("metrics", stamp, args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
