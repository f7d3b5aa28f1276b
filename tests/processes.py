"""Real celery processes (beat, region workers, the housekeeping worker) started against the
test database and broker, for the end-to-end and browser tests. They see only committed
data, so the tests that use them need transactional database access."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from uptime.process_commands import beat_command, celery_command, housekeeping_worker_command, worker_command

BASE_DIR = Path(__file__).resolve().parent.parent
# Startup in a second rather than several: no waiting for other workers' replies at start.
QUICK_START = ("--without-mingle", "--without-gossip")


def process_env() -> dict:
    """The environment of the processes under test: this test's database and broker."""
    db = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "MONITOR_MIN_INTERVAL_SECONDS": "1",
        "ALLOW_PRIVATE_TARGETS": "true",
        "WORKER_HEARTBEAT_SECONDS": "1",
        # No canaries on the internet (tests of a region's connectivity name their own).
        "CANARY_TARGETS": "none",
    }


def start(*args: str, **env: str) -> subprocess.Popen:
    """`celery -A uptime ARGS`, its output kept in a pipe for stop() (fine for a process
    that runs seconds; a longer one would fill the pipe and block, see Pipeline)."""
    return subprocess.Popen(
        celery_command(*args),
        cwd=BASE_DIR,
        env={**process_env(), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(process: subprocess.Popen) -> str:
    """Ask the process to stop as an operator would (SIGTERM: a worker finishes its checks),
    kill it if it takes over 20 s, and return what it printed."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.stdout.read() if process.stdout else ""


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


class Pipeline:
    """The whole check path as `make run` starts it (uptime/process_commands.py): beat, one
    region's worker and the housekeeping worker, which writes every worker's outcomes.

    Each process writes to a log file of its own, not a pipe: a test may run for minutes,
    and a process blocked on a full pipe would look like a bug of ours."""

    def __init__(self, log_dir: Path, region: str = "india"):
        self.log_dir = log_dir
        self.region = region
        self.commands = {
            # Beat looks for new and edited monitors every second rather than every few.
            "beat": [*beat_command(), "--max-interval", "1"],
            f"worker -Q {region}": [*worker_command(region), *QUICK_START],
            "housekeeping worker": [*housekeeping_worker_command(), *QUICK_START],
        }
        self.processes: dict[str, subprocess.Popen] = {}

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name.replace(' ', '_')}.log"

    def start(self, **env: str) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name, command in self.commands.items():
            with self.log_path(name).open("w") as log:
                self.processes[name] = subprocess.Popen(
                    command,
                    cwd=BASE_DIR,
                    # Unbuffered, so the log of a test that fails holds all they printed.
                    env={**process_env(), "PYTHONUNBUFFERED": "1", **env},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )

    def wait_until_ready(self, timeout: float = 60) -> None:
        """Until the health report shows what `make run` waits for: beat holding its lease, a
        live worker in the region and an outcome writer reading the spool."""
        from checks.figures.health import health_report

        def ready() -> bool:
            exited = {name: code for name, process in self.processes.items() if (code := process.poll()) is not None}
            if exited:
                pytest.fail(f"the pipeline's processes exited at start: {exited}\n{self.logs()}")
            _, report = health_report()
            return bool(
                report.get("beat", {}).get("active")
                and report.get("outcome_writers", 0) > 0
                and report.get("regions", {}).get(self.region, {}).get("workers", 0) > 0
            )

        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline:
                pytest.fail(f"the pipeline did not report in within {timeout} s\n{self.logs()}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Beat first, so nothing new is sent; then the region's worker, which finishes its
        checks and spools their outcomes; the housekeeping worker, which writes them, last."""
        for process in self.processes.values():
            stop(process)

    def logs(self) -> str:
        return "\n".join(
            f"----- {name} ({' '.join(self.commands[name][2:])}) -----\n"
            + self.log_path(name).read_text(errors="replace")
            for name in self.processes
        )
