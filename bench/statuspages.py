"""Server time of a public status page with 50 components, uncached, and how many requests a
second gunicorn serves it at from the short cache.

    .venv/bin/python -m bench.statuspages [--requests 200] [--seconds 20] [--concurrency 16,64]

Starts its own throwaway PostgreSQL and Valkey (uptime.embedded) and seeds, in bulk SQL where
it can, one user's 50 monitors (3 regions each) on one page in 5 sections, 90 days of daily
rollups and day totals and 24 hours of hourly rollups, the checks' incidents, the
organization's incidents with updates and two maintenance windows. Then:

- uncached: with STATUS_PAGE_CACHE_SECONDS = 0, each of the page's addresses in turn through
  Django's test client in this process (no session, every middleware, as uptime/wsgi.py sets
  a served process up), then where the page's and the JSON's time goes (their SQL, and a
  profile by part of the stack);
- cached: gunicorn as a deployment starts it (2 sync workers, then 2 gthread workers of 4
  threads), driven by an asyncio HTTP/1.1 client in this process. The client shares the
  machine's cores with the server, so requests/s is a floor.
- where a cached request's time goes: the WSGI application alone, the cache GET alone, the
  view without middleware, and a profile by part of the stack.

Prints a table and the targets; writes bench/results/statuspages-<time>.json.
"""

import argparse
import asyncio
import cProfile
import gc
import gzip
import hashlib
import io
import os
import pstats
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

from uptime.embedded import BASE_DIR, free_port

from .rollup_rows import insert_rollups
from .served import percentile, report_head, say, served_process, write_report

SLUG = "bench"
COMPONENTS, SECTIONS = 50, 5
UNCACHED_TARGET_MS = 50  # p95 of the page with 50 components
CACHED_TARGET_RPS = 1000
ADDRESSES = {
    "page": f"/status/{SLUG}/",
    "status.json": f"/status/{SLUG}/status.json",
    "live": f"/status/{SLUG}/live",
    "feed.atom": f"/status/{SLUG}/feed.atom",
}
# The server variants: (label, gunicorn options). A deployment's default is sync workers.
SERVERS = (
    ("2 sync workers", ["--workers=2"]),
    ("2 gthread workers x 4 threads", ["--workers=2", "--worker-class=gthread", "--threads=4"]),
)


def seed(rng: random.Random) -> dict:
    from django.db import connection

    from accounts.models import User
    from checks.models import Incident
    from monitors.maintenance import create_window
    from monitors.models import MaintenanceWindow, Monitor, Region
    from statuspages.models import Component
    from statuspages.services import open_incident, post_update, save_page

    from .organizations import personal_organization

    started = time.perf_counter()
    now = datetime.now(UTC)
    regions = list(Region.objects.order_by("slug"))[:3]
    owner = User.objects.create_user(email="status@example.com", password=secrets.token_urlsafe())
    organization = personal_organization(owner)
    # Two down (an open outage each), one degraded, two in maintenance (the window in force).
    statuses = ["down", "down", "degraded", "maintenance", "maintenance"] + ["up"] * (COMPONENTS - 5)
    monitors = Monitor.objects.bulk_create(
        Monitor(
            organization=organization, name=f"Private name {n}", url=f"https://internal{n}.example.com/", status=status
        )
        for n, status in enumerate(statuses)
    )
    Monitor.regions.through.objects.bulk_create(
        Monitor.regions.through(monitor=monitor, region=region) for monitor in monitors for region in regions
    )
    with connection.cursor() as cursor:
        counts = insert_rollups(cursor, now, days=90, max_failed=30)
    # The checks' incidents: the two down monitors' open ones, a dozen resolved in the last 14
    # days, and older ones over the 90 days (most of them before the page's 14 days).
    incidents = [
        Incident(
            monitor=monitors[n], started_at=now - timedelta(minutes=20 + n), first_error="Timed out", regions=["usa"]
        )
        for n in (0, 1)
    ]
    for n in range(40):
        began = now - timedelta(days=rng.uniform(0.2, 14 if n < 12 else 89))
        incidents.append(
            Incident(
                monitor=rng.choice(monitors[2:]),
                started_at=began,
                resolved_at=began + timedelta(minutes=rng.randint(2, 90)),
                first_error="HTTP 503, expected 200-399",
                regions=rng.sample([r.slug for r in regions], 2),
                resolution="up",
            )
        )
    Incident.objects.bulk_create(incidents)
    names = ("Website", "API", "Payments", "Developers", "Infrastructure")
    sections = [
        {
            "name": names[s],
            "components": [
                {"monitor": monitor, "name": f"{names[s]} component {n}"}
                for n, monitor in enumerate(monitors[s * 10 : (s + 1) * 10])
            ],
        }
        for s in range(SECTIONS)
    ]
    page = save_page(
        organization,
        None,
        {"slug": SLUG, "title": "Bench status", "description": "Everything the bench runs."},
        sections,
    )
    components = {c.monitor_id: c for c in Component.objects.filter(section__page=page)}
    # The organization's incidents: one open with two updates, one resolved yesterday, one a week ago.
    for title, began, steps in (
        ("Card payments failing", now - timedelta(hours=1), ("investigating", "identified")),
        ("Slow API responses", now - timedelta(days=1), ("investigating", "monitoring", "resolved")),
        ("Login errors", now - timedelta(days=7), ("investigating", "identified", "monitoring", "resolved")),
    ):
        linked = [components[m.pk] for m in rng.sample(monitors, 3)]
        incident = open_incident(page, title, steps[0], f"{title}: we are looking into it.", linked, now=began)
        for n, status in enumerate(steps[1:], start=1):
            post_update(incident, status, f"{title}: {status}, step {n}.", now=began + timedelta(minutes=15 * n))
    create_window(
        organization,
        monitors[3:5],
        name="Database upgrade",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=1),
    )
    create_window(
        organization,
        monitors[10:20],
        name="Weekly deploys",
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=2, hours=2),
        recurrence=MaintenanceWindow.Recurrence.WEEKLY,
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    seconds = round(time.perf_counter() - started, 1)
    hourly, daily, totals = counts["checks_hourlyrollup"], counts["checks_dailyrollup"], counts["checks_daytotal"]
    say(
        f"{COMPONENTS} monitors, {hourly:,} hourly and {daily:,} daily rollups, {totals:,} day totals,"
        f" {len(incidents)} outages; {seconds} s"
    )
    return {
        "monitors": COMPONENTS,
        "regions_each": len(regions),
        "sections": SECTIONS,
        "hourly_rollups": hourly,
        "daily_rollups": daily,
        "day_totals": totals,
        "check_incidents": len(incidents),
        "check_incidents_shown": sum(
            i.resolved_at is None or i.started_at >= now - timedelta(days=14) for i in incidents
        ),
        "owner_incidents": 3,
        "maintenance_windows": 2,
        "seed_seconds": seconds,
    }


def queries_per_request(client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    return len(captured.captured_queries)


def time_uncached(args) -> dict:
    """Each address in turn, round after round, so they share whatever the machine does."""
    from django.conf import settings
    from django.test import Client

    from statuspages.services import forget_rendered

    settings.STATUS_PAGE_CACHE_SECONDS = 0
    forget_rendered(SLUG)
    client = Client()
    found: dict[str, dict] = {label: {"wall": [], "cpu": []} for label in ADDRESSES}
    for round_ in range(args.warmup + args.requests):
        for label, path in ADDRESSES.items():
            wall, cpu = time.perf_counter(), time.process_time()
            response = client.get(path)
            wall, cpu = (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000
            assert response.status_code == 200, (path, response.status_code, response.content[:300])
            assert not response.cookies, (path, response.cookies)
            found[label]["size_bytes"] = len(response.content)
            if round_ >= args.warmup:
                found[label]["wall"].append(wall)
                found[label]["cpu"].append(cpu)
    results = {}
    for label, timed in found.items():
        results[label] = {
            "path": ADDRESSES[label],
            "p50_ms": round(statistics.median(timed["wall"]), 1),
            "p95_ms": round(percentile(timed["wall"], 0.95), 1),
            "max_ms": round(max(timed["wall"]), 1),
            "cpu_p50_ms": round(statistics.median(timed["cpu"]), 1),
            "size_bytes": timed["size_bytes"],
            "queries": queries_per_request(client, ADDRESSES[label]),
            "samples_ms": [round(v, 2) for v in timed["wall"]],
        }
    return results


def uncached_area(filename: str, name: str) -> str:
    """Which part of the stack an uncached page's profiled function belongs to."""
    if "psycopg" in filename or "psycopg" in name:
        return "PostgreSQL (psycopg: waiting, rows to Python)"
    for part, label in (
        ("/web/period_bars.py", "the 90-day bars (web/period_bars.py, web/charts.py)"),
        ("/web/charts.py", "the 90-day bars (web/period_bars.py, web/charts.py)"),
        ("/django/utils/html.py", "escaping (django.utils.html)"),
        ("/django/utils/safestring.py", "escaping (django.utils.html)"),
        ("/django/template/", "templates (django.template)"),
        ("/django/db/", "ORM (django.db)"),
        ("/statuspages/", "reading the page (statuspages/public.py)"),
        ("/checks/figures/", "reading the page (statuspages/public.py)"),
        ("/monitors/", "reading the page (statuspages/public.py)"),
        ("/web/", "the view and template tags (web/)"),
        ("/django/", "Django, other (request, middleware, cache, utils)"),
        ("/redis/", "Django, other (request, middleware, cache, utils)"),
    ):
        if part in filename:
            return label
    return "other (stdlib: strings, json, datetime)"


def profile_uncached(requests: int) -> dict:
    """Self time per part of the stack of the uncached page; a built-in's goes to its caller."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    settings.STATUS_PAGE_CACHE_SECONDS = 0
    client = Client()
    found = {}
    for label in ("page", "status.json"):
        sql_seconds = 0.0

        def timed(execute, sql, params, many, context):
            nonlocal sql_seconds
            began = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                sql_seconds += time.perf_counter() - began

        walls = []
        with connection.execute_wrapper(timed):
            for _ in range(requests):
                began = time.perf_counter()
                client.get(ADDRESSES[label])
                walls.append(time.perf_counter() - began)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            client.get(ADDRESSES[label])
        profiler.disable()
        totals: dict[str, float] = defaultdict(float)
        for (filename, _, name), (_, _, self_time, _, callers) in pstats.Stats(profiler).stats.items():
            if filename != "~" or "psycopg" in name:
                totals[uncached_area(filename, name)] += self_time
                continue
            for (caller_file, _, caller_name), (_, _, spent, _) in callers.items():
                totals[uncached_area(caller_file, caller_name)] += spent
        whole = sum(totals.values())
        found[label] = {
            "wall_p50_ms": round(statistics.median(walls) * 1000, 1),
            "sql_ms_per_request": round(sql_seconds * 1000 / requests, 1),
            "profile_ms_per_request": round(whole * 1000 / requests, 1),
            "profile_share_percent": {
                k: round(100 * v / whole, 1) for k, v in sorted(totals.items(), key=lambda i: -i[1])
            },
        }
    return found


# The load generator: N connections, each sending GETs in a loop on one keep-alive connection
# (opened again when the server closes it, as gunicorn's sync workers do after every answer).


async def _one_connection(port: int, path: str, measure_from: float, stop_at: float, found: dict) -> None:
    # As a browser or a CDN asks: the page is cached gzipped and sent so to whoever takes it.
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\nAccept-Encoding: gzip\r\n\r\n".encode()
    reader = writer = None
    while time.perf_counter() < stop_at:
        began = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                found["connections"] += 1
            assert reader is not None
            writer.write(request)
            status = int((await reader.readline()).split(b" ", 2)[1])
            length, close = 0, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            await reader.readexactly(length)
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as error:
            found["errors"] += 1
            found["error_kinds"][type(error).__name__] += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            continue
        ended = time.perf_counter()
        if began >= measure_from and ended <= stop_at:
            found["latency"].append(ended - began)
            if status != 200:
                found["errors"] += 1
                found["error_kinds"][f"HTTP {status}"] += 1
        if close and writer is not None:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def _drive(port: int, path: str, concurrency: int, warmup_seconds: float, seconds: float) -> dict:
    found: dict = {"latency": [], "errors": 0, "error_kinds": defaultdict(int), "connections": 0}
    measure_from = time.perf_counter() + warmup_seconds
    stop_at = measure_from + seconds
    await asyncio.gather(*(_one_connection(port, path, measure_from, stop_at, found) for _ in range(concurrency)))
    return found


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def valkey_process() -> psutil.Process | None:
    port = os.environ["REDIS_URL"].rsplit(":", 1)[1].split("/")[0]
    for process in psutil.process_iter(["name", "cmdline"]):
        if "valkey" in (process.info["name"] or "") and port in " ".join(process.info["cmdline"] or []):
            return process
    return None


def load(port: int, path: str, concurrency: int, args, server: psutil.Process) -> dict:
    workers = server.children(recursive=True)
    valkey = valkey_process()
    client_cpu = time.process_time()
    # CPU over the measured seconds only: sampled when the warm-up ends, from a timer.
    marks: dict[str, float] = {}

    def mark(name: str) -> None:
        marks[f"{name}_workers"] = cpu_seconds(workers)
        marks[f"{name}_valkey"] = cpu_seconds([valkey]) if valkey else 0.0
        marks[f"{name}_client"] = time.process_time()

    async def main() -> dict:
        loop = asyncio.get_running_loop()
        loop.call_later(args.warmup_seconds, mark, "from")
        loop.call_later(args.warmup_seconds + args.seconds, mark, "to")
        return await _drive(port, path, concurrency, args.warmup_seconds, args.seconds)

    found = asyncio.run(main())
    client_cpu = time.process_time() - client_cpu
    latency = [seconds * 1000 for seconds in found["latency"]]
    done = len(latency)
    per_request = 1000 / done if done else 0.0
    return {
        "concurrency": concurrency,
        "requests": done,
        "requests_per_second": round(done / args.seconds, 1),
        "p50_ms": round(statistics.median(latency), 2) if latency else None,
        "p95_ms": round(percentile(latency, 0.95), 2) if latency else None,
        "max_ms": round(max(latency), 2) if latency else None,
        "errors": found["errors"],
        "error_kinds": dict(found["error_kinds"]),
        "connections_opened": found["connections"],
        # CPU milliseconds per request served, over the measured seconds: what each side costs.
        "cpu_ms_per_request": {
            "gunicorn_workers": round((marks["to_workers"] - marks["from_workers"]) * per_request, 3),
            "valkey": round((marks["to_valkey"] - marks["from_valkey"]) * per_request, 3),
            "client": round((marks["to_client"] - marks["from_client"]) * per_request, 3),
        },
        "client_cpu_seconds_whole_run": round(client_cpu, 2),
    }


def serve_and_load(args, logs: Path) -> dict:
    found = {}
    for label, options in SERVERS:
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "uptime.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            *options,
            "--graceful-timeout=20",
            # As docker-compose.yml runs it: an access log line per request, to stdout.
            "--access-logfile=-",
        ]
        env = os.environ | {"STATUS_PAGE_CACHE_SECONDS": str(args.cache_seconds), "ALLOWED_HOSTS": "127.0.0.1"}
        log = logs / f"gunicorn-{len(found)}.log"
        with log.open("wb") as stderr:
            server = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            wait_until_serving(port, server, log)
            process = psutil.Process(server.pid)
            rows = []
            for concurrency in args.concurrency:
                say(f"{label}: {args.warmup_seconds} s warm-up, {args.seconds} s at concurrency {concurrency}")
                rows.append(load(port, ADDRESSES["page"], concurrency, args, process))
            # The same stack and cache with a body of 2 KB instead of the page's: what the
            # page's size costs.
            say(f"{label}: the feed (a small body), concurrency {args.concurrency[0]}")
            control = load(port, ADDRESSES["feed.atom"], args.concurrency[0], args, process)
            found[label] = {"command": " ".join(command[1:]), "runs": rows, "small_body_control": control}
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        lines = log.read_text(errors="replace").splitlines()
        found[label]["server_errors"] = [line for line in lines if "Traceback" in line or "Error" in line][-5:]
    return found


def wait_until_serving(port: int, server: subprocess.Popen, log: Path) -> None:
    import http.client

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", ADDRESSES["page"])
            response = connection.getresponse()
            response.read()
            connection.close()
            if response.status == 200:
                return
            raise RuntimeError(f"gunicorn answered {response.status}")
        except ConnectionRefusedError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 60 s")


def wsgi_environ(path: str) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "HTTP_ACCEPT": "*/*",
        "HTTP_ACCEPT_ENCODING": "gzip",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def area(filename: str, name: str) -> str:
    """Which part of the stack a profiled function belongs to."""
    for part, label in (
        ("/redis/", "cache GET (redis-py, socket to Valkey)"),
        ("/django/core/cache/", "cache GET (redis-py, socket to Valkey)"),
        ("/whitenoise/", "middleware"),
        ("/django/middleware/", "middleware"),
        ("/django/contrib/", "middleware"),
        ("/uptime/middleware", "middleware"),
        ("/web/status_domains", "middleware"),
        ("/django/core/handlers/", "Django's WSGI handler and request"),
        ("/django/http/", "HttpRequest / HttpResponse"),
        ("/django/urls/", "URL resolving"),
        ("/django/", "Django, other"),
        ("/web/", "the view"),
        ("/statuspages/", "the view"),
    ):
        if part in filename:
            return label
    if "pickle" in name or "loads" in name:
        return "cache GET (redis-py, socket to Valkey)"
    return "other (stdlib)"


def cached_request_parts(args) -> dict:
    """Where a cached request's time goes inside a worker: the whole WSGI call, the cache GET
    alone, the view alone (no middleware), and a profile of the WSGI calls by part."""
    from django.conf import settings
    from django.core.cache import cache
    from django.test import RequestFactory

    import uptime.wsgi
    from statuspages.services import cache_key
    from web.status_pages import status_page

    settings.STATUS_PAGE_CACHE_SECONDS = 3600  # stays cached for the whole measurement
    application = uptime.wsgi.application
    path = ADDRESSES["page"]

    statuses = []

    def whole() -> None:
        body = application(wsgi_environ(path), lambda status, headers, exc_info=None: statuses.append(status))
        b"".join(body)
        body.close()

    whole()
    assert statuses == ["200 OK"], statuses
    request = RequestFactory().get(path)
    key = cache_key(SLUG, "html")
    assert cache.get(key) is not None
    parts = {
        "wsgi_application_ms": lambda: whole(),
        "cache_get_ms": lambda: cache.get(key),
        "view_without_middleware_ms": lambda: status_page(request, slug=SLUG),
    }
    found = {}
    for name, call in parts.items():
        for _ in range(50):
            call()
        times = []
        for _ in range(args.part_requests):
            began = time.perf_counter()
            call()
            times.append((time.perf_counter() - began) * 1000)
        found[name] = round(statistics.median(times), 3)
    found["middleware_and_handler_ms"] = round(found["wsgi_application_ms"] - found["view_without_middleware_ms"], 3)
    found["view_less_cache_get_ms"] = round(found["view_without_middleware_ms"] - found["cache_get_ms"], 3)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.part_requests):
        whole()
    profiler.disable()
    totals: dict[str, float] = defaultdict(float)
    for (filename, _, name), (_, _, self_time, _, callers) in pstats.Stats(profiler).stats.items():
        if filename != "~":
            totals[area(filename, name)] += self_time
            continue
        # A built-in's time (socket calls, unpickling) goes to the part that called it.
        for (caller_file, _, caller_name), (_, _, spent, _) in callers.items():
            totals[area(caller_file, caller_name)] += spent
    whole_seconds = sum(totals.values())
    found["profile_ms_per_request"] = round(whole_seconds * 1000 / args.part_requests, 3)
    found["profile_share_percent"] = {
        k: round(100 * v / whole_seconds, 1) for k, v in sorted(totals.items(), key=lambda i: -i[1])
    }
    body = cache.get(key)[0]
    found["body_bytes"] = len(body)
    found["body_gzip_bytes"] = len(gzip.compress(body, compresslevel=6))
    assert set(statuses) == {"200 OK"}, set(statuses)
    return found


def code_measured() -> dict:
    """Which version of the status pages a run measured: the commit, whether the files differ
    from it, and a hash of the code as it was on disk (others may be changing it)."""
    folders = ("web", "statuspages", "checks/figures", "monitors")
    files = sorted(
        path
        for folder in folders
        for path in (BASE_DIR / folder).rglob("*")
        if path.suffix in (".py", ".html") and path.is_file() and "migrations" not in path.parts
    )
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(BASE_DIR).as_posix().encode() + b"\0" + path.read_bytes())
    git = ["git", "-C", str(BASE_DIR)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    changed = subprocess.run([*git, "status", "--porcelain", "--", *folders], capture_output=True, text=True)
    return {
        "git_head": head.stdout.strip(),
        "changed_since_head": [line[3:] for line in changed.stdout.splitlines()],
        "code_sha256": digest.hexdigest()[:16],
        "code_changed_at": datetime.fromtimestamp(max(p.stat().st_mtime for p in files), UTC).isoformat(
            timespec="seconds"
        ),
    }


def run(args, logs: Path) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--no-input", verbosity=0)
    code = code_measured()
    data = seed(random.Random(args.seed))
    # The process as uptime/wsgi.py makes a served one: loaded, then gc.freeze().
    gc.collect()
    import uptime.wsgi  # noqa: F401

    say(f"uncached: {len(ADDRESSES)} addresses, {args.warmup} warm-up and {args.requests} timed requests each")
    uncached = time_uncached(args)
    say(f"where an uncached page's time goes: {args.profile_requests} requests, timed then profiled")
    uncached_parts = profile_uncached(args.profile_requests)
    say("cached: gunicorn and the load generator")
    cached = serve_and_load(args, logs)
    say("where a cached request's time goes, in this process")
    parts = cached_request_parts(args)
    best = max(row["requests_per_second"] for server in cached.values() for row in server["runs"])
    page_p95 = uncached["page"]["p95_ms"]
    targets = {
        "uncached_page_p95_ms": {
            "target": UNCACHED_TARGET_MS,
            "found": page_p95,
            "met": page_p95 <= UNCACHED_TARGET_MS,
        },
        "cached_requests_per_second": {"target": CACHED_TARGET_RPS, "found": best, "met": best >= CACHED_TARGET_RPS},
    }
    code["code_sha256_at_end"] = code_measured()["code_sha256"]
    return {
        "code": code,
        "data": data,
        "uncached": uncached,
        "uncached_parts": uncached_parts,
        "cached": cached,
        "cached_request_parts": parts,
        "targets": targets,
    }


def print_report(report: dict) -> None:
    print(f"\nuncached (STATUS_PAGE_CACHE_SECONDS=0), {report['options']['requests']} requests each, test client:")
    print(f"{'address':<13} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'CPU p50':>8} {'KB':>6} {'queries':>8}")
    for label, row in report["uncached"].items():
        print(
            f"{label:<13} {row['p50_ms']:>7.1f} {row['p95_ms']:>7.1f} {row['max_ms']:>7.1f} {row['cpu_p50_ms']:>8.1f}"
            f" {row['size_bytes'] / 1024:>6.1f} {row['queries']:>8}"
        )
    for label, row in report["uncached_parts"].items():
        shares = ", ".join(f"{name} {share}%" for name, share in row["profile_share_percent"].items() if share >= 1)
        print(
            f"uncached {label}: p50 {row['wall_p50_ms']} ms, SQL {row['sql_ms_per_request']} ms of it;"
            f" profile ({row['profile_ms_per_request']} ms a request under cProfile): {shares}"
        )
    options = report["options"]
    print(
        f"\ncached: GET {ADDRESSES['page']} from gunicorn, {options['seconds']} s after {options['warmup_seconds']} s"
        f" warm-up; the client runs on the same {report['machine']['cpus']} cores, so requests/s is a floor"
    )
    print(
        f"{'server':<44} {'conc':>5} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'errors':>7}"
        f" {'CPU ms/req: workers':>20} {'valkey':>7} {'client':>7}"
    )
    for label, server in report["cached"].items():
        for row in [*server["runs"], server["small_body_control"] | {"control": True}]:
            cpu = row["cpu_ms_per_request"]
            name = label + (" (feed, 2 KB)" if "control" in row else "")
            print(
                f"{name:<44} {row['concurrency']:>5} {row['requests_per_second']:>7.0f} {row['p50_ms']:>7.1f}"
                f" {row['p95_ms']:>7.1f} {row['errors']:>7} {cpu['gunicorn_workers']:>20.3f} {cpu['valkey']:>7.3f}"
                f" {cpu['client']:>7.3f}"
            )
    parts = report["cached_request_parts"]
    print(
        f"\na cached request in one process (medians, ms): WSGI application {parts['wsgi_application_ms']},"
        f" of which the view {parts['view_without_middleware_ms']} (its cache GET {parts['cache_get_ms']}),"
        f" middleware and handler {parts['middleware_and_handler_ms']}; body {parts['body_bytes'] / 1024:.1f} KB"
        f" ({parts['body_gzip_bytes'] / 1024:.1f} KB gzipped)"
    )
    shares = ", ".join(f"{name} {share}%" for name, share in parts["profile_share_percent"].items() if share >= 1)
    print(f"profile ({parts['profile_ms_per_request']} ms a request under cProfile): {shares}")
    print()
    for name, target in report["targets"].items():
        relation = "≤" if name.startswith("uncached") else "≥"
        print(
            f"target: {name} {relation} {target['target']}: {'met' if target['met'] else 'MISSED'} ({target['found']})"
        )
    code = report["code"]
    changed = f", with changes to {len(code['changed_since_head'])} files" if code["changed_since_head"] else ""
    print(
        f"code: {code['git_head']}{changed}; hash {code['code_sha256']} (last changed {code['code_changed_at']};"
        f" at the end {code['code_sha256_at_end']})"
    )
    machine = report["machine"]
    print(
        f"machine ms before / after: {machine['machine_ms_before']} / {machine['machine_ms_after']}; "
        f"load average before / after: {machine['load_before']} / {machine['load_after']}"
    )


def concurrency_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.statuspages", description=" ".join(__doc__.split("\n\n")[0].split())
    )
    parser.add_argument("--requests", type=int, default=200, help="timed uncached requests per address")
    parser.add_argument("--warmup", type=int, default=10, help="untimed uncached requests per address first")
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds of each cached load")
    parser.add_argument("--warmup-seconds", type=float, default=3, help="unmeasured seconds before each")
    parser.add_argument("--concurrency", type=concurrency_list, default=[16, 64], help="connections, comma-separated")
    parser.add_argument("--cache-seconds", type=int, default=10, help="STATUS_PAGE_CACHE_SECONDS of gunicorn")
    parser.add_argument("--part-requests", type=int, default=1000, help="requests per part of a cached request")
    parser.add_argument("--profile-requests", type=int, default=20, help="uncached requests timed, then profiled")
    parser.add_argument("--seed", type=int, default=1, help="seed of the data's random choices")
    parser.add_argument("--out", default="bench/results")
    args = parser.parse_args(argv)
    if args.requests < 1 or not args.concurrency:
        parser.error("--requests and --concurrency must be at least 1")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    with served_process("statuspages") as machine, tempfile.TemporaryDirectory(prefix="uptime-bench-gunicorn-") as logs:
        report = run(args, Path(logs))
    report = {
        **report_head("bench.statuspages", machine, args),
        **report,
    }
    print_report(report)
    write_report("statuspages", stamp, args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
