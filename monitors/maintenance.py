"""Maintenance windows: the rules a window must meet, writing one with its monitors, and
whether (and until when) a monitor is in maintenance. The API, the admin and the checks
all go through here."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F

from .models import WEEK, MaintenanceWindow, Monitor

EDITABLE_FIELDS = ("name", "starts_at", "ends_at", "recurrence")


def window_errors(starts_at: datetime | None, ends_at: datetime | None, recurrence: str) -> dict[str, str]:
    """Return {field: message} for every rule the window's times break."""
    if starts_at is None or ends_at is None:
        return {}  # the missing field reports itself
    if ends_at <= starts_at:
        return {"ends_at": "The end must be after the start."}
    if recurrence == MaintenanceWindow.Recurrence.WEEKLY and ends_at - starts_at >= WEEK:
        # Longer, and one week's occurrence would run into the next: it would never end.
        return {"ends_at": "A weekly window must last less than 7 days."}
    return {}


@transaction.atomic
def create_window(organization, monitors: Iterable[Monitor], **fields) -> MaintenanceWindow:
    window = MaintenanceWindow.objects.create(organization=organization, **fields)
    window.monitors.set(monitors)
    return window


@transaction.atomic
def update_window(window: MaintenanceWindow, monitors: Iterable[Monitor] | None = None, **fields) -> MaintenanceWindow:
    for name, value in fields.items():
        if name not in EDITABLE_FIELDS:
            raise ValueError(f"{name} is not an editable maintenance window field")
        setattr(window, name, value)
    window.save()
    if monitors is not None:
        window.monitors.set(monitors)
    return window


def windows_of(monitor_ids: Iterable[int], since: datetime) -> dict[int, list[MaintenanceWindow]]:
    """The monitors' windows in force at `since` or later, by monitor: one query for a batch
    of ticks, which then ask `window.covers(slot)`."""
    found: dict[int, list[MaintenanceWindow]] = {}
    windows = MaintenanceWindow.objects.not_over(since).filter(monitors__id__any=list(monitor_ids))
    for window in windows.annotate(monitor_id=F("monitors")):
        found.setdefault(window.monitor_id, []).append(window)
    return found


def in_maintenance(monitor_id: int, at: datetime) -> bool:
    """Whether one of the monitor's windows covers `at`: one query, through the index on
    the window-monitor table's monitor column, made for every tick written."""
    return MaintenanceWindow.objects.covering(at).filter(monitors=monitor_id).exists()


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a window: the one in force, or the next one."""

    window: MaintenanceWindow
    starts_at: datetime
    ends_at: datetime

    def is_current(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


def current_or_next(windows: Iterable[MaintenanceWindow], at: datetime) -> Occurrence | None:
    """Of the given windows' occurrences, the one in force at `at` (the one ending last if
    several overlap), else the next to begin; None if none is in force or to come."""
    occurrences = [Occurrence(w, *times) for w in windows if (times := w.occurrence(at)) is not None]
    current = [o for o in occurrences if o.is_current(at)]
    if current:
        return max(current, key=lambda o: o.ends_at)
    return min(occurrences, key=lambda o: o.starts_at, default=None)


def monitor_maintenance(monitor: Monitor, at: datetime) -> Occurrence | None:
    """The monitor's maintenance in force at `at`, else its next one (for display). Reads
    `monitor.maintenance_windows.all()`, so a list can prefetch the windows not over."""
    return current_or_next(monitor.maintenance_windows.all(), at)
