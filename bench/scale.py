"""How far beat and the workers scale: one entry point for every mode.

    python -m bench.scale beat-only --monitors 10000,100000 --minutes 5 --compare-stock
    python -m bench.scale e2e --monitors 5000 --minutes 3
    python -m bench.scale sweep --monitors 1000,2000,5000,10000 --minutes 3

Starts its own embedded PostgreSQL and Valkey (kept in --data-dir, so the monitors made
once are reused), the project's own `celery beat` and `celery worker` commands, and, for
e2e, local HTTP targets. Prints a table, writes JSON and a PNG to --out.
"""

import argparse
import base64
import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from uptime.embedded import (
    BASE_DIR,
    free_port,
    port_in_use,
    services,
)
from uptime.local_run import say, stop_processes
from uptime.process_commands import celery_command, housekeeping_worker_command, worker_command

from .machine import fixed_workload_ms
from .processes import ProcessGroup, Sampler, pids_with_in_command_line, postgres_pids
from .report import by_minute, lateness_summary, print_minutes, print_table, save_results

OURS = "checks.beat.scheduler:SlotScheduler"
STOCK = "django_celery_beat.schedulers:DatabaseScheduler"
INTERVAL_SECONDS = 60
# Steady runs put the first slot this long after beat starts, so what they measure is a
# running beat; how fast a starting beat sends is what the backlog ("burst") runs measure.
WARM_UP_SECONDS = 15
# End to end, the first slot comes this long after the workers start: what is measured is
# a running system, not workers still starting (each reads its regions' monitors first).
E2E_WARM_UP_SECONDS = 30
CHECK_SETTINGS = {"timeout_seconds": 4, "retries": 1, "retry_interval_seconds": 2}


def start(command: list[str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(command, cwd=BASE_DIR, env=os.environ.copy(), stdout=out, stderr=out)


def empty_broker(client) -> None:
    # kombu's exchange bindings stay (a producer caches that it declared them).
    stale = [key for key in client.scan_iter() if not key.startswith(b"_kombu.binding.")]
    if stale:
        client.delete(*stale)


def drain(client, queues: list[str], into: list[tuple]) -> None:
    """Take every waiting check off the queues: (sent at, slot or None, entry name)."""
    from monitors.scheduling import BUNDLE_TASK, task_name

    for queue in queues:
        while True:
            raw = client.lpop(queue, 5000)
            if not raw:
                break
            for message in raw:
                envelope = json.loads(message)
                headers = envelope["headers"]
                args, kwargs, _ = json.loads(base64.b64decode(envelope["body"]))
                # Beat sets `expires` to its clock at the send plus the entry's expiry (an interval).
                sent_at = datetime.fromisoformat(headers["expires"]).timestamp() - INTERVAL_SECONDS
                if headers["task"] == BUNDLE_TASK:  # ours: a region's checks due together
                    region, pairs = args
                    into.extend(
                        (sent_at, datetime.fromisoformat(slot).timestamp(), task_name(monitor_id, region))
                        for monitor_id, slot in pairs
                    )
                    continue
                slot = kwargs.get("scheduled_at")  # the stock scheduler's: one check, no slot
                into.append(
                    (sent_at, datetime.fromisoformat(slot).timestamp() if slot else None, headers["periodic_task_name"])
                )


class Bench:
    def __init__(self, args):
        self.args = args
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.logs = self.out / "logs"
        self.logs.mkdir(exist_ok=True)
        self.data_dir = Path(args.data_dir).resolve()

    @contextlib.contextmanager
    def services(self):
        with services(self.data_dir, free_port(), free_port()) as env:
            os.environ.update(env)
            os.environ.update(
                DJANGO_SETTINGS_MODULE="uptime.settings",
                DEBUG="false",  # DEBUG would keep every query in memory
                SECRET_KEY=secrets.token_urlsafe(32),
                JWT_SIGNING_KEY=secrets.token_urlsafe(32),
                ALLOW_PRIVATE_TARGETS="true",
                # The region's canary is the targets' server (the default ones are on the
                # internet): the refused-port monitors' failures each ask the canaries.
                CANARY_TARGETS=f"http://127.0.0.1:{self.args.target_port}/ok",
                MONITOR_QUOTA_PER_ORGANIZATION="0",
                WORKER_CONCURRENCY=str(self.args.concurrency),
            )
            import django

            django.setup()
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
            import redis

            self.redis = redis.Redis.from_url(env["REDIS_URL"])
            from monitors.models import Region

            self.regions = list(Region.objects.order_by("slug").values_list("slug", flat=True))
            self.groups = {
                "postgres": ProcessGroup("postgres", postgres_pids(self.data_dir / "postgres")),
                "redis": ProcessGroup("redis", pids_with_in_command_line(f":{urlsplit(env['REDIS_URL']).port}")),
            }
            yield

    def populate(self, total: int) -> None:
        from .population import ensure_monitors

        if port_in_use(self.args.refused_port):
            raise RuntimeError(f"port {self.args.refused_port} must have nothing listening")
        ensure_monitors(total, self.args.target_port, self.args.refused_port, INTERVAL_SECONDS, CHECK_SETTINGS)

    # -- beat only ---------------------------------------------------------------------

    def beat_only(self, total: int, scheduler: str, all_due: bool, seconds: float) -> dict:
        from .population import arrange

        label = f"{'ours' if scheduler == OURS else 'stock'} {'backlog' if all_due else 'steady'} n={total}"
        say(f"beat only: {label}, {seconds:.0f} s")
        empty_broker(self.redis)
        launch = time.time()
        due = arrange(total, launch + (0 if all_due else WARM_UP_SECONDS), INTERVAL_SECONDS, all_due)
        launch = time.time()
        command = celery_command("beat", "-l", "warning", "-S", scheduler, "--pidfile=")
        if self.args.profile:
            # cProfile writes its file when beat exits on SIGTERM (a SystemExit).
            profile = self.logs / f"{label.replace(' ', '-').replace('=', '')}.prof"
            command[1:3] = ["-m", "cProfile", "-o", str(profile), "-m", "celery"]
        beat = start(command, self.logs / "beat.log")
        groups = [ProcessGroup("beat", lambda: [beat.pid]), self.groups["postgres"], self.groups["redis"]]
        sampler = Sampler(groups)
        sampler.sample_now()
        sampler.start()
        sent: list[tuple] = []
        while time.time() - launch < seconds and beat.poll() is None:
            time.sleep(0.25)
            drain(self.redis, self.regions, sent)
            if all_due and len(sent) >= total:
                break
        ended = time.time()
        sampler.sample_now()
        stop_processes([beat])
        sampler.stop()
        drain(self.redis, self.regions, sent)
        sent = [message for message in sent if message[0] <= ended]
        return self.beat_only_result(label, total, scheduler, all_due, due, sent, launch, ended, sampler)

    def beat_only_result(self, label, total, scheduler, all_due, due, sent, launch, ended, sampler) -> dict:
        sent.sort()
        lateness, seen, duplicates = [], set(), 0
        last_sent: dict[str, float] = {}
        for sent_at, slot, name in sent:
            if slot is None:  # the stock scheduler sends no slot: its next is an interval after its last send
                slot = last_sent[name] + INTERVAL_SECONDS if name in last_sent else due[name]
            last_sent[name] = sent_at
            key = (name, round(slot, 3))
            duplicates += key in seen
            seen.add(key)
            lateness.append((sent_at, sent_at - slot))
        # Every slot due a second or more before the end should have been sent.
        expected = 0
        for first_due in due.values():
            if first_due <= ended - 1:
                expected += int((ended - 1 - first_due) // INTERVAL_SECONDS) + 1
        first, last = (sent[0][0], sent[-1][0]) if sent else (launch, launch)
        window = (last - first) if all_due else (ended - launch - WARM_UP_SECONDS)
        cpu = sampler.cpu_between(launch, ended)
        return {
            "label": label,
            "mode": "beat-only",
            "scheduler": scheduler,
            "monitors": total,
            "backlog": all_due,
            "seconds": round(ended - launch, 1),
            "dispatches": len(sent),
            "dispatches_per_second": round(len(sent) / window, 1) if window > 0 else None,
            "first_dispatch_seconds": round(first - launch, 2) if sent else None,
            "all_sent_seconds": round(last - launch, 2) if sent and len(sent) >= total else None,
            "lateness_ms": lateness_summary([late for _, late in lateness]),
            "slots_missed": max(0, expected - len(seen)) if not all_due else max(0, total - len(seen)),
            "duplicates": duplicates,
            "cpu_seconds": {name: round(value, 2) for name, value in cpu.items()},
            "cpu_ms_per_dispatch": {name: round(value * 1000 / max(1, len(sent)), 3) for name, value in cpu.items()},
            "beat_cores": round(cpu["beat"] / max(0.001, ended - launch), 3),
            "peak_rss_mb": {name: round(value / 2**20, 1) for name, value in sampler.peak_rss_bytes().items()},
            "timeline": {"lateness": lateness, "cpu": sampler.timeline, "start": launch},
        }

    # -- end to end ----------------------------------------------------------------------

    def e2e(self, total: int, seconds: float) -> dict:
        from django.db import connection

        from checks.outcomes import spool
        from checks.outcomes.writer import write_spooled
        from uptime.redis_clients import shared_client

        from .population import arrange, clear_ticks

        label = f"e2e n={total}"
        say(f"{label}, {seconds:.0f} s")
        empty_broker(self.redis)
        clear_ticks()
        machine_ms_before = fixed_workload_ms()
        targets = self._start_targets()
        launch = time.time()
        due = arrange(total, launch + E2E_WARM_UP_SECONDS, INTERVAL_SECONDS, all_due=False, pending=self.args.pending)
        beat_command = celery_command("beat", "-l", "warning", "--pidfile=")
        beat = start(beat_command, self.logs / "beat.log")
        # --stop-beat-at: beat is stopped that long after the first slots, for --stop-beat-for.
        stop_beat_at = launch + E2E_WARM_UP_SECONDS + self.args.stop_beat_at if self.args.stop_beat_at else None
        beat_restarted_at = None
        # As `make run` and the compose file run them: region workers only check, the
        # housekeeping worker writes (--region-writers: every worker writes, as before).
        # Warnings only, so per-task log lines are not counted in the CPU figures.
        workers = [
            start(
                worker_command(slug, f"{slug}{index}", "warning", writes_outcomes=self.args.region_writers),
                self.logs / f"worker-{slug}{index}.log",
            )
            for slug in self.regions
            for index in range(self.args.workers_per_region)
        ]
        # Two threads: the benchmark sends no alerts, and its housekeeping is the watchdog.
        housekeeping = housekeeping_worker_command(log_level="warning", concurrency=2, queues="housekeeping")
        workers.append(start(housekeeping, self.logs / "worker-housekeeping.log"))
        groups = [
            ProcessGroup("beat", lambda: [beat.pid] if beat.poll() is None else []),
            ProcessGroup("workers", lambda: [worker.pid for worker in workers[:-1]]),
            # The watchdog, pruning and notifications: not per check, so on their own line.
            ProcessGroup("housekeeping", lambda: [workers[-1].pid]),
            self.groups["postgres"],
            self.groups["redis"],
            ProcessGroup("targets", lambda: [targets.pid]),
        ]
        sampler = Sampler(groups)
        sampler.sample_now()
        sampler.start()
        try:
            while time.time() - launch < seconds:
                time.sleep(1 if stop_beat_at else 5)
                if stop_beat_at and beat_restarted_at is None and time.time() >= stop_beat_at:
                    if beat.poll() is None:
                        say(f"beat stopped for {self.args.stop_beat_for:.0f} s")
                        stop_processes([beat])
                    if time.time() >= stop_beat_at + self.args.stop_beat_for:
                        beat = start(beat_command, self.logs / "beat-restarted.log")
                        beat_restarted_at = time.time()
                        say("beat started again")
                    continue
                if beat.poll() is not None or any(worker.poll() is not None for worker in workers):
                    raise RuntimeError("beat or a worker exited; see " + str(self.logs))
            ended = time.time()
            sampler.sample_now()
            # Outcomes checked but not yet written: how far the writers were behind.
            unwritten_at_end = spool.backlog(shared_client())
        finally:
            stop_processes([beat])
            stop_processes(workers, grace_seconds=40)
            sampler.stop()
            stop_processes([targets], grace_seconds=2)
        # A check is done once its outcome is spooled; what the writers had not written
        # when they stopped is written here, as the next writer to start would.
        written_after_stop = write_spooled()
        # The sites that answer at once (bench/population.py's URLs).
        fast_url = f"%:{self.args.target_port}/ok?%"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT extract(epoch FROM scheduled_at), extract(epoch FROM checked_at), monitor_id, region_id,"
                " t.status = 'down' AND m.url LIKE %s"
                " FROM checks_tick t JOIN monitors_monitor m ON m.id = t.monitor_id",
                [fast_url],
            )
            ticks = [
                (float(slot), float(checked), monitor, region, false_down)
                for slot, checked, monitor, region, false_down in cursor
            ]
            cursor.execute("SELECT id FROM monitors_monitor WHERE url LIKE %s", [fast_url])
            fast = {row[0] for row in cursor}
        result = self.e2e_result(label, total, due, ticks, fast, launch, ended, sampler)
        if beat_restarted_at is not None:
            after = result["after_beat_restart"] = after_restart(ticks, fast, beat_restarted_at, ended - 15)
            say(
                f"after beat's restart: {after['checks']} checks, fast lateness {after['fast_lateness_ms']},"
                f" busiest second of the interval {after['busiest_second_share']:.1%} of the slots"
            )
        result.update(
            unwritten_at_end=unwritten_at_end,
            written_after_stop=written_after_stop,
            machine_ms_before=machine_ms_before,
            machine_ms_after=fixed_workload_ms(),
        )
        return result

    def e2e_result(self, label, total, due, ticks, fast, launch, ended, sampler) -> dict:
        # A slot is owed once its check had time to finish: due, plus the longest check.
        owed_until = ended - 15
        counted = [tick for tick in ticks if tick[0] <= owed_until]
        slots = {(monitor, round(slot, 3)) for slot, _, monitor, _, _ in counted}
        expected = 0
        for first_due in due.values():
            if first_due <= owed_until:
                expected += int((owed_until - first_due) // INTERVAL_SECONDS) + 1
        window = owed_until - (launch + E2E_WARM_UP_SECONDS)
        cpu = sampler.cpu_between(launch, ended)
        checks = len(counted)
        return {
            "label": label,
            "mode": "e2e",
            "monitors": total,
            "seconds": round(ended - launch, 1),
            "checks": checks,
            "checks_per_second": round(checks / window, 1),
            "dispatches_per_second": round(checks / window, 1),
            "lateness_ms": lateness_summary([checked - slot for slot, checked, _, _, _ in counted]),
            # The criterion: lateness of the checks of sites that answer at once.
            "fast_lateness_ms": lateness_summary(
                [checked - slot for slot, checked, monitor, _, _ in counted if monitor in fast]
            ),
            "fast_false_down": sum(1 for *_, false_down in counted if false_down),
            "slots_expected": expected,
            "slots_missed": max(0, expected - len(slots)),
            "duplicates": checks - len({(monitor, region, round(slot, 3)) for slot, _, monitor, region, _ in counted}),
            "cpu_seconds": {name: round(value, 2) for name, value in cpu.items()},
            "cpu_ms_per_check": {name: round(value * 1000 / max(1, checks), 3) for name, value in cpu.items()},
            "cpu_ms_per_check_total": round(sum(cpu.values()) * 1000 / max(1, checks), 3),
            # What production would spend: everything but the benchmark's own targets.
            "cpu_ms_per_check_ours": round(
                sum(value for name, value in cpu.items() if name != "targets") * 1000 / max(1, checks), 3
            ),
            "peak_rss_mb": {name: round(value / 2**20, 1) for name, value in sampler.peak_rss_bytes().items()},
            "by_minute": by_minute(
                [(checked, checked - slot, monitor in fast) for slot, checked, monitor, _, _ in counted],
                sampler.cpu_between,
                launch,
            ),
            "timeline": {
                "lateness": [(checked, checked - slot) for slot, checked, _, _, _ in counted],
                "cpu": sampler.timeline,
                "start": launch,
            },
        }

    # -- capacity of one part ----------------------------------------------------------

    def worker_drain(self, total: int, bundle: int) -> dict:
        """One region worker (the project's command) drains `total` checks of fast sites
        queued at once, in messages of `bundle` checks (1: one message per check): what one
        more worker process adds, without beat in the way."""
        from datetime import UTC

        from checks.tasks import run_check, run_checks
        from monitors.models import Monitor

        from .population import clear_ticks

        region = self.regions[0]
        say(f"capacity: one {region} worker draining {total} checks in messages of {bundle}")
        empty_broker(self.redis)
        clear_ticks()
        fast = Monitor.objects.filter(regions__slug=region, url__contains=f":{self.args.target_port}/ok?")
        ids = list(fast.order_by("pk").values_list("pk", flat=True)[:total])
        # Workers check only active monitors (the e2e runs leave only their own active).
        Monitor.objects.filter(pk__in=ids).update(is_active=True)
        targets = self._start_targets()
        worker = start(
            worker_command(region, f"{region}-capacity", "warning", writes_outcomes=True),
            self.logs / "worker-capacity.log",
        )
        time.sleep(8)  # started, and idle
        slot = datetime.now(UTC).replace(microsecond=0).isoformat()
        route = {"queue": region, "routing_key": region, "exchange": region}
        with run_check.app.producer_or_acquire() as producer:
            for start_at in range(0, len(ids), bundle):
                chunk = ids[start_at : start_at + bundle]
                if bundle == 1:
                    kwargs = {"monitor_id": chunk[0], "region": region, "scheduled_at": slot}
                    run_check.apply_async(kwargs=kwargs, producer=producer, **route)
                else:
                    pairs = [[pk, slot] for pk in chunk]
                    run_checks.apply_async(args=[region, pairs], producer=producer, **route)
        groups = [ProcessGroup("worker", lambda: [worker.pid]), self.groups["postgres"], self.groups["redis"]]
        sampler = Sampler(groups)
        launch = time.time()
        sampler.sample_now()
        written = 0
        while written < len(ids) and time.time() - launch < 600 and worker.poll() is None:
            time.sleep(0.5)
            written = self._tick_count()
        ended = time.time()
        sampler.sample_now()
        stop_processes([worker])
        stop_processes([targets], grace_seconds=2)
        return capacity_result(f"one worker drains n={len(ids)}, {bundle} per message", written, launch, ended, sampler)

    def outcome_writing(self, total: int, is_up: bool = True, label: str = "") -> dict:
        """One outcome writer (this process) records `total` spooled outcomes of fast sites:
        the rate at which one writer, and PostgreSQL behind it, turn checks into ticks.
        `is_up=False` makes them all down: each such outcome moves an up monitor to down and
        opens its incident, as when a provider many monitors share goes away; the pass with
        `is_up` after it moves them all back and resolves the incidents."""
        from datetime import UTC, timedelta

        from checks.outcomes import spool, writer
        from checks.outcomes.writer import write_spooled
        from monitors.models import Monitor
        from probe.target import CheckOutcome, ProbeResult
        from uptime.redis_clients import shared_client

        from .population import clear_ticks

        say(f"capacity: writing {total} spooled outcomes{label and ', ' + label}")
        empty_broker(self.redis)
        clear_ticks()
        pairs = list(Monitor.objects.filter(url__contains="/ok?").values_list("pk", "regions__slug")[:total])
        now = datetime.now(UTC).replace(microsecond=0)
        spool.ensure_group(shared_client())
        with shared_client().pipeline(transaction=False) as pipe:
            for index, (pk, region) in enumerate(pairs):
                at = now - timedelta(seconds=index % 60)
                status, error = (200, "") if is_up else (500, "unexpected status 500")
                result = ProbeResult(is_up, at, status, 20 + index % 50, error)
                slot = spool.SlotOutcome(pk, region, at, CheckOutcome(result, 1, at))
                pipe.xadd(spool.STREAM_KEY, {"outcome": spool.encode(slot)})
            pipe.execute()
        groups = [ProcessGroup("writer", lambda: [os.getpid()]), self.groups["postgres"], self.groups["redis"]]
        sampler = Sampler(groups)
        # A busy worker's batches are smaller than the writer's largest: what arrived in
        # half a second.
        batch = self.args.writer_batch or writer.BATCH_SIZE
        launch = time.time()
        sampler.sample_now()
        write_spooled(batch)
        ended = time.time()
        sampler.sample_now()
        written = self._tick_count()
        label = f"one writer records n={len(pairs)}, batches of {batch}{label and ', ' + label}"
        return capacity_result(label, written, launch, ended, sampler)

    def _tick_count(self) -> int:
        from checks.models import Tick

        return Tick.objects.count()

    def _start_targets(self) -> subprocess.Popen:
        targets = subprocess.Popen(
            [sys.executable, "-m", "bench.targets", str(self.args.target_port)],
            cwd=BASE_DIR,
            stdout=subprocess.PIPE,
        )
        if targets.stdout.readline().strip() != b"ready":  # it could not listen (the port taken?)
            targets.wait()
            raise RuntimeError(f"the HTTP targets did not start on port {self.args.target_port}")
        return targets


def after_restart(ticks: list[tuple], fast: set[int], restarted_at: float, owed_until: float) -> dict:
    """How the checks after beat's restart went: the fast sites' lateness, and how the slots
    fall within the interval (bunched by beat's restart, the busiest second holds nearly
    all of them; spread, about 1/60 of them)."""
    after = [tick for tick in ticks if restarted_at <= tick[0] <= owed_until]
    per_second = Counter(int(slot) % INTERVAL_SECONDS for slot, *_ in after)
    return {
        "restarted_at": restarted_at,
        "checks": len(after),
        "fast_lateness_ms": lateness_summary(
            [checked - slot for slot, checked, monitor, *_ in after if monitor in fast]
        ),
        "busiest_second_share": round(max(per_second.values()) / len(after), 4) if after else None,
        "seconds_used": len(per_second),
    }


def capacity_result(label: str, done: int, launch: float, ended: float, sampler: Sampler) -> dict:
    cpu = sampler.cpu_between(launch, ended)
    return {
        "label": label,
        "checks": done,
        "seconds": round(ended - launch, 1),
        "per_second": round(done / (ended - launch), 1),
        "cpu_ms_each": {name: round(value * 1000 / max(1, done), 3) for name, value in cpu.items()},
        "cores": {name: round(value / (ended - launch), 2) for name, value in cpu.items()},
    }


def meets(result: dict, args) -> bool:
    """The issue's end-to-end criteria: at least 99.9% of slots checked, no duplicate tick,
    and for the sites that answer at once p99 lateness within the limit and no false down."""
    late = result["fast_lateness_ms"]
    missed_share = result["slots_missed"] / max(1, result["slots_expected"])
    return (
        late["p99"] is not None
        and late["p99"] <= args.max_p99_ms
        and missed_share * 100 <= args.max_missed_percent
        and result["duplicates"] == 0
        and result["fast_false_down"] == 0
    )


def command_beat_only(bench: Bench, args) -> list[dict]:
    results = []
    counts = [int(n) for n in args.monitors.split(",")]
    with bench.services():
        bench.populate(max(counts))
        for total in counts:
            for _ in range(args.repeat):
                results.append(bench.beat_only(total, OURS, all_due=True, seconds=args.backlog_seconds))
                if args.compare_stock and total <= args.stock_max:
                    results.append(bench.beat_only(total, STOCK, all_due=True, seconds=args.stock_seconds))
                    ours, stock = results[-2]["dispatches_per_second"], results[-1]["dispatches_per_second"]
                    if ours and stock:
                        results[-1]["ours_over_stock"] = round(ours / stock, 1)
                results.append(bench.beat_only(total, OURS, all_due=False, seconds=args.minutes * 60 + WARM_UP_SECONDS))
    return results


def command_e2e(bench: Bench, args) -> list[dict]:
    counts = [int(n) for n in args.monitors.split(",")]
    with bench.services():
        bench.populate(max(counts))
        seconds = args.minutes * 60 + E2E_WARM_UP_SECONDS
        return [bench.e2e(total, seconds) for total in counts for _ in range(args.repeat)]


def command_sweep(bench: Bench, args) -> list[dict]:
    counts = [int(n) for n in args.monitors.split(",")]
    results = []
    with bench.services():
        bench.populate(max(counts))
        for total in counts:
            result = bench.e2e(total, args.minutes * 60 + E2E_WARM_UP_SECONDS)
            result["meets_criteria"] = meets(result, args)
            results.append(result)
            if not result["meets_criteria"]:
                break
    passed = [result["monitors"] for result in results if result["meets_criteria"]]
    say(f"largest N meeting the criteria: {max(passed) if passed else 'none'}")
    return results


def command_capacity(bench: Bench, args) -> list[dict]:
    with bench.services():
        bench.populate(args.monitors)
        results = []
        for _ in range(args.repeat):
            for bundle in args.bundles if args.checks else ():
                results.append(bench.worker_drain(args.checks, bundle))
            if args.flips:
                # Steady, then every monitor down, down again and back up, in the same run.
                results.append(bench.outcome_writing(args.outcomes, True, "status unchanged"))
                results.append(bench.outcome_writing(args.outcomes, False, "each up -> down, incident opened"))
                results.append(bench.outcome_writing(args.outcomes, False, "each still down"))
                results.append(bench.outcome_writing(args.outcomes, True, "each down -> up, incident resolved"))
            else:
                results.append(bench.outcome_writing(args.outcomes))
    return results


def print_capacity(results: list[dict]) -> None:
    for r in results:
        cpu = ", ".join(f"{name} {ms} ms ({r['cores'][name]} cores)" for name, ms in r["cpu_ms_each"].items())
        print(f"{r['label']}: {r['checks']} in {r['seconds']} s = {r['per_second']}/s; CPU each: {cpu}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(BASE_DIR / ".local" / "bench"))
    parser.add_argument("--out", default=str(BASE_DIR / "bench" / "results"))
    parser.add_argument("--target-port", type=int, default=18080)
    parser.add_argument("--refused-port", type=int, default=18081)
    parser.add_argument("--concurrency", type=int, default=32, help="threads per region worker")
    parser.add_argument("--workers-per-region", type=int, default=1, help="region worker processes (e2e)")
    parser.add_argument(
        "--region-writers", action="store_true", help="region workers write outcomes too, not only housekeeping (e2e)"
    )
    parser.add_argument("--profile", action="store_true", help="run beat under cProfile (files in OUT/logs)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each case (report medians)")
    modes = parser.add_subparsers(dest="mode", required=True)

    beat_only = modes.add_parser("beat-only", help="beat alone: dispatch rate, lateness, CPU")
    beat_only.add_argument("--monitors", default="10000,100000")
    beat_only.add_argument("--minutes", type=float, default=5, help="length of the steady run")
    beat_only.add_argument("--backlog-seconds", type=float, default=120, help="cap on the all-due run")
    beat_only.add_argument("--compare-stock", action="store_true", help="also run the stock DatabaseScheduler")
    beat_only.add_argument("--stock-seconds", type=float, default=60, help="cap on the stock run")
    beat_only.add_argument("--stock-max", type=int, default=10000, help="largest N to run the stock scheduler at")
    beat_only.set_defaults(handler=command_beat_only)

    for name, handler, default in (("e2e", command_e2e, "1000"), ("sweep", command_sweep, "1000,2000,5000,10000")):
        mode = modes.add_parser(name, help="beat, workers and targets" if name == "e2e" else "largest N that passes")
        mode.add_argument("--monitors", default=default)
        mode.add_argument("--minutes", type=float, default=3)
        mode.add_argument(
            "--max-p99-ms", type=float, default=2000, help="criterion: p99 of checked_at - slot, fast sites"
        )
        mode.add_argument("--max-missed-percent", type=float, default=0.1, help="criterion: slots missed")
        mode.add_argument(
            "--stop-beat-at", type=float, default=0, help="stop beat this many seconds after the first slots (e2e)"
        )
        mode.add_argument("--stop-beat-for", type=float, default=180, help="seconds beat stays stopped (e2e)")
        mode.add_argument(
            "--pending",
            action="store_true",
            help="monitors start undecided (as just imported): every first check moves a status",
        )
        mode.set_defaults(handler=handler)

    capacity = modes.add_parser("capacity", help="what one worker, and one outcome writer, can do")
    capacity.add_argument("--monitors", type=int, default=10000, help="monitors to have (fast ones are used)")
    capacity.add_argument("--checks", type=int, default=3000, help="checks one worker drains (0: none)")
    capacity.add_argument("--outcomes", type=int, default=20000, help="outcomes one writer records")
    capacity.add_argument(
        "--writer-batch", type=int, default=None, help="the writer's batch size (default: its BATCH_SIZE)"
    )
    capacity.add_argument(
        "--flips",
        action="store_true",
        help="also write outcomes that move every monitor down, then up again (a mass outage)",
    )
    capacity.add_argument(
        "--bundles",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 10],
        help="checks per message, one drain each (1: a message per check)",
    )
    capacity.set_defaults(handler=command_capacity)

    args = parser.parse_args(argv)
    bench = Bench(args)
    results = args.handler(bench, args)
    if args.mode == "capacity":
        print_capacity(results)
        path = bench.out / f"capacity-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
        path.write_text(
            json.dumps(
                {"options": {k: v for k, v in vars(args).items() if k != "handler"}, "results": results}, indent=1
            )
        )
        say(f"wrote {path}")
        return 0
    print_table(results)
    print_minutes(results)
    json_path, png_path = save_results(results, bench.out, args.mode, vars(args))
    say(f"wrote {json_path} and {png_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
