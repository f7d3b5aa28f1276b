"""Beat's scheduler: django-celery-beat's database scheduler, stamping each check with its slot.

The slot (the time the entry fell due) travels in the message as `scheduled_at`, so the
worker records the slot beat meant, however late or often the message arrives.
"""

from datetime import UTC, datetime, timedelta

from celery.schedules import schedule as interval_schedule
from django.utils import timezone
from django_celery_beat.schedulers import DatabaseScheduler

from monitors.scheduling import CHECK_TASK


def slot_of(entry, now: datetime) -> datetime:
    """The time this entry fell due: its last run plus its interval.

    After beat has been down for longer than an interval the old slots are gone (missed);
    the check sent now is for the present, not for a slot long past.
    """
    if not isinstance(entry.schedule, interval_schedule):
        return now
    run_every = entry.schedule.run_every
    due = entry.last_run_at + run_every
    if timezone.is_naive(due):
        due = timezone.make_aware(due, UTC)
    if due < now - run_every or due > now + timedelta(seconds=1):
        return now
    return due


class SlotScheduler(DatabaseScheduler):
    def apply_async(self, entry, producer=None, advance=True, **kwargs):
        if entry.task != CHECK_TASK:
            return super().apply_async(entry, producer=producer, advance=advance, **kwargs)
        slot = slot_of(entry, timezone.now())
        if advance:
            self.reserve(entry)
        # Stamped for this send only: the entry must not carry the slot into the next one.
        unstamped = entry.kwargs
        entry.kwargs = {**unstamped, "scheduled_at": slot.isoformat()}
        try:
            return super().apply_async(entry, producer=producer, advance=False, **kwargs)
        finally:
            entry.kwargs = unstamped
