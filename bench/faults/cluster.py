"""One throwaway Uptime installation for one fault scenario: its own embedded PostgreSQL and
Valkey on free ports, beat and workers as real processes started with the project's own
command lines, and the handles a fault needs to stop, kill and restart each part.

Like a deployment's supervisor (compose's `restart: unless-stopped`, `make run`), the
installation starts a worker or beat that exits without being told to again, with the
same command line, and counts it: a crash shows as a restart, not as every later slot lost.
"""

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import redis

from uptime.embedded import (
    BASE_DIR,
    EmbeddedPostgres,
    EmbeddedValkey,
    free_port,
)
from uptime.local_run import manage, run_django, stop_processes
from uptime.process_commands import beat_command, housekeeping_worker_command, worker_command

from .target import HitTarget

REGIONS = ("india", "usa")
HOUSEKEEPING = "housekeeping"
# How often the supervisor looks for processes that died (`make run` looks every second).
SUPERVISE_EVERY_SECONDS = 1.0


@dataclass
class Settings:
    monitors: int = 12
    interval_seconds: int = 20
    timeout_seconds: int = 5
    retries: int = 1
    retry_interval_seconds: int = 2
    watchdog_interval_seconds: int = 10
    pool: str = "threads"
    concurrency: int = 8
    appendonly: bool = True
    extra_env: dict = field(default_factory=dict)


class Cluster:
    def __init__(self, settings: Settings, keep: bool = False):
        self.settings = settings
        self.keep = keep
        self.root = Path(tempfile.mkdtemp(prefix="uptime-faults-"))
        self.logs = self.root / "logs"
        self.logs.mkdir()
        self.postgres = EmbeddedPostgres(self.root / "postgres", free_port())
        self.valkey = EmbeddedValkey(self.root / "valkey", free_port(), appendonly=settings.appendonly)
        self.target = HitTarget()
        self.processes: dict[str, subprocess.Popen] = {}
        self.commands: dict[str, list[str]] = {}
        # Processes that exited without being told to (a crash the fault caused), each
        # with the end of its log at that moment; and how often each was started again.
        self.deaths: list[str] = []
        self.death_logs: dict[str, str] = {}
        self.restarts: Counter[str] = Counter()
        self._stopping: set[str] = set()
        # Held while a process is started, signalled or looked at, so the supervisor never
        # restarts one that a fault is stopping or replacing on purpose.
        self._lock = threading.RLock()
        self._supervisor: threading.Thread | None = None
        self._stop_supervising = threading.Event()
        self.monitors: dict[int, tuple[int, str]] = {}  # monitor id -> (key, region)
        self.created_at = 0.0

    # --- lifecycle ------------------------------------------------------------------------
    def __enter__(self):
        self.target.__enter__()
        self.postgres.start()
        self.valkey.start()
        self.env = {
            **os.environ,
            "DATABASE_URL": self.postgres.url(),
            "REDIS_URL": self.valkey.url(),
            "SECRET_KEY": secrets.token_urlsafe(32),
            "JWT_SIGNING_KEY": secrets.token_urlsafe(32),
            "DEBUG": "false",
            "ALLOW_PRIVATE_TARGETS": "true",
            "MONITOR_MIN_INTERVAL_SECONDS": str(self.settings.interval_seconds),
            "WATCHDOG_INTERVAL_SECONDS": str(self.settings.watchdog_interval_seconds),
            "WORKER_POOL": self.settings.pool,
            "WORKER_CONCURRENCY": str(self.settings.concurrency),
            "PYTHONUNBUFFERED": "1",
            # The default canaries are on the internet; a benchmark that tests a region's
            # connectivity names its own in extra_env.
            "CANARY_TARGETS": "none",
            **self.settings.extra_env,
        }
        manage(self.env, "migrate", "--no-input", "-v", "0")
        return self

    def __exit__(self, *exc):
        self._end_supervision()
        stop_processes(list(self.processes.values()))
        for server in (self.valkey, self.postgres):
            with contextlib.suppress(Exception):
                server.stop()
        self.target.__exit__()
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    # --- processes ------------------------------------------------------------------------
    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        with self._lock:
            log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the child writes it until it ends
            process = subprocess.Popen(
                command, env=self.env, cwd=BASE_DIR, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            log.close()
            self.processes[name] = process
            self.commands[name] = command
            self._stopping.discard(name)
            return process

    def start_worker(self, queue: str, node: str | None = None) -> str:
        node = node or queue
        command = housekeeping_worker_command() if queue == HOUSEKEEPING else worker_command(queue, node)
        self.start(f"worker-{node}", command)
        return f"worker-{node}"

    def start_beat(self, name: str = "beat") -> str:
        self.start(name, beat_command())
        return name

    def start_all(self) -> None:
        self.start_beat()
        for queue in (*REGIONS, HOUSEKEEPING):
            self.start_worker(queue)
        for queue in REGIONS:
            self.wait_for_worker(queue, queue)
        self._supervisor = threading.Thread(target=self._supervise, name="supervisor", daemon=True)
        self._supervisor.start()

    def signal(self, name: str, signum: int) -> None:
        with self._lock:
            self._stopping.add(name)  # stopped or killed on purpose: not a crash
            self.processes[name].send_signal(signum)

    def stop(self, name: str, timeout: float = 60) -> float:
        """SIGTERM (a warm shutdown for a worker) and wait; returns when it had exited."""
        self.signal(name, signal.SIGTERM)
        try:
            self.processes[name].wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.processes[name].kill()
            self.processes[name].wait()
        return time.time()

    def kill(self, name: str) -> float:
        self.signal(name, signal.SIGKILL)
        self.processes[name].wait()
        return time.time()

    def _died(self) -> list[str]:
        """Processes that exited without being told to, not yet started again."""
        return [
            name
            for name, process in self.processes.items()
            if process.poll() is not None and name not in self._stopping
        ]

    def _supervise(self) -> None:
        while not self._stop_supervising.wait(SUPERVISE_EVERY_SECONDS):
            with self._lock:
                for name in self._died():
                    self._note_death(name)
                    self.restarts[name] += 1
                    self.start(name, self.commands[name])

    def _note_death(self, name: str) -> None:
        self.deaths.append(f"{name} exited with status {self.processes[name].returncode}")
        self.death_logs.setdefault(name, self.log_tail(name))

    def _end_supervision(self) -> None:
        self._stop_supervising.set()
        if self._supervisor is not None:
            self._supervisor.join()

    def note_deaths(self) -> None:
        """Record, without restarting, what died since the supervisor last looked."""
        with self._lock:
            for name in self._died():
                self._note_death(name)
                self._stopping.add(name)

    def stop_everything(self) -> None:
        self._end_supervision()
        self.note_deaths()
        with self._lock:
            self._stopping.update(self.processes)
        stop_processes(list(self.processes.values()))

    def pool_children(self, name: str) -> list[int]:
        pid = self.processes[name].pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [int(child) for child in children]

    def children_talking_to_target(self, name: str) -> list[int]:
        """The worker's pool children holding a connection to the target: a check in flight."""
        local_port_hex = f"{self.target.port:04X}"
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(FileNotFoundError):
                for line in Path(table).read_text().splitlines()[1:]:
                    fields = line.split()
                    if fields[2].endswith(f":{local_port_hex}") and fields[3] == "01":  # ESTABLISHED
                        inodes.add(fields[9])
        busy = []
        for child in self.pool_children(name):
            with contextlib.suppress(FileNotFoundError, PermissionError):
                for fd in Path(f"/proc/{child}/fd").iterdir():
                    link = os.readlink(fd)
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        busy.append(child)
                        break
        return busy

    # --- the broker -----------------------------------------------------------------------
    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.valkey.url(), socket_timeout=2, socket_connect_timeout=2)

    def wait_for_worker(self, queue: str, node: str, since: float = 0, timeout: float = 60) -> None:
        """Until the worker's heartbeat (one after `since`) is in Redis: it has started consuming."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                beats = self.redis().hgetall(f"uptime:heartbeat:{queue}")
                if any(f.decode().startswith(f"{node}@") and float(at) >= since for f, at in beats.items()):
                    return
            time.sleep(0.5)
        raise RuntimeError(f"worker {node} for {queue} did not start within {timeout} s")

    def restart_valkey(self) -> None:
        port = self.valkey.port
        self.valkey.server._desired_port = port  # the same port: clients reconnect to it
        self.valkey.start()
        if self.valkey.server.port != port:
            raise RuntimeError(f"Valkey came back on port {self.valkey.server.port}, not {port}")

    # --- the installation -----------------------------------------------------------------
    def create_monitors(self) -> None:
        """Half the monitors in each region, every one hitting the target with its key,
        created spread over one interval so that their slots are too, and any moment of a
        fault falls near some monitor's slot."""
        s = self.settings
        specs = [(key, REGIONS[key % len(REGIONS)]) for key in range(s.monitors)]
        code = (
            "import json, time\n"
            "from accounts.models import User\n"
            "from monitors.models import Region\n"
            "from monitors.services import create_monitor\n"
            "from bench.organizations import personal_organization\n"
            "owner = User.objects.create_user(email='faults@example.com', password='unused-password-123')\n"
            "organization = personal_organization(owner)\n"
            f"specs = {json.dumps([(key, region, self.target.url(key, region)) for key, region in specs])}\n"
            "ids = {}\n"
            "for key, region, url in specs:\n"
            "    monitor = create_monitor(organization, Region.objects.filter(slug=region),\n"
            "        name=f'fault target {key}',\n"
            f"        url=url, interval_seconds={s.interval_seconds}, timeout_seconds={s.timeout_seconds},\n"
            f"        retries={s.retries}, retry_interval_seconds={s.retry_interval_seconds})\n"
            "    ids[monitor.pk] = (key, region)\n"
            f"    time.sleep({s.interval_seconds / s.monitors})\n"
            "print(json.dumps(ids))\n"
        )
        self.created_at = time.time()
        result = run_django(self.env, code)
        if result.returncode != 0:
            raise RuntimeError(f"could not create the monitors: {result.stderr.strip()[-500:]}")
        self.monitors = {int(pk): tuple(value) for pk, value in json.loads(result.stdout).items()}

    def health(self) -> dict:
        result = run_django(
            self.env,
            "import json\nfrom checks.figures.health import health_report\nprint(json.dumps(health_report()[1]))",
        )
        if result.returncode != 0:
            return {"error": result.stderr.strip()[-300:]}
        return json.loads(result.stdout)

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.logs / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""
