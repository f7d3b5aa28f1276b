"""Beat's scheduler: django-celery-beat's database scheduler, stamping each check with its
slot, sending only while it holds the leader lease, and riding out outages.

The slot (the time the entry fell due) travels in the message as `scheduled_at`, so the
worker records the slot beat meant, however late or often the message arrives.
"""

import logging
from datetime import UTC, datetime, timedelta

import redis
from celery.schedules import schedule as interval_schedule
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import DatabaseError, InterfaceError, close_old_connections
from django.utils import timezone
from django_celery_beat.schedulers import DatabaseScheduler

from monitors.scheduling import CHECK_TASK

from .leader import Lease

logger = logging.getLogger(__name__)

# How often a standby asks for the lease, and how soon beat looks again after the
# database failed it.
STANDBY_POLL_SECONDS = 1.0
DATABASE_RETRY_SECONDS = 5.0


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
    def __init__(self, *args, **kwargs):
        self.lease = Lease(
            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2),
            settings.BEAT_LEASE_SECONDS,
        )
        # Checks whose send failed (broker away), kept with their slot to send again.
        self.unsent: list[tuple[object, datetime]] = []
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs):
        was_leader = self.lease.held
        if not self.lease.hold():
            if was_leader:
                # Another beat may be sending now: what we could not send is its business.
                self.unsent.clear()
            return STANDBY_POLL_SECONDS
        if not was_leader:
            # Read the schedule afresh: the previous leader's sends are in the database
            # (each saved at once), so nothing it sent is sent again.
            self._initial_read, self._heap = True, None
        try:
            self._send_unsent()
            return min(super().tick(*args, **kwargs), self.lease.ttl_seconds / 3)
        except (DatabaseError, InterfaceError) as exc:
            # Beat keeps running through a database outage with the schedule it has, and
            # reads it afresh (after saving what it sent) once the database is back.
            logger.warning("beat: database unavailable (%s); retrying in %ss", exc, DATABASE_RETRY_SECONDS)
            close_old_connections()
            self._initial_read, self._heap = True, None
            return DATABASE_RETRY_SECONDS

    def reserve(self, entry):
        # django-celery-beat hands the advanced entry to the heap only; the schedule keeps
        # the old one, and a heap rebuilt from it before the next reload (which happens
        # the tick after any change) sends the same slot again. Keep the schedule current.
        new_entry = super().reserve(entry)
        if self._schedule is not None and new_entry.name in self._schedule:
            self._schedule[new_entry.name] = new_entry
        return new_entry

    def sync(self):
        """Save each sent entry's last run. Unlike the parent's, an entry whose save fails
        (database away) stays to be saved next time: forgetting it would let the reload
        after the outage send its slot again."""
        close_old_connections()
        while self._dirty:
            name = self._dirty.pop()
            entry = (self._schedule or {}).get(name)
            if entry is None:
                continue  # removed from the schedule meanwhile
            try:
                entry.save()
            except ObjectDoesNotExist:
                continue  # the monitor was deleted meanwhile
            except (DatabaseError, InterfaceError) as exc:
                self._dirty.add(name)
                logger.warning("beat: cannot save %s entries yet (%s)", len(self._dirty), exc)
                return

    def all_as_schedule(self):
        if self._dirty:
            # Sends whose last run is not saved yet: a reload now would bring back their
            # old last run, and with it the same slots.
            raise DatabaseError(f"{len(self._dirty)} sent entries not saved yet")
        return super().all_as_schedule()

    def apply_async(self, entry, producer=None, advance=True, **kwargs):
        if entry.task != CHECK_TASK:
            return super().apply_async(entry, producer=producer, advance=advance, **kwargs)
        slot = slot_of(entry, timezone.now())
        if advance:
            self.reserve(entry)
        try:
            return self._send(entry, slot, producer, **kwargs)
        except Exception as exc:  # whatever the broker client raised: keep the check
            logger.warning("beat: could not send %s for %s (%s); will retry", entry.name, slot.isoformat(), exc)
            self.unsent.append((entry, slot))
            return None

    def _send(self, entry, slot: datetime, producer=None, **kwargs):
        # Stamped for this send only: the entry must not carry the slot into the next one.
        unstamped = entry.kwargs
        entry.kwargs = {**unstamped, "scheduled_at": slot.isoformat()}
        try:
            return super().apply_async(entry, producer=producer, advance=False, **kwargs)
        finally:
            entry.kwargs = unstamped

    def _send_unsent(self) -> None:
        """Send again the checks the broker refused, oldest first, while their slot is current.
        A slot older than its interval is gone (its message would expire): the watchdog
        records it as missed."""
        now = timezone.now()
        pending, self.unsent = self.unsent, []
        for index, (entry, slot) in enumerate(pending):
            if slot < now - entry.schedule.run_every:
                logger.warning("beat: dropping %s for %s: the next slot is due", entry.name, slot.isoformat())
                continue
            try:
                self._send(entry, slot, self.producer)
            except Exception as exc:  # the broker is still away: keep this and the rest
                logger.warning("beat: broker still unavailable (%s); %s checks waiting", exc, len(pending) - index)
                self.unsent.extend(pending[index:])
                return

    def close(self):
        self.lease.release()
        super().close()
