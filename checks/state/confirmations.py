"""Confirmations: a monitor goes down only after `failures_before_down` failing verdicts in
a row, and comes back from down only after `successes_before_up` passing ones, so a site
that flaps neither pages on every blip nor resolves on one lucky answer.

A verdict is the regions' quorum applied to their latest results (checks/state/verdicts.py),
counted once per slot on the monitor's own counters, inside the outcome writer's transaction.
Plain logic on the monitor's fields; the caller saves them.
"""

from datetime import datetime

from checks.state.verdicts import DEGRADED, DOWN, UNREACHABLE, UP
from monitors.models import Monitor
from monitors.validation import MAX_CONFIRMATIONS

# Statuses a monitor leaves only after `successes_before_up` passing verdicts.
FAILING = (DOWN, UNREACHABLE)


def count_verdict(monitor: Monitor, slot: datetime, failing: bool) -> None:
    """Count the verdict the monitor's results give now, for the slot `slot` (its newest).

    The regions of one slot report one by one, each changing the verdict: a slot counts
    once, as what its latest result made of it. A slot older than the last one counted (a
    check finishing late) counts for nothing. When a slot turns from passing to failing (or
    back) the run it ends is lost, so the new run starts at 1: a flip costs a confirmation,
    never saves one.
    """
    last = monitor.streak_slot
    if last is not None and slot < last:
        return
    if last is None or slot > last:
        if failing:
            monitor.failure_streak, monitor.success_streak = min(monitor.failure_streak + 1, MAX_CONFIRMATIONS), 0
        else:
            monitor.failure_streak, monitor.success_streak = 0, min(monitor.success_streak + 1, MAX_CONFIRMATIONS)
        monitor.streak_slot = slot
    elif failing and not monitor.failure_streak:
        monitor.failure_streak, monitor.success_streak = 1, 0
    elif not failing and not monitor.success_streak:
        monitor.failure_streak, monitor.success_streak = 0, 1


def forget_verdicts(monitor: Monitor) -> None:
    """Start counting afresh (paused, resumed, or in a maintenance window)."""
    monitor.failure_streak = monitor.success_streak = 0
    monitor.streak_slot = None
    monitor.held_since = None


def confirmed(monitor: Monitor, verdict: str) -> str:
    """The status the monitor takes for `verdict`, its counters having counted it: down
    once it has failed `failures_before_down` times in a row; out of down (or unreachable)
    once it has passed `successes_before_up` times in a row (degraded passes: it pages
    nobody); until then, the status it has."""
    if verdict == DOWN:
        confirmed_down = monitor.failure_streak >= monitor.failures_before_down
        return DOWN if confirmed_down or monitor.status == DOWN else monitor.status
    if monitor.status in FAILING and verdict in (UP, DEGRADED):
        return verdict if monitor.success_streak >= monitor.successes_before_up else monitor.status
    return verdict
