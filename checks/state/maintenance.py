"""Monitors whose maintenance window has begun move to `maintenance` as it begins, not at
their next check: an hourly monitor would otherwise stay `down`, with its incident open and
its organization's pager reminded, for up to an hour into the window.

Run by the housekeeping worker every 30 s (checks.enter_maintenance); the first check
after the window judges the site again, as before."""

from datetime import datetime

from django.db import transaction

from checks.state.confirmations import forget_verdicts
from checks.state.transitions import StatusMove, change_statuses, save_statuses
from monitors.models import MaintenanceWindow, Monitor

# Not moved: a paused monitor is not checked at all, and one in maintenance is there.
SETTLED = (Monitor.Status.MAINTENANCE, Monitor.Status.PAUSED)
# What save_statuses writes.
SAVED_FIELDS = (
    "pk",
    "status",
    "status_changed_at",
    "last_checked_at",
    "failure_streak",
    "success_streak",
    "streak_slot",
    "held_since",
)


@transaction.atomic
def enter_maintenance(at: datetime) -> int:
    """Move every active monitor that a window covers at `at` to maintenance, resolving an
    open incident (its resolution: "maintenance"); return how many moved."""
    covered = MaintenanceWindow.objects.covering(at).values("monitors")
    # Locked, as the outcome writer locks them, so the two decide a monitor in turn.
    monitors = list(
        Monitor.objects.select_for_update()
        .filter(pk__in=covered, is_active=True)
        .exclude(status__in=SETTLED)
        .only(*SAVED_FIELDS, "name", "url", "organization_id")
    )
    for monitor in monitors:
        forget_verdicts(monitor)
    change_statuses(
        [StatusMove(monitor, Monitor.Status.MAINTENANCE, at, "maintenance window", []) for monitor in monitors]
    )
    save_statuses(monitors)
    return len(monitors)
