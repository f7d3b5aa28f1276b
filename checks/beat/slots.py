"""Which slot a send is for. An interval entry's slots lie on its own grid (its last run plus
its interval), and the slot travels in the message, so a late or repeated send records the
slot beat meant."""

import math
from datetime import UTC, datetime, timedelta

from celery.schedules import schedule as interval_schedule
from django.conf import settings
from django.utils import timezone


def slot_of(entry, now: datetime, kept_since: datetime | None = None) -> datetime | None:
    """The slot a send now is for: the entry's due time (its last run plus its interval),
    while that is at most BEAT_LATE_SLOT_MAX_SECONDS (and less than an interval) ago.

    None once it is older: beat was away, the slots owed since are missed (the watchdog
    records them), and the entry waits for its next slot on its own grid (`next_slot`)
    instead of going now. Sending every overdue entry at once would be a burst of a whole
    interval's checks, and stamping them "now" would bunch the fleet into one second of
    every interval for good; waiting keeps each monitor's phase, so the load stays spread
    after any outage. The exception: slots the broker could not take, from `kept_since` on
    (see BrokerOutages), are each sent in turn, however late. Entries other than intervals
    go now.
    """
    if not isinstance(entry.schedule, interval_schedule):
        return now
    due = due_at(entry)
    if due > now + timedelta(seconds=1):
        return now
    late_limit = min(entry.schedule.run_every, timedelta(seconds=settings.BEAT_LATE_SLOT_MAX_SECONDS))
    if due < now - late_limit and (kept_since is None or due < kept_since):
        return None
    return due


def next_slot(entry, now: datetime) -> datetime:
    """An interval entry's first slot on its own grid at or after `now`."""
    due = due_at(entry)
    if due >= now:
        return due
    run_every = entry.schedule.run_every
    return due + math.ceil((now - due) / run_every) * run_every


def due_at(entry) -> datetime:
    due = entry.last_run_at + entry.schedule.run_every
    return timezone.make_aware(due, UTC) if timezone.is_naive(due) else due


def slots_skipped(entry, slot: datetime) -> int:
    """How many of an interval entry's slots a send for `slot` passes over."""
    return max(0, int((slot - due_at(entry)) / entry.schedule.run_every))
