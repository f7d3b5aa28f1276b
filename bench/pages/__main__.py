"""Server time of the web pages: the dashboard of a user with 1,000 monitors (its first
and, when it is paged, its last page, and its live part /dashboard/rows/), and a monitor page
with 90 days of data in each window.

    .venv/bin/python -m bench.pages [--monitors 1000] [--requests 30] [--profile]

Starts its own throwaway PostgreSQL and Valkey (uptime.embedded), seeds the data in bulk
(ticks in SQL, rollups rebuilt from them), then requests each page in turn in this process
through Django's test client: a signed-in session, every middleware, real PostgreSQL. Then a
few more requests per page instrumented (SQL, template, the rest) and, with --profile, under
cProfile. Prints a table and which targets are met; writes bench/results/pages-<time>.json.
"""

import argparse
import contextlib
import cProfile
import gc
import hashlib
import json
import math
import pstats
import random
import secrets
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from uptime.embedded import BASE_DIR

from ..served import percentile, say, served_process, write_report

WINDOWS = ("24h", "7d", "30d", "90d")
# The targets, p95 ms: the dashboard at 1,000 monitors, a monitor page in every window.
DASHBOARD_TARGET_MS = 300
MONITOR_TARGET_MS = 100
# Current status of the dashboard's monitors, drawn in this proportion (cumulative bounds).
STATUS_MIX = ((0.04, "down"), (0.07, "degraded"), (0.09, "pending"), (0.14, "paused"), (0.15, "maintenance"))
NAMES = ("Shop", "API", "Blog", "Docs", "Status", "Checkout", "Login", "CDN", "Search", "Billing")
LATE_SECONDS = 600  # a late region's checks stopped arriving this long ago


def multirange(ranges) -> str:
    """A tstzmultirange literal; an end of None is open."""
    inner = ",".join(f'["{a.isoformat()}","{b.isoformat() if b else "infinity"}")' for a, b in ranges)
    return "{" + inner + "}"


# One row per monitor and region: its slots from first to last every step, down inside
# down_during, in maintenance inside maintenance_during, and none inside missing_during (gaps).
# Inserted in slot order, as ticks arrive. Up times spread ±30% around the monitor's own.
TICKS_SQL = """
INSERT INTO checks_tick (monitor_id, region_id, status, status_code, response_time_ms, error, attempts,
                         scheduled_at, checked_at, in_maintenance)
SELECT monitor_id, region_id,
    CASE WHEN down_during @> slot THEN 'down' ELSE 'up' END,
    CASE WHEN NOT down_during @> slot THEN 200 WHEN mod(extract(minute FROM slot)::int, 2) = 0 THEN NULL ELSE 503 END,
    CASE WHEN down_during @> slot AND mod(extract(minute FROM slot)::int, 2) = 0 THEN NULL
         ELSE (base_ms * (0.7 + random() * 0.6 + CASE WHEN random() < 0.02 THEN random() * 4 ELSE 0 END))::int END,
    CASE WHEN NOT down_during @> slot THEN ''
         WHEN mod(extract(minute FROM slot)::int, 2) = 0 THEN 'Timed out after 10 s'
         ELSE 'HTTP 503, expected 200-399' END,
    CASE WHEN down_during @> slot THEN 3 ELSE 1 END,
    slot, slot + random() * interval '300 milliseconds', maintenance_during @> slot
FROM json_to_recordset(%s::json) AS plan(monitor_id bigint, region_id bigint, step_seconds int,
    first_slot timestamptz, last_slot timestamptz, base_ms int, down_during tstzmultirange,
    maintenance_during tstzmultirange, missing_during tstzmultirange)
CROSS JOIN LATERAL generate_series(first_slot, last_slot, make_interval(secs => step_seconds)) AS slot
WHERE NOT missing_during @> slot
ORDER BY slot
"""


def plan(monitor, region, first, last, base_ms, down=(), maintenance=(), missing=()) -> dict:
    return {
        "monitor_id": monitor.pk,
        "region_id": region.pk,
        "step_seconds": monitor.interval_seconds,
        "first_slot": first.isoformat(),
        "last_slot": last.isoformat(),
        "base_ms": base_ms,
        "down_during": multirange(down),
        "maintenance_during": multirange(maintenance),
        "missing_during": multirange(missing),
    }


def long_history(monitor, regions, now, days, incidents, rng) -> tuple[list, list, list, list]:
    """90 days (--days) of one monitor: resolved incidents (one in the last 24 h), degraded
    spells in one region, weekly maintenance, closed gaps; its tick plans and the rows."""
    from checks.models import Gap, Incident, StatusChange
    from monitors.models import MaintenanceWindow

    start = now - timedelta(days=days)
    slugs = [region.slug for region in regions]
    offsets = sorted(rng.uniform(3600, days * 86400 - 8 * 3600) for _ in range(max(0, incidents - 1)))
    spells, busy_until = [], start  # (start, end, regions, incident?)
    for offset in [*offsets, days * 86400 - 5 * 3600][: max(0, incidents)]:
        began = start + timedelta(seconds=offset)
        if began > busy_until:
            ended = began + timedelta(seconds=min(3 * 3600, max(120, rng.lognormvariate(math.log(600), 1.0))))
            spells.append((began, ended, slugs if rng.random() < 0.6 else sorted(rng.sample(slugs, 2)), True))
            busy_until = ended
    for _ in range(incidents // 2):  # one region down a few minutes: degraded, no incident
        began = start + timedelta(seconds=rng.uniform(3600, days * 86400 - 3600))
        if all(began > e + timedelta(hours=1) or began + timedelta(hours=1) < s for s, e, _, _ in spells):
            spells.append((began, began + timedelta(seconds=rng.uniform(120, 600)), [rng.choice(slugs)], False))
    spells.sort()
    # Sundays 03:00-04:00 UTC, from the Sunday on or before the start.
    sunday = (start - timedelta(days=(start.weekday() + 1) % 7)).replace(hour=3, minute=0, second=0)
    window = MaintenanceWindow.objects.create(
        organization_id=monitor.organization_id,
        name="Weekly deploys",
        starts_at=sunday,
        ends_at=sunday + timedelta(hours=1),
        recurrence=MaintenanceWindow.Recurrence.WEEKLY,
    )
    window.monitors.add(monitor)
    weekly = [(sunday + timedelta(weeks=w), sunday + timedelta(weeks=w, hours=1)) for w in range(days // 7 + 2)]
    weekly = [(a, b) for a, b in weekly if a < now]
    gaps = []
    for _ in range(5):
        region = rng.choice(regions)
        began = start + timedelta(seconds=60 * round(rng.uniform(2000, days * 1440 - 2000)))
        slots = rng.randint(3, 30)
        ended = began + timedelta(seconds=60 * slots)
        gaps.append(
            Gap(
                monitor=monitor,
                region=region,
                starts_at=began,
                ends_at=ended,
                slots_missed=slots,
                detected_at=began + timedelta(minutes=2),
            )
        )
    changes, opened = [], []
    for began, ended, down, is_incident in spells:
        worse = "down" if is_incident else "degraded"
        changes += [
            StatusChange(
                monitor=monitor,
                changed_at=began,
                from_status="up",
                to_status=worse,
                reason=f"down from {', '.join(down)}",
                down_regions=down,
            ),
            StatusChange(monitor=monitor, changed_at=ended, from_status=worse, to_status="up", reason="up again"),
        ]
        if is_incident:
            opened.append(
                Incident(
                    monitor=monitor,
                    started_at=began,
                    resolved_at=ended,
                    regions=down,
                    first_error="Timed out after 10 s",
                    resolution="up",
                )
            )
    for began, ended in weekly:
        changes += [
            StatusChange(monitor=monitor, changed_at=began, from_status="up", to_status="maintenance"),
            StatusChange(monitor=monitor, changed_at=min(ended, now), from_status="maintenance", to_status="up"),
        ]
    phase = timedelta(seconds=rng.randrange(60))
    plans = [
        plan(
            monitor,
            region,
            start + phase,
            now,
            180,
            down=[(s, e) for s, e, down, _ in spells if region.slug in down],
            maintenance=weekly,
            missing=[(g.starts_at, g.ends_at) for g in gaps if g.region == region],
        )
        for region in regions
    ]
    return plans, changes, opened, gaps


def seed(args, rng: random.Random) -> dict:
    from django.db import connection

    from accounts.models import User
    from checks.figures import rollups
    from checks.models import Gap, Incident, StatusChange
    from monitors.models import Monitor, Region

    from ..organizations import personal_organization

    started = time.perf_counter()
    now = datetime.now(UTC).replace(microsecond=0)
    regions = list(Region.objects.order_by("slug"))
    owner = User.objects.create_user(email="pages@example.com", password=secrets.token_urlsafe())
    organization = personal_organization(owner)
    specs = []  # (monitor, its regions, base ms)
    for n in range(args.monitors):
        draw = rng.random()
        status = next((s for bound, s in STATUS_MIX if draw < bound), "up") if n else "up"
        mine = (
            regions
            if n == 0
            else sorted(rng.sample(regions, (1, 1, 1, 1, 2, 2, 2, 3, 3, 3)[n % 10]), key=lambda r: r.slug)
        )
        changed = now - (
            timedelta(seconds=rng.uniform(300, 6 * 3600)) if status != "up" else timedelta(days=rng.uniform(1, 60))
        )
        late = [mine[-1].slug] if status == "up" and len(mine) > 1 and rng.random() < 0.03 else []
        word = NAMES[n % len(NAMES)] if n else "Shop"
        monitor = Monitor(
            organization=organization,
            name=f"{word} {n}" if n else "Shop (90 days)",
            url=f"https://{word.lower()}{n}.example.com/health" if n else "https://shop.example.com/",
            interval_seconds=60 if n == 0 else rng.choice((60,) * 6 + (120,) * 2 + (300,) * 2),
            status=status,
            status_changed_at=changed,
            last_checked_at=changed if status == "paused" else now,
            is_active=status != "paused",
            late_regions=late,
            checking_since=now - timedelta(days=args.days),
            tls_expires_at=now + timedelta(days=40 if n == 0 else rng.uniform(5, 90)),
        )
        specs.append((monitor, mine, rng.randint(40, 600)))
    Monitor.objects.bulk_create(spec[0] for spec in specs)
    Monitor.regions.through.objects.bulk_create(
        Monitor.regions.through(monitor=monitor, region=region) for monitor, mine, _ in specs for region in mine
    )
    long_monitor = specs[0][0]
    plans, changes, incidents, gaps = long_history(long_monitor, regions, now, args.days, args.incidents, rng)
    if changes:  # up since its last change
        long_monitor.status_changed_at = max(change.changed_at for change in changes)
        long_monitor.save(update_fields=["status_changed_at"])
    for monitor, mine, base_ms in specs[1:]:
        changed, status = monitor.status_changed_at, monitor.status
        if status != "up":
            changes.append(
                StatusChange(
                    monitor=monitor,
                    changed_at=changed,
                    from_status="up",
                    to_status=status,
                    down_regions=[r.slug for r in mine] if status == "down" else [],
                )
            )
        if status == "down":
            incidents.append(
                Incident(
                    monitor=monitor,
                    started_at=changed,
                    regions=[r.slug for r in mine],
                    first_error="Timed out after 10 s",
                )
            )
        for index, region in enumerate(mine):
            last = changed if status == "paused" else now
            if region.slug in monitor.late_regions:
                last = now - timedelta(seconds=LATE_SECONDS)
                gaps.append(
                    Gap(
                        monitor=monitor,
                        region=region,
                        starts_at=last + timedelta(seconds=monitor.interval_seconds),
                        slots_missed=LATE_SECONDS // monitor.interval_seconds,
                        detected_at=now,
                    )
                )
            down = status == "down" or (status == "degraded" and index == 0)
            first = now - timedelta(hours=args.hours, seconds=rng.randrange(monitor.interval_seconds))
            plans.append(
                plan(
                    monitor,
                    region,
                    first,
                    last,
                    base_ms,
                    down=[(changed, None)] if down else [],
                    maintenance=[(changed, None)] if status == "maintenance" else [],
                )
            )
    StatusChange.objects.bulk_create(changes)
    Incident.objects.bulk_create(incidents)
    Gap.objects.bulk_create(gaps)
    with connection.cursor() as cursor:
        cursor.execute(TICKS_SQL, [json.dumps(plans)])
        ticks = cursor.rowcount
        say(f"{ticks:,} ticks ({time.perf_counter() - started:.0f} s)")
        built = rollups.rebuild(now - timedelta(days=max(args.days, math.ceil(args.hours / 24))))
        cursor.execute("VACUUM ANALYZE")
    seconds = round(time.perf_counter() - started, 1)
    say(f"{built['hourly']:,} hourly and {built['daily']:,} daily rollups; seeded in {seconds} s")
    return {
        "owner": owner,
        "long_monitor": long_monitor,
        "counts": {
            "monitors": len(specs),
            "monitor_regions": sum(len(mine) for _, mine, _ in specs),
            "statuses": {s: sum(m.status == s for m, _, _ in specs) for s in {m.status for m, _, _ in specs}},
            "late_monitors": sum(bool(m.late_regions) for m, _, _ in specs),
            "ticks": ticks,
            "hourly_rollups": built["hourly"],
            "daily_rollups": built["daily"],
            "status_changes": len(changes),
            "incidents": len(incidents),
            "gaps": len(gaps),
            "long_monitor_incidents": sum(i.monitor_id == long_monitor.pk for i in incidents),
        },
        "seed_seconds": seconds,
    }


class GcPauses:
    """Time this process spent in the garbage collector, and its full collections."""

    def __init__(self):
        self.seconds, self.full, self._began = 0.0, 0, None
        gc.callbacks.append(self._callback)

    def _callback(self, phase, info):
        if phase == "start":
            self._began = time.perf_counter()
        elif self._began is not None:
            self.seconds += time.perf_counter() - self._began
            self.full += info["generation"] == 2


def time_pages(client, pages: dict, warmup: int, requests: int) -> dict:
    """Each page in turn, round after round, so they share whatever the machine does."""
    pauses = GcPauses()
    found = {label: {"wall": [], "cpu": [], "gc_ms": 0.0, "full_collections": 0} for label in pages}
    for round_ in range(warmup + requests):
        for label, path in pages.items():
            gc_before, full_before = pauses.seconds, pauses.full
            wall, cpu = time.perf_counter(), time.process_time()
            response = client.get(path)
            wall, cpu = (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000
            assert response.status_code == 200, (path, response.status_code, response.content[:300])
            page = found[label]
            page["size_bytes"] = len(response.content)
            if round_ >= warmup:
                page["wall"].append(wall)
                page["cpu"].append(cpu)
                page["gc_ms"] += (pauses.seconds - gc_before) * 1000
                page["full_collections"] += pauses.full - full_before
    return found


class Breakdown:
    """Where one request's time goes: SQL (each statement's execute: PostgreSQL running it and
    sending its rows), the template's render less the SQL run from inside it, and the rest
    (the view's Python, turning rows into objects, middleware, the test client)."""

    def __init__(self):
        self.sql = self.sql_in_template = self.template = 0.0
        self.queries, self.depth = 0, 0
        self.statements: dict[str, float] = defaultdict(float)

    def execute(self, execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - began
            self.queries += 1
            self.sql += spent
            self.sql_in_template += spent if self.depth else 0
            self.statements[" ".join(sql.split())[:110]] += spent

    @contextlib.contextmanager
    def watching(self):
        from django.db import connection
        from django.template.backends.django import Template

        original, breakdown = Template.render, self

        def render(template, context=None, request=None):
            breakdown.depth += 1
            began = time.perf_counter()
            try:
                return original(template, context, request)
            finally:
                breakdown.depth -= 1
                if not breakdown.depth:
                    breakdown.template += time.perf_counter() - began

        Template.render = render
        try:
            with connection.execute_wrapper(self.execute):
                yield
        finally:
            Template.render = original


def break_down(client, pages: dict, requests: int) -> dict:
    found = {}
    for label, path in pages.items():
        rows, statements = [], defaultdict(float)
        for _ in range(requests):
            breakdown = Breakdown()
            with breakdown.watching():
                began = time.perf_counter()
                client.get(path)
                wall = time.perf_counter() - began
            rows.append(
                {
                    "wall_ms": wall * 1000,
                    "sql_ms": breakdown.sql * 1000,
                    "queries": breakdown.queries,
                    "template_ms": (breakdown.template - breakdown.sql_in_template) * 1000,
                    "other_python_ms": (wall - breakdown.sql - breakdown.template + breakdown.sql_in_template) * 1000,
                }
            )
            for sql, spent in breakdown.statements.items():
                statements[sql] += spent * 1000 / requests
        found[label] = {name: round(statistics.median(r[name] for r in rows), 1) for name in rows[0]}
        top = sorted(statements.items(), key=lambda item: -item[1])[:5]
        found[label]["slowest_statements_ms"] = [[round(ms, 2), sql] for sql, ms in top]
    return found


def area(filename: str, name: str) -> str:
    """Which part of the stack a profiled function belongs to."""
    if filename == "~" and "wait" in name:  # psycopg's C wait, if the profiler sees it
        return "waiting for PostgreSQL"
    if "psycopg" in filename or "psycopg" in name:
        return "waiting for PostgreSQL" if "wait" in name else "psycopg (rows to Python)"
    if filename.startswith(str(BASE_DIR)) and ".venv" not in filename:
        relative = Path(filename).relative_to(BASE_DIR).as_posix()
        if relative == "web/charts.py":
            return "SVG charts (web/charts.py)"
        return (
            "template tags (web/templatetags)" if "templatetags" in relative else f"our code: {relative.split('/')[0]}/"
        )
    for part, label in (
        ("/django/template/", "templates (django.template)"),
        ("/django/utils/", "django.utils"),
        ("/django/db/", "ORM (django.db)"),
        ("/django/", "Django: request path, sessions, auth"),
    ):
        if part in filename:
            return label
    return "other (stdlib)"


def profile(client, pages: dict, requests: int, out: Path, stamp: str) -> dict:
    """Self time per part of the stack; a built-in's time goes to the part that called it."""
    found = {}
    for label, path in pages.items():
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            client.get(path)
        profiler.disable()
        file = out / "logs" / f"pages-{stamp}-{label.replace(' ', '-').replace(',', '')}.prof"
        file.parent.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(str(file))
        totals: dict[str, float] = defaultdict(float)
        for (filename, _, name), (_, _, self_time, _, callers) in pstats.Stats(profiler).stats.items():
            if filename != "~" or "wait" in name:
                totals[area(filename, name)] += self_time
                continue
            for (caller_file, _, caller_name), (_, _, spent, _) in callers.items():
                totals[area(caller_file, caller_name)] += spent
        whole = sum(totals.values())
        found[label] = {
            "file": str(file),
            "ms_per_request": round(whole * 1000 / requests, 1),
            "share_percent": {k: round(100 * v / whole, 1) for k, v in sorted(totals.items(), key=lambda i: -i[1])},
        }
    return found


def run(args) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", "--no-input", verbosity=0)
    data = seed(args, random.Random(args.seed))
    monitor = data.pop("long_monitor")
    # The process as uptime/wsgi.py makes a served one: the application loaded, then whatever
    # that module does to the collector (gc.freeze(): full collections skip what lives on).
    gc.collect()
    import uptime.wsgi  # noqa: F401

    data["gc_frozen_objects"] = gc.get_freeze_count()
    client = Client()
    client.force_login(data.pop("owner"))
    # The pages' modules and templates are loaded by the first request, just after this.
    code = code_measured()
    # The dashboard shows a page of monitors, worst first; the last page is timed too.
    shown = data["dashboard_rows_shown"] = client.get("/").content.count(b'data-monitor="')
    pages = {f"dashboard, {args.monitors:,} monitors": "/"}
    if 0 < shown < args.monitors:
        last = math.ceil(args.monitors / shown)
        pages = {f"dashboard, page 1 ({shown} shown)": "/", f"dashboard, page {last}": f"/?page={last}"}
    pages["dashboard rows (live part)"] = "/dashboard/rows/"
    pages |= {f"monitor page {window}": f"/monitors/{monitor.pk}/?window={window}" for window in WINDOWS}
    # What a full collection walks before a request adds its own objects.
    data["gc_tracked_objects"] = len(gc.get_objects())
    say(f"the dashboard shows {shown} of {args.monitors} monitors a page")
    say(f"timing {len(pages)} pages, {args.warmup} warm-up and {args.requests} timed requests each, in turn")
    timed = time_pages(client, pages, args.warmup, args.requests)
    results = {}
    for label, page in timed.items():
        results[label] = {
            "path": pages[label],
            "p50_ms": round(statistics.median(page["wall"]), 1),
            "p95_ms": round(percentile(page["wall"], 0.95), 1),
            "max_ms": round(max(page["wall"]), 1),
            "cpu_p50_ms": round(statistics.median(page["cpu"]), 1),
            "size_bytes": page["size_bytes"],
            "gc_ms": round(page["gc_ms"], 1),
            "full_collections": page["full_collections"],
            "samples_ms": [round(v, 2) for v in page["wall"]],
        }
    say("breaking each page's time down (SQL, template, other Python)")
    breakdown = break_down(client, pages, args.breakdown_requests)
    profiles = {}
    if args.profile:
        say(f"profiling {args.profile_requests} requests per page")
        profiles = profile(client, pages, args.profile_requests, Path(args.out), args.stamp)
    targets = {
        label: {"target_p95_ms": target, "p95_ms": results[label]["p95_ms"], "met": results[label]["p95_ms"] <= target}
        for label in pages
        for target in [DASHBOARD_TARGET_MS if label.startswith("dashboard") else MONITOR_TARGET_MS]
    }
    code["pages_code_sha256_at_end"] = code_measured()["pages_code_sha256"]
    return {
        "code": code,
        "data": data,
        "pages": results,
        "breakdown": breakdown,
        "targets": targets,
        "profile": profiles,
    }


def print_report(report: dict) -> None:
    print(
        f"\n{'page':<32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'CPU p50':>8} {'KB':>7} {'GC ms':>6}"
        f" {'queries':>8} {'target':>7} {'met':>4}"
    )
    for label, page in report["pages"].items():
        target = report["targets"][label]
        print(
            f"{label:<32} {page['p50_ms']:>8.1f} {page['p95_ms']:>8.1f} {page['max_ms']:>8.1f}"
            f" {page['cpu_p50_ms']:>8.1f} {page['size_bytes'] / 1024:>7.1f} {page['gc_ms']:>6.0f}"
            f" {report['breakdown'][label]['queries']:>8} {target['target_p95_ms']:>7} "
            f"{'yes' if target['met'] else 'NO':>4}"
        )
    print(f"\nmedians of {report['options']['breakdown_requests']} instrumented requests per page, ms:")
    print(f"{'page':<32} {'wall':>7} {'SQL':>7} {'template':>9} {'other Python':>13}")
    for label, row in report["breakdown"].items():
        print(
            f"{label:<32} {row['wall_ms']:>7.1f} {row['sql_ms']:>7.1f} {row['template_ms']:>9.1f}"
            f" {row['other_python_ms']:>13.1f}"
        )
    for label, found in report["profile"].items():
        shares = ", ".join(f"{name} {share}%" for name, share in found["share_percent"].items() if share >= 1)
        print(f"profile, {label} ({found['ms_per_request']} ms a request under cProfile): {shares}")
    missed = [label for label, target in report["targets"].items() if not target["met"]]
    print()
    for kind, target in (("dashboard", DASHBOARD_TARGET_MS), ("monitor page", MONITOR_TARGET_MS)):
        p95s = {label: t["p95_ms"] for label, t in report["targets"].items() if label.startswith(kind)}
        met = all(p95 <= target for p95 in p95s.values())
        spread = f"{min(p95s.values())}–{max(p95s.values())} ms"
        print(f"target: {kind} p95 ≤ {target} ms: {'met' if met else 'MISSED'} ({spread})")
    print("every target met" if not missed else "missed: " + "; ".join(missed))
    machine, code = report["machine"], report["code"]
    print(
        f"code: {code['git_head']} with the pages' code at {code['pages_code_sha256']}"
        f" (last changed {code['pages_code_changed_at']}; at the end {code['pages_code_sha256_at_end']})"
    )
    print(
        f"machine ms before / after: {machine['machine_ms_before']} / {machine['machine_ms_after']}; "
        f"load average before / after: {machine['load_before']} / {machine['load_after']}"
    )


def code_measured() -> dict:
    """Which version of the pages a run measured: the commit, and a hash of the pages' code as
    it was on disk (web/ and checks/figures/, edits not yet committed included)."""
    files = sorted(
        path
        for folder in ("web", "checks/figures")
        for path in (BASE_DIR / folder).rglob("*")
        if path.suffix in (".py", ".html") and path.is_file()
    )
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(BASE_DIR).as_posix().encode() + b"\0" + path.read_bytes())
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True)
    return {
        "git_head": head.stdout.strip(),
        "pages_code_sha256": digest.hexdigest()[:16],
        "pages_code_changed_at": datetime.fromtimestamp(max(p.stat().st_mtime for p in files), UTC).isoformat(
            timespec="seconds"
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.pages", description=" ".join(__doc__.split("\n\n")[0].split())
    )
    parser.add_argument("--monitors", type=int, default=1000, help="the user's monitors (the dashboard's rows)")
    parser.add_argument("--hours", type=int, default=24, help="hours of ticks of each dashboard monitor")
    parser.add_argument("--days", type=int, default=90, help="days of 60 s ticks of the monitor page's monitor")
    parser.add_argument("--incidents", type=int, default=12, help="incidents of that monitor over its days")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page first")
    parser.add_argument("--breakdown-requests", type=int, default=5, help="instrumented requests per page")
    parser.add_argument("--profile", action="store_true", help="also cProfile each page (files in OUT/logs)")
    parser.add_argument("--profile-requests", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1, help="seed of the data's random choices")
    parser.add_argument("--out", default="bench/results")
    args = parser.parse_args()
    if args.monitors < 1:
        parser.error("--monitors must be at least 1 (the first is the monitor page's)")
    args.stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    with served_process("pages") as machine:
        report = run(args)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": ".venv/bin/python -m bench.pages " + " ".join(sys.argv[1:]),
        "machine": machine,
        "options": {k: v for k, v in vars(args).items() if k != "stamp"},
        **report,
    }
    print_report(report)
    write_report("pages", args.stamp, args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
