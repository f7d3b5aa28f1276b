"""The command lines of the system's processes (beat, a region's worker, the housekeeping
worker), in one place: `make run` starts them, tests compare them with docker-compose.yml
and the docs, and the benchmarks start the same ones."""

import sys


def celery_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "uptime", *args]


def beat_command() -> list[str]:
    return celery_command("beat", "-l", "info", "--pidfile=")


def worker_command(
    queue: str, node: str | None = None, log_level: str = "info", writes_outcomes: bool = False
) -> list[str]:
    """A region's worker; `node` names it (default: the queue) when several run on one host.
    It only checks: the housekeeping worker writes the outcomes (checks/outcomes/writer.py), unless
    `writes_outcomes` (a deployment with no housekeeping worker, or the benchmark's old layout)."""
    return [*_worker(queue, node, log_level), *([] if writes_outcomes else ["--without-outcome-writer"])]


def housekeeping_worker_command(
    log_level: str = "info", concurrency: int = 8, queues: str = "housekeeping,notifications"
) -> list[str]:
    """Housekeeping, alerts and the writing of every worker's outcomes. Each alert holds a
    thread for at most NOTIFY_TIMEOUT_SECONDS per attempt, so a few slow receivers do not
    hold up the rest."""
    return [*_worker(queues, "housekeeping", log_level), "-c", str(concurrency)]


def _worker(queue: str, node: str | None, log_level: str) -> list[str]:
    return celery_command("worker", "-Q", queue, "-n", f"{node or queue}@%h", "-l", log_level)
