"""Creating monitors in bulk, and one at a time in a large account.

    .venv/bin/python -m bench.bulk_create [--monitors 10000] [--repeat 3] [--account 25000] [--singles 40]

Starts its own throwaway PostgreSQL and Valkey (uptime.embedded), then, in this process:

- bulk API: POST /api/monitors/bulk with --monitors monitors through Django's test client
  (every middleware, a real JWT, REQUEST_MAX_BYTES raised for the body), a fresh user per
  run, each monitor's own host (so the address guard resolves --monitors names, side by
  side); the request's time split into validating and writing;
- create_monitors: the domain function alone, the same monitors;
- one create_monitor in an account of 10 monitors and in one of --account, taken in turn
  (so the machine's noise falls on both alike), with the quota on (MONITOR_QUOTA_PER_ORGANIZATION
  above --account, so it is counted) and off;
- checked within one interval: the project's own `celery beat` running, a last bulk request
  of --monitors monitors (--interval seconds), and every queue drained as beat sends:
  whether each monitor's first check was sent for a slot within one interval of the
  request, and the checks sent per second over that interval (spread, not a burst).

Medians of --repeat runs. Prints a table; writes bench/results/bulk-create-<time>.json.
"""

import argparse
import base64
import json
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime

from .served import report_head, say, served_process, write_report

TARGET_PER_SECOND = 1000


# Distinct host names among a batch's URLs (each URL its own path): the address guard looks
# each host up once per request (see --hosts).
HOSTS = 50


def bulk_body(count: int, tag: str, hosts: int, interval_seconds: int = 60) -> dict:
    regions = ("europe", "india", "usa")
    return {
        "monitors": [
            {
                "name": f"{tag} {n}",
                "url": f"https://{tag}-{n % hosts}.example.com/{n}/health",
                "regions": [regions[n % 3]],
                "interval_seconds": interval_seconds,
                "timeout_seconds": 5,
            }
            for n in range(count)
        ]
    }


def new_user(email: str):
    from accounts.models import User

    return User.objects.create_user(email=email, password="bench-password-not-secret")


def new_organization(email: str):
    """A new user's personal organization."""
    from .organizations import personal_organization

    return personal_organization(new_user(email))


def api_client(user):
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


class Split:
    """The time of a bulk request's validation and of its writing, as it runs."""

    def __init__(self):
        import monitors.api.bulk
        from monitors.api.bulk import BulkMonitorsSerializer

        self.seconds: dict[str, float] = {}
        for name, method in (("validate", "is_valid"), ("write", "save")):
            original = getattr(BulkMonitorsSerializer, method)
            setattr(BulkMonitorsSerializer, method, self._timed(name, original))
        # The URL rules' share of validating: the address guard's DNS lookups, which take
        # what the resolver takes.
        monitors.api.bulk.url_errors = self._timed("urls", monitors.api.bulk.url_errors)

    def _timed(self, name, original):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[name] = time.perf_counter() - started

        return timed


def bulk_api_run(count: int, hosts: int, run: int, split: Split) -> dict:
    from django.db import connection

    client = api_client(new_user(f"bulk-api-{run}@example.com"))
    body = json.dumps(bulk_body(count, f"api{run}", hosts))
    started = time.perf_counter()
    response = client.post("/api/monitors/bulk/", body, content_type="application/json")
    seconds = time.perf_counter() - started
    assert response.status_code == 201, (response.status_code, response.content[:500])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "seconds": seconds,
        "per_second": count / seconds,
        "validate_seconds": split.seconds["validate"],
        "write_seconds": split.seconds["write"],
        "url_rules_seconds": split.seconds["urls"],
        "body_bytes": len(body),
        "ids": response.json()["ids"],
    }


def direct_specs(count: int, tag: str, hosts: int = HOSTS) -> list[dict]:
    from monitors.models import Region

    regions = {region.slug: region for region in Region.objects.all()}
    return [
        {"regions": [regions[item["regions"][0]]], **{k: v for k, v in item.items() if k != "regions"}}
        for item in bulk_body(count, tag, hosts)["monitors"]
    ]


def direct_run(count: int, hosts: int, run: int) -> dict:
    from monitors.bulk import create_monitors
    from monitors.models import Monitor

    organization = new_organization(f"bulk-direct-{run}@example.com")
    specs = direct_specs(count, f"direct{run}", hosts)
    started = time.perf_counter()
    create_monitors(organization, specs)
    seconds = time.perf_counter() - started
    assert Monitor.objects.filter(organization=organization).count() == count
    return {"seconds": seconds, "per_second": count / seconds}


def single_creates(account: int, singles: int) -> dict:
    """One create_monitor at a time in a small and a large account, in turn."""
    from django.conf import settings
    from django.db import connection

    from monitors.bulk import create_monitors
    from monitors.models import Region
    from monitors.services import create_monitor

    small, large = new_organization("small@example.com"), new_organization("large@example.com")
    create_monitors(small, direct_specs(10, "small"))
    for start in range(0, account, 10_000):
        create_monitors(large, direct_specs(min(10_000, account - start), f"large{start}"))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    region = [Region.objects.get(slug="india")]
    found = {}
    for quota in (account * 4, 0):
        settings.MONITOR_QUOTA_PER_ORGANIZATION = quota
        times: dict[str, list[float]] = {"small": [], "large": []}
        for n in range(singles):
            # In turn, each first every other time: what the machine does meanwhile falls
            # on both alike.
            pair = (("small", small), ("large", large))
            for name, organization in pair if n % 2 else pair[::-1]:
                started = time.perf_counter()
                create_monitor(
                    organization, region, name=f"one {n}", url=f"https://one-{name}-{quota}-{n}.example.com/"
                )
                times[name].append(time.perf_counter() - started)
        small_ms, large_ms = (statistics.median(times[name]) * 1000 for name in ("small", "large"))
        found["quota_on" if quota else "quota_off"] = {
            "quota": quota,
            "small_ms": round(small_ms, 2),
            "large_ms": round(large_ms, 2),
            "ratio": round(large_ms / small_ms, 3),
            "small_per_second": round(1000 / small_ms, 1),
            "large_per_second": round(1000 / large_ms, 1),
        }
    return found


def drain(broker_url: str, queues: list[str], seen: dict, stop: threading.Event) -> None:
    """Take beat's messages off the region queues as they come: each check's monitor id,
    slot and the time it was taken."""
    import redis

    client = redis.Redis.from_url(broker_url)
    while not stop.is_set():
        popped = client.brpop(queues, timeout=1)
        if popped is None:
            continue
        envelope = json.loads(popped[1])
        args, kwargs, _ = json.loads(base64.b64decode(envelope["body"]))
        pairs = args[1] if envelope["headers"]["task"] == "checks.run_checks" else [(kwargs["monitor_id"], None)]
        taken = time.time()
        for monitor_id, slot in pairs:
            seen.setdefault(monitor_id, (slot, taken))


def checked_within_interval(count: int, hosts: int, interval_seconds: int) -> dict:
    """A running beat, a bulk request, and the first check of each of its monitors."""
    from django.conf import settings
    from django_celery_beat.models import PeriodicTask, PeriodicTasks

    from monitors.models import Region
    from uptime.process_commands import beat_command

    # Only this batch is scheduled: the monitors made before would be sent too.
    PeriodicTask.objects.filter(task="checks.run_check").update(enabled=False)
    PeriodicTasks.update_changed()
    queues = list(Region.objects.values_list("slug", flat=True))
    seen: dict[int, tuple] = {}
    stop = threading.Event()
    drainer = threading.Thread(target=drain, args=(settings.CELERY_BROKER_URL, queues, seen, stop), daemon=True)
    drainer.start()
    beat = subprocess.Popen(beat_command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(8)  # beat reads the (empty) schedule and leads
        client = api_client(new_user("bulk-beat@example.com"))
        body = json.dumps(bulk_body(count, "beat", hosts, interval_seconds))
        requested = time.time()
        response = client.post("/api/monitors/bulk/", body, content_type="application/json")
        answered = time.time()
        assert response.status_code == 201, response.content[:500]
        ids = set(response.json()["ids"])
        deadline = answered + interval_seconds + 15
        while time.time() < deadline and not ids <= set(seen):
            time.sleep(0.5)
    finally:
        beat.terminate()
        beat.wait(30)
        stop.set()
        drainer.join(5)
    firsts = {pk: seen[pk] for pk in ids if pk in seen}
    slots = [datetime.fromisoformat(slot).timestamp() for slot, _ in firsts.values() if slot]
    per_second = Counter(int(taken - answered) for _, taken in firsts.values())
    return {
        "monitors": count,
        "interval_seconds": interval_seconds,
        "request_seconds": round(answered - requested, 2),
        "checked": len(firsts),
        "all_checked_within_one_interval": len(firsts) == count
        and all(requested <= slot <= answered + interval_seconds for slot in slots),
        "last_sent_after_answer_seconds": round(max(taken for _, taken in firsts.values()) - answered, 2),
        "max_sent_in_one_second": max(per_second.values()),
        "mean_sent_per_second": round(count / interval_seconds, 1),
        "sent_per_second": [per_second.get(second, 0) for second in range(interval_seconds + 2)],
    }


def run(args) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--no-input", verbosity=0)
    split = Split()
    say(f"bulk API, {args.monitors:,} monitors, {args.repeat} runs")
    api = [bulk_api_run(args.monitors, args.hosts, run, split) for run in range(args.repeat)]
    say(f"create_monitors, {args.monitors:,} monitors, {args.repeat} runs")
    direct = [direct_run(args.monitors, args.hosts, run) for run in range(args.repeat)]
    say(f"one create_monitor at a time: 10 vs {args.account:,} in the account")
    singles = single_creates(args.account, args.singles)
    say(f"checked within one interval ({args.interval} s), with beat running")
    checked = checked_within_interval(args.monitors, args.hosts, args.interval)

    def median(runs: list[dict], key: str) -> float:
        return round(statistics.median(run[key] for run in runs), 3)

    for one in api:
        one.pop("ids")
    return {
        "bulk_api": {
            "runs": api,
            **{
                key: median(api, key)
                for key in ("seconds", "per_second", "validate_seconds", "url_rules_seconds", "write_seconds")
            },
        },
        "create_monitors": {"runs": direct, **{key: median(direct, key) for key in ("seconds", "per_second")}},
        "single_create": singles,
        "checked": checked,
    }


def print_report(report: dict) -> None:
    api, direct, checked = report["bulk_api"], report["create_monitors"], report["checked"]
    n = report["options"]["monitors"]
    print(f"\n{'what':<44} {'seconds':>8} {'monitors/s':>11}")
    print(f"{f'bulk API, {n:,} monitors':<44} {api['seconds']:>8.2f} {api['per_second']:>11,.0f}")
    print(f"{'  of which validating':<44} {api['validate_seconds']:>8.2f}")
    print(f"{'    of which the URL rules (DNS)':<44} {api['url_rules_seconds']:>8.2f}")
    print(f"{'  of which writing':<44} {api['write_seconds']:>8.2f}")
    print(f"{f'create_monitors, {n:,} monitors':<44} {direct['seconds']:>8.2f} {direct['per_second']:>11,.0f}")
    account = report["options"]["account"]
    print(f"\n{'one create_monitor':<20} {'10 in account':>14} {f'{account:,} in account':>18} {'ratio':>6}")
    for name, row in report["single_create"].items():
        print(f"{name:<20} {row['small_ms']:>11.2f} ms {row['large_ms']:>15.2f} ms {row['ratio']:>6.2f}")
    print(
        f"\nwith beat running: {checked['checked']:,} of {checked['monitors']:,} checked, within one interval "
        f"({checked['interval_seconds']} s): {'yes' if checked['all_checked_within_one_interval'] else 'NO'}; "
        f"sent per second: max {checked['max_sent_in_one_second']}, mean {checked['mean_sent_per_second']}"
    )
    met = api["per_second"] >= TARGET_PER_SECOND and direct["per_second"] >= TARGET_PER_SECOND
    print(f"target ≥ {TARGET_PER_SECOND:,} monitors/s: {'met' if met else 'MISSED'}")
    machine = report["machine"]
    print(
        f"machine ms before / after: {machine['machine_ms_before']} / {machine['machine_ms_after']}; "
        f"load average before / after: {machine['load_before']} / {machine['load_after']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bulk_create", description=" ".join(__doc__.split("\n\n")[0].split())
    )
    parser.add_argument("--monitors", type=int, default=10_000, help="monitors per bulk request or call")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each bulk measurement (medians)")
    parser.add_argument("--account", type=int, default=25_000, help="monitors in the large account")
    parser.add_argument("--singles", type=int, default=40, help="single creates in each account, per quota setting")
    parser.add_argument("--interval", type=int, default=30, help="interval of the monitors beat checks")
    parser.add_argument("--hosts", type=int, default=HOSTS, help="distinct host names among each batch's URLs")
    parser.add_argument("--out", default="bench/results")
    args = parser.parse_args(argv)
    if min(args.monitors, args.repeat, args.account, args.singles) < 1 or args.interval < 10:
        parser.error("counts must be at least 1, --interval at least 10")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    environment = {
        "REQUEST_MAX_BYTES": str(64 * 1024 * 1024),  # the bulk body: docs/api.md
        "MONITOR_QUOTA_PER_ORGANIZATION": "0",
        "MONITOR_MIN_INTERVAL_SECONDS": "10",
    }
    with served_process("bulk-create", **environment) as machine:
        report = run(args)
    report = {
        **report_head("bench.bulk_create", machine, args),
        "target_per_second": TARGET_PER_SECOND,
        **report,
    }
    print_report(report)
    write_report("bulk-create", stamp, args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
