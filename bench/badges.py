"""Server time of the badges (/badge/<key>/<kind>.svg): 1,000 monitors with 30 days of daily
and 24 hours of hourly rollups, each kind requested in turn for a different monitor each time.

    .venv/bin/python -m bench.badges [--monitors 1000] [--requests 200]

Starts its own throwaway PostgreSQL and Valkey (uptime.embedded), seeds the monitors and
their rollups in bulk SQL, then requests the badges in this process through Django's test
client: no session (as a README's image proxy asks), every middleware, real PostgreSQL.
Prints p50 and p95 per kind against the 10 ms target; writes bench/results/badges-<time>.json.
"""

import argparse
import gc
import random
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime

from .rollup_rows import insert_rollups
from .served import percentile, report_head, say, served_process, write_report

KINDS = ("status", "uptime-24h", "uptime-7d", "uptime-30d", "response-time")
TARGET_MS = 10
STATUSES = ("up",) * 16 + ("down", "degraded", "maintenance", "pending")


def seed(monitors: int, rng: random.Random) -> dict:
    from django.db import connection

    from accounts.models import User
    from monitors.models import Monitor, Region

    from .organizations import personal_organization

    started = time.perf_counter()
    now = datetime.now(UTC)
    regions = list(Region.objects.order_by("slug"))
    owner = User.objects.create_user(email="badges@example.com", password=secrets.token_urlsafe())
    organization = personal_organization(owner)
    made = Monitor.objects.bulk_create(
        Monitor(
            organization=organization,
            name=f"Site {n}",
            url=f"https://site{n}.example.com/",
            status=rng.choice(STATUSES),
        )
        for n in range(monitors)
    )
    Monitor.regions.through.objects.bulk_create(
        Monitor.regions.through(monitor=monitor, region=region)
        for monitor in made
        for region in rng.sample(regions, rng.randint(1, len(regions)))
    )
    with connection.cursor() as cursor:
        counts = insert_rollups(cursor, now, days=30, max_failed=5)
        cursor.execute("VACUUM ANALYZE")
    seconds = round(time.perf_counter() - started, 1)
    hourly, daily = counts["checks_hourlyrollup"], counts["checks_dailyrollup"]
    say(f"{monitors:,} monitors, {hourly:,} hourly and {daily:,} daily rollups; seeded in {seconds} s")
    return {
        "keys": [monitor.badge_key for monitor in made],
        "counts": {"monitors": monitors, "hourly_rollups": hourly, "daily_rollups": daily, "seed_seconds": seconds},
    }


def queries_per_request(client, path: str) -> int:
    from django.db import connection

    executed = []
    with connection.execute_wrapper(lambda execute, *args: executed.append(1) or execute(*args)):
        client.get(path)
    return len(executed)


def run(args) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", "--no-input", verbosity=0)
    rng = random.Random(args.seed)
    data = seed(args.monitors, rng)
    keys = data.pop("keys")
    # The process as uptime/wsgi.py makes a served one: loaded, then gc.freeze().
    gc.collect()
    import uptime.wsgi  # noqa: F401

    client = Client()
    found: dict[str, dict] = {kind: {"wall": [], "cpu": []} for kind in KINDS}
    say(f"timing {len(KINDS)} kinds, {args.warmup} warm-up and {args.requests} timed requests each, in turn")
    for round_ in range(args.warmup + args.requests):
        key = rng.choice(keys)
        for kind in KINDS:
            path = f"/badge/{key}/{kind}.svg"
            wall, cpu = time.perf_counter(), time.process_time()
            response = client.get(path)
            wall, cpu = (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000
            assert response.status_code == 200, (path, response.status_code, response.content[:300])
            found[kind]["size_bytes"] = len(response.content)
            if round_ >= args.warmup:
                found[kind]["wall"].append(wall)
                found[kind]["cpu"].append(cpu)
    results = {}
    for kind, timed in found.items():
        results[kind] = {
            "p50_ms": round(statistics.median(timed["wall"]), 2),
            "p95_ms": round(percentile(timed["wall"], 0.95), 2),
            "max_ms": round(max(timed["wall"]), 2),
            "cpu_p50_ms": round(statistics.median(timed["cpu"]), 2),
            "size_bytes": timed["size_bytes"],
            "queries": queries_per_request(client, f"/badge/{keys[0]}/{kind}.svg"),
            "met": percentile(timed["wall"], 0.95) <= TARGET_MS,
            "samples_ms": [round(v, 3) for v in timed["wall"]],
        }
    return {"data": data, "badges": results}


def print_report(report: dict) -> None:
    print(f"\n{'badge':<15} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'CPU p50':>8} {'bytes':>6} {'queries':>8}")
    for kind, row in report["badges"].items():
        print(
            f"{kind:<15} {row['p50_ms']:>7.2f} {row['p95_ms']:>7.2f} {row['max_ms']:>7.2f} {row['cpu_p50_ms']:>8.2f}"
            f" {row['size_bytes']:>6} {row['queries']:>8}"
        )
    met = all(row["met"] for row in report["badges"].values())
    print(f"\ntarget: every badge p95 ≤ {TARGET_MS} ms: {'met' if met else 'MISSED'}")
    machine = report["machine"]
    print(
        f"machine ms before / after: {machine['machine_ms_before']} / {machine['machine_ms_after']}; "
        f"load average before / after: {machine['load_before']} / {machine['load_after']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.badges", description=" ".join(__doc__.split("\n\n")[0].split())
    )
    parser.add_argument("--monitors", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per kind")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests per kind first")
    parser.add_argument("--seed", type=int, default=1, help="seed of the data's random choices")
    parser.add_argument("--out", default="bench/results")
    args = parser.parse_args(argv)
    if args.monitors < 1 or args.requests < 1:
        parser.error("--monitors and --requests must be at least 1")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    with served_process("badges") as machine:
        report = run(args)
    report = {
        **report_head("bench.badges", machine, args),
        "target_p95_ms": TARGET_MS,
        **report,
    }
    print_report(report)
    write_report("badges", stamp, args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
