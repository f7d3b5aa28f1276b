"""Which slot a send is for. An interval entry's slots lie on its own grid (its last run plus
its interval), and the slot travels in the message, so a late or repeated send records the
slot beat meant."""

from datetime import UTC, datetime, timedelta

from celery.schedules import schedule as interval_schedule
from django.utils import timezone


def slot_of(entry, now: datetime, kept_since: datetime | None = None) -> datetime:
    """The time this entry fell due: its last run plus its interval.

    After beat has been down for longer than an interval the old slots are gone (missed);
    the check sent now is for the present, not for a slot long past. The exception: slots
    the broker could not take, from `kept_since` on (see BrokerOutages), are each sent in
    turn, however late.
    """
    if not isinstance(entry.schedule, interval_schedule):
        return now
    run_every = entry.schedule.run_every
    due = due_at(entry)
    if due > now + timedelta(seconds=1):
        return now
    if due < now - run_every and (kept_since is None or due < kept_since):
        return now
    return due


def due_at(entry) -> datetime:
    due = entry.last_run_at + entry.schedule.run_every
    return timezone.make_aware(due, UTC) if timezone.is_naive(due) else due


def slots_skipped(entry, slot: datetime) -> int:
    """How many of an interval entry's slots a send for `slot` passes over."""
    return max(0, int((slot - due_at(entry)) / entry.schedule.run_every))
