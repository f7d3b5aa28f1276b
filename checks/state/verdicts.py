"""One status for a monitor checked from several regions, from each region's latest result.

Plain logic, no Django: the rule is easy to read and to test on its own.
"""

from collections.abc import Mapping

UP, DOWN, DEGRADED, PENDING = "up", "down", "degraded", "pending"
# Failing while a parent monitor is down (checks/state/dependencies.py): no verdict of the
# regions' own, but a status the verdict code moves to and from.
UNREACHABLE = "unreachable"


def majority(region_count: int) -> int:
    return region_count // 2 + 1


def verdict(latest: Mapping[str, str | None], quorum: int | None) -> str:
    """The status of a monitor whose regions' latest results are `latest` (slug -> "up",
    "down", or None when the region has not checked yet).

    Down when at least the quorum of its regions (default: a majority) see it down, so one
    flaky vantage point never pages anybody; degraded when some do, fewer than that;
    pending until some region has checked; up otherwise.
    """
    down = sum(1 for status in latest.values() if status == DOWN)
    needed = min(quorum or majority(len(latest)), len(latest))
    if down and down >= needed:
        return DOWN
    if down:
        return DEGRADED
    if all(status is None for status in latest.values()):
        return PENDING
    return UP
