"""Time the uptime endpoint (every window) for a monitor with a year of 30 s ticks in two
regions, and the monitor list (24h uptime) of a user with 1,000 monitors, reading rollups
and reading raw ticks, alternately in the same run; also the cost of counting a tick.

    python -m bench.stats [--days 365] [--requests 40] [--json bench/results/stats.json]

Starts its own throwaway PostgreSQL and Valkey (uptime.embedded), prints a table, writes JSON.
"""

import argparse
import json
import os
import platform
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from uptime.embedded import free_port, services

WINDOWS = ("24h", "7d", "30d", "90d")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def load(days: int) -> dict:
    """The data: a year-long monitor, 1,000 monitors with a day of ticks, and their rollups."""
    from django.db import connection

    from accounts.models import User
    from checks.figures import rollups
    from monitors.models import Monitor, Region

    from ..organizations import personal_organization

    now = datetime.now(UTC).replace(microsecond=0)
    regions = list(Region.objects.filter(slug__in=("india", "usa")))
    year_owner = User.objects.create_user(email="year@example.com", password=secrets.token_urlsafe())
    year = Monitor.objects.create(
        organization=personal_organization(year_owner), name="a year", url="https://year.example/", interval_seconds=30
    )
    year.regions.set(regions)
    many_owner = User.objects.create_user(email="many@example.com", password=secrets.token_urlsafe())
    many_organization = personal_organization(many_owner)
    many = Monitor.objects.bulk_create(
        Monitor(organization=many_organization, name=f"site {n}", url=f"https://site{n}.example/", interval_seconds=60)
        for n in range(1_000)
    )
    india = Region.objects.get(slug="india")
    Monitor.regions.through.objects.bulk_create(Monitor.regions.through(monitor=m, region=india) for m in many)

    # Up 99.5% of the time, times spread log-uniformly over ~33 ms .. 665 ms, and a weekly
    # hour of maintenance (Sundays 03:00 UTC).
    tick_sql = """
        INSERT INTO checks_tick (monitor_id, region_id, status, status_code, response_time_ms, error,
                                 attempts, scheduled_at, checked_at, in_maintenance)
        SELECT m, r, CASE WHEN up THEN 'up' ELSE 'down' END, CASE WHEN up THEN 200 ELSE 503 END,
               (exp(3.5 + random() * 3))::int, '', 1, s, s,
               extract(dow FROM s AT TIME ZONE 'UTC') = 0 AND extract(hour FROM s AT TIME ZONE 'UTC') = 3
        FROM (SELECT *, random() < 0.995 AS up
              FROM generate_series(%(start)s::timestamptz, %(end)s::timestamptz, %(step)s::interval) AS s,
                   unnest(%(monitors)s::bigint[]) AS m, unnest(%(regions)s::bigint[]) AS r) AS slot
    """
    timings = {}
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(
            tick_sql,
            {
                "start": now - timedelta(days=days),
                "end": now,
                "step": "30 seconds",
                "monitors": [year.pk],
                "regions": [r.pk for r in regions],
            },
        )
        year_ticks = cursor.rowcount
        cursor.execute(
            tick_sql,
            {
                "start": now - timedelta(hours=24),
                "end": now,
                "step": "60 seconds",
                "monitors": [m.pk for m in many],
                "regions": [india.pk],
            },
        )
        many_ticks = cursor.rowcount
        timings["insert_ticks_seconds"] = round(time.perf_counter() - started, 1)
        seconds = timings["insert_ticks_seconds"]
        say(f"{year_ticks:,} ticks of one monitor, {many_ticks:,} of 1,000 monitors ({seconds} s)")
        started = time.perf_counter()
        built = rollups.rebuild(now - timedelta(days=days))
        timings["rebuild_rollups_seconds"] = round(time.perf_counter() - started, 1)
        seconds = timings["rebuild_rollups_seconds"]
        say(f"rebuilt {built['hourly']:,} hourly and {built['daily']:,} daily rollups ({seconds} s)")
        cursor.execute("VACUUM ANALYZE")
    return {
        "year": year,
        "year_owner": year_owner,
        "many_owner": many_owner,
        "year_ticks": year_ticks,
        "many_ticks": many_ticks,
        "hourly_rollups": built["hourly"],
        "daily_rollups": built["daily"],
        **timings,
    }


def time_requests(client, path: str, params: dict, variants: dict, requests: int) -> dict:
    """p50/p95 of each variant, requests alternating between them so both share the noise."""
    samples = {name: [] for name in variants}
    bodies = {}
    for round_ in range(requests + 3):
        for name, use in variants.items():
            use()
            started = time.perf_counter()
            response = client.get(path, params)
            elapsed_ms = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.content[:300]
            if round_ >= 3:  # the first rounds warm caches and connections
                samples[name].append(elapsed_ms)
            bodies[name] = response.json()
    return {
        name: {"p50_ms": round(statistics.median(s), 2), "p95_ms": round(percentile(s, 0.95), 2), "n": len(s)}
        for name, s in samples.items()
    } | {"_bodies": bodies}


def time_tick_writes(monitor, writes: int) -> dict:
    """The cost rollups add to writing a tick: insert alone vs insert and count_ticks."""
    from django.db import transaction

    from checks.models import Tick
    from checks.outcomes.rollup_counts import count_ticks
    from monitors.models import Region

    region = Region.objects.get(slug="india")
    start = datetime.now(UTC) + timedelta(days=1)
    samples = {"tick only": [], "tick and rollups": []}
    for n in range(writes):
        for offset, name in enumerate(samples):
            slot = start + timedelta(seconds=60 * (2 * n + offset))
            started = time.perf_counter()
            with transaction.atomic():
                tick = Tick.objects.create(
                    monitor=monitor,
                    region=region,
                    status="up",
                    status_code=200,
                    response_time_ms=100 + n % 500,
                    scheduled_at=slot,
                    checked_at=slot,
                )
                if name == "tick and rollups":
                    count_ticks([tick])
            samples[name].append((time.perf_counter() - started) * 1000)
    return {
        name: {"p50_ms": round(statistics.median(s), 3), "p95_ms": round(percentile(s, 0.95), 3)}
        for name, s in samples.items()
    }


def run(args) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    import checks.api.views
    import checks.figures.stats
    import monitors.api.views

    from . import raw

    call_command("migrate", "--no-input", verbosity=0)
    data = load(args.days)

    def client_for(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        return client

    def uptime_from(function):
        return lambda: setattr(checks.api.views, "uptime_summary", function)

    def list_from(function):
        return lambda: setattr(monitors.api.views, "uptime_24h_annotation", function)

    results = {"uptime": {}, "figures": {}}
    year = data["year"]
    client = client_for(data["year_owner"])
    for window in WINDOWS:
        timed = time_requests(
            client,
            f"/api/monitors/{year.pk}/uptime/",
            {"window": window},
            {"raw ticks": uptime_from(raw.uptime_summary), "rollups": uptime_from(checks.figures.stats.uptime_summary)},
            args.requests,
        )
        bodies = timed.pop("_bodies")
        results["uptime"][window] = timed
        exact, rolled = bodies["raw ticks"], bodies["rollups"]
        results["figures"][window] = {
            "checks": [exact["checks"], rolled["checks"]],
            "uptime_percent": [exact["uptime_percent"], rolled["uptime_percent"]],
            "avg_response_time_ms": [exact["avg_response_time_ms"], rolled["avg_response_time_ms"]],
            "p95_response_time_ms": [exact["p95_response_time_ms"], rolled["p95_response_time_ms"]],
        }
    timed = time_requests(
        client_for(data["many_owner"]),
        "/api/monitors/",
        {},
        {
            "raw ticks": list_from(raw.uptime_24h_annotation),
            "rollups": list_from(checks.figures.stats.uptime_24h_annotation),
        },
        args.requests,
    )
    bodies = timed.pop("_bodies")
    assert [m["uptime_24h_percent"] for m in bodies["raw ticks"]["results"]] == [
        m["uptime_24h_percent"] for m in bodies["rollups"]["results"]
    ]
    results["monitor_list"] = timed
    results["tick_write"] = time_tick_writes(year, args.writes)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.stats " + " ".join(sys.argv[1:]),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "data": {k: v for k, v in data.items() if k not in ("year", "year_owner", "many_owner")},
        **results,
    }


def print_table(report: dict) -> None:
    print(f"\n{'what':<28} {'raw p50':>9} {'raw p95':>9} {'rollup p50':>11} {'rollup p95':>11} {'p50 ratio':>10}")
    rows = [(f"uptime {w}", report["uptime"][w]) for w in WINDOWS]
    rows.append(("monitor list (page of 50)", report["monitor_list"]))
    for label, row in rows:
        slow, fast = row["raw ticks"], row["rollups"]
        print(
            f"{label:<28} {slow['p50_ms']:>9.1f} {slow['p95_ms']:>9.1f} {fast['p50_ms']:>11.1f} {fast['p95_ms']:>11.1f}"
            f" {slow['p50_ms'] / fast['p50_ms']:>9.1f}x"
        )
    print("\nfigures (raw ticks, rollups):")
    for window, figures in report["figures"].items():
        print(f"  {window}: " + ", ".join(f"{name} {a} / {b}" for name, (a, b) in figures.items()))
    writes = report["tick_write"]
    print(
        f"\ntick write p50: {writes['tick only']['p50_ms']:.3f} ms alone, "
        f"{writes['tick and rollups']['p50_ms']:.3f} ms with its rollups"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stats", description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365, help="days of 30 s ticks for the long monitor")
    parser.add_argument("--requests", type=int, default=40, help="timed requests per variant and endpoint")
    parser.add_argument("--writes", type=int, default=500, help="timed tick writes per variant")
    parser.add_argument("--json", default="bench/results/stats.json", help="where to write the results")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="uptime-bench-"))
    try:
        with services(data_dir, free_port(), free_port()) as service_env:
            os.environ.update(service_env)
            os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))
            os.environ.setdefault("JWT_SIGNING_KEY", secrets.token_urlsafe(32))
            os.environ.setdefault("ALLOWED_HOSTS", "testserver")
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uptime.settings")
            report = run(args)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print_table(report)
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    say(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
