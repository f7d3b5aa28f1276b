"""How fast this machine runs Python right now: a fixed workload's CPU time.

The development box shares its two cores with other jobs, and the same work has taken
twice the CPU time within an hour. An end-to-end run records this before and after
itself, so a run is read against the machine it ran on, not only against the code.
"""

import hashlib
import json
import statistics
import time


def _fixed_workload() -> None:
    # Dict updates, string building, JSON and hashing: the kind of work a check does.
    counts: dict[int, int] = {}
    for i in range(200_000):
        counts[i % 1000] = counts.get(i % 1000, 0) + len(str(i))
    json.dumps(list(counts.items()))
    for i in range(2000):
        hashlib.sha256(str(i).encode()).hexdigest()


def fixed_workload_ms(runs: int = 7) -> float:
    """The median CPU milliseconds the fixed workload takes (about 43 on this box when it
    is quiet)."""
    times = []
    for _ in range(runs):
        started = time.process_time()
        _fixed_workload()
        times.append((time.process_time() - started) * 1000)
    return round(statistics.median(times), 1)
