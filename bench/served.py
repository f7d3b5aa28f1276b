"""What every benchmark of the web process does around its measuring: the machine's speed
and load before and after, throwaway PostgreSQL and Valkey, and the environment a served
process has (DEBUG off, as served; DEBUG would also keep every query in memory)."""

import json
import os
import platform
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from uptime.embedded import free_port, services

from .machine import fixed_workload_ms


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@contextmanager
def served_process(name: str, **environment: str) -> Iterator[dict]:
    """Inside: services up and this process's environment set for Django (`environment`
    added); yields the machine's figures, completed with the "after" ones on the way out."""
    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_before": [round(n, 2) for n in os.getloadavg()],
        "machine_ms_before": fixed_workload_ms(),
    }
    data_dir = Path(tempfile.mkdtemp(prefix=f"uptime-bench-{name}-"))
    try:
        with services(data_dir, free_port(), free_port()) as service_env:
            os.environ.update(service_env)
            os.environ.update(
                DJANGO_SETTINGS_MODULE="uptime.settings",
                DEBUG="false",
                SECRET_KEY=secrets.token_urlsafe(32),
                JWT_SIGNING_KEY=secrets.token_urlsafe(32),
                ALLOWED_HOSTS="testserver",
                LOG_LEVEL="WARNING",
                **environment,
            )
            yield machine
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        machine |= {"load_after": [round(n, 2) for n in os.getloadavg()], "machine_ms_after": fixed_workload_ms()}


def report_head(module: str, machine: dict, args) -> dict:
    """What every report begins with: when, the command that made it, the machine and the
    options (`module`: "bench.badges" and so on)."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([f".venv/bin/python -m {module}", *sys.argv[1:]]).strip(),
        "machine": machine,
        "options": vars(args),
    }


def write_report(name: str, stamp: str, out_dir: str, report: dict) -> Path:
    """The run's JSON, as bench/results/<name>-<stamp>.json (or under --out)."""
    out = Path(out_dir) / f"{name}-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    say(f"wrote {out}")
    return out
