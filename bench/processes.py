"""CPU time and memory of the processes a benchmark runs, sampled once a second.

A group (beat, workers, PostgreSQL, Redis, targets) is some root processes and all their
descendants; its CPU time is the sum over every process ever seen in it, so backends and
pool children that exit still count. Its RSS is the sum over the live ones (PostgreSQL's
shared buffers are counted once per backend that touched them, so that sum overstates).
"""

import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil


class ProcessGroup:
    def __init__(self, name: str, roots: Callable[[], list[int]]):
        self.name = name
        self.roots = roots
        self.cpu_by_pid: dict[int, float] = {}
        self.peak_rss_bytes = 0

    def sample(self) -> float:
        """Read every process of the group; return its CPU seconds so far."""
        processes = []
        for pid in self.roots():
            try:
                root = psutil.Process(pid)
                processes += [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
        rss = 0
        for process in processes:
            try:
                with process.oneshot():
                    times = process.cpu_times()
                    rss += process.memory_info().rss
            except psutil.Error:
                continue
            self.cpu_by_pid[process.pid] = times.user + times.system
        self.peak_rss_bytes = max(self.peak_rss_bytes, rss)
        return sum(self.cpu_by_pid.values())


class Sampler(threading.Thread):
    """Samples the groups every `period_seconds`; `timeline` holds (unix time, {group: cpu s})."""

    def __init__(self, groups: list[ProcessGroup], period_seconds: float = 1.0):
        super().__init__(daemon=True)
        self.groups = groups
        self.period_seconds = period_seconds
        self.timeline: list[tuple[float, dict[str, float]]] = []
        self._stop_event = threading.Event()

    def sample_now(self) -> dict[str, float]:
        point = (time.time(), {group.name: group.sample() for group in self.groups})
        self.timeline.append(point)
        return point[1]

    def run(self) -> None:
        while not self._stop_event.wait(self.period_seconds):
            self.sample_now()

    def stop(self) -> dict[str, float]:
        self._stop_event.set()
        self.join()
        return self.sample_now()

    def cpu_between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds each group used between two unix times (nearest samples)."""
        before = min(self.timeline, key=lambda point: abs(point[0] - start))[1]
        after = min(self.timeline, key=lambda point: abs(point[0] - end))[1]
        return {name: after[name] - before.get(name, 0.0) for name in after}

    def peak_rss_bytes(self) -> dict[str, int]:
        return {group.name: group.peak_rss_bytes for group in self.groups}


def postgres_pids(data_dir: Path) -> Callable[[], list[int]]:
    pid_file = data_dir / "postmaster.pid"
    return lambda: [int(pid_file.read_text().split()[0])] if pid_file.exists() else []


def pids_with_in_command_line(text: str) -> Callable[[], list[int]]:
    """Processes whose command line mentions `text` (found once, then remembered)."""
    found: list[int] = []

    def pids() -> list[int]:
        if not found:
            for process in psutil.process_iter(["pid", "cmdline"]):
                if text in " ".join(process.info["cmdline"] or []):
                    found.append(process.info["pid"])
        return found

    return pids
