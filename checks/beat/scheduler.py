"""Beat's scheduler: django-celery-beat's database scheduler made to scale to 100,000 entries,
stamping each check with its slot, sending only while it holds the leader lease, and riding
out outages.

The slot (the time the entry fell due) travels in the message with its monitor, so the
worker records the slot beat meant, however late or often the message arrives. The checks
of a region that fall due together go in one message (`checks.run_checks`, a bundle of
[monitor id, slot] pairs; see BUNDLE_SECONDS).

Why not the stock loop: celery's `Scheduler.tick` compares the whole schedule with the
previous one on every tick, and sends one entry per tick, so its cost grows with the square
of the number of entries; django-celery-beat reloads every row after any edit and saves
each send with two queries. Here a heap keyed by due time is the only structure a tick
touches, edits are applied row by row (`PeriodicTask.date_changed` since the last look,
when `PeriodicTasks.last_change` moved), and sent entries are saved in one statement per
batch, by a thread of their own (checks/beat/last_runs.py). A bundle's message is built once per
region (`BundleMessage`); a send fills in its id, expiry and pairs, and each tick's bundles
go to Redis in one pipeline. An entry advances only once the broker has taken its check, so
through a broker outage the owed slots stay in the heap, to be sent in order after it
(`BrokerOutages`).
"""

import heapq
import itertools
import logging
import time
from collections import defaultdict
from datetime import datetime

import redis
from django.conf import settings
from django.db import DatabaseError, InterfaceError, close_old_connections
from django.utils import timezone
from django_celery_beat.schedulers import DatabaseScheduler

from checks.beat.entries import IntervalEntry, model_id_of, takes_fast_path
from checks.beat.last_runs import SAVE_EVERY_SECONDS, SAVE_WAIT_SECONDS, LastRunSaver
from checks.beat.lease import Lease
from checks.beat.message import BUNDLE_MAX_CHECKS, BUNDLE_SECONDS, BundleMessage, broker_client
from checks.beat.mirror import ScheduleMirror
from checks.beat.outages import BrokerOutages
from checks.beat.slots import next_slot, slot_of, slots_skipped
from uptime.redis_clients import redis_client

logger = logging.getLogger(__name__)

# How often a standby asks for the lease, and how soon beat looks again after the
# database failed it.
STANDBY_POLL_SECONDS = 1.0
DATABASE_RETRY_SECONDS = 5.0

# One tick sends for at most this long before handing back to beat's loop, so the lease,
# edits and saves keep their pace under a backlog.
SEND_BUDGET_SECONDS = 0.05


class SlotScheduler(ScheduleMirror, DatabaseScheduler):
    def __init__(self, *args, **kwargs):
        self.lease = Lease(
            redis_client(),
            settings.BEAT_LEASE_SECONDS,
        )
        # Since when slots the broker could not take are owed (sent once it is back).
        self.outages = BrokerOutages(settings.BEAT_UNSENT_MAX_SECONDS)
        self._skipped_slots = 0
        # (due as a Unix timestamp, tie-breaker, entry name). An entry edited or removed
        # leaves its old item behind; `_due` tells the current one from those.
        self._heap: list | None = None
        self._due: dict[str, float] = {}
        self._name_of_id: dict[int, str] = {}
        self._intervals: dict[int, tuple[int, str]] = {}
        self._order = itertools.count()
        self._changed_up_to: datetime | None = None
        self._next_change_poll = 0.0
        # The periodic comparison: the last id compared in this pass, ours when it began,
        # and when the next slice is due (monotonic).
        self._reconcile_after_id = 0
        self._reconcile_ids: list[int] = []
        self._reconcile_new_ids: set[int] = set()  # added since the pass began
        self._reconcile_hurry = False
        self._next_reconcile_step = 0.0
        self._saver = LastRunSaver()
        # Checks due this tick, pushed to the broker in bundles at its end: (entry, slot,
        # whether to advance the entry, its due time in the heap or None).
        self._outbox: list[tuple[IntervalEntry, datetime, bool, float | None]] | None = None
        # A bundle's message, built once per (queue, region, expiry, priority).
        self._bundle_messages: dict[tuple, BundleMessage] = {}
        # When the checks falling due meanwhile go out together (monotonic; see BUNDLE_SECONDS).
        self._next_bundle_at = 0.0
        super().__init__(*args, **kwargs)
        self._broker = broker_client(self.app.conf.broker_url)
        self._reply_to = self.app.thread_oid
        # Saves are batched by time, whatever beat_sync_every says (see SAVE_EVERY_SECONDS).
        self.sync_every = SAVE_EVERY_SECONDS
        self.sync_every_tasks = None

    # -- the loop -------------------------------------------------------------------------

    def tick(self, *args, **kwargs):
        was_leader = self.lease.held
        if not self.lease.hold():
            if not self.lease.reachable:
                # Redis is the broker too: what falls due now is owed once it is back. (A
                # leader learns that from its refused sends.)
                self.outages.away(timezone.now())
            else:
                # Another beat leads: the slots owed are its business now.
                self.outages.back()
                self.outages.settled()
            return STANDBY_POLL_SECONDS
        if not was_leader and not self.lease.kept:
            # Read the schedule afresh: the previous leader saved its sends before letting
            # the lease go (or while it held it), so nothing it sent is sent again. (A lease
            # we stopped trusting but Redis kept for us, after a long first read or a pause,
            # had no other holder: the schedule we have is current.)
            self._initial_read = True
        try:
            self.schedule  # noqa: B018 (reads the schedule when it must)
            self._look_for_changes()
        except (DatabaseError, InterfaceError) as exc:
            self._database_away(exc)
            if self._initial_read:
                return DATABASE_RETRY_SECONDS  # no schedule read yet: nothing to send
        # Beat keeps sending through a database outage with the schedule it has (it is
        # newer than the database's), and saves and looks for changes once it is back.
        delay = self._send_due()
        try:
            if self.should_sync():
                self._do_sync()
        except (DatabaseError, InterfaceError) as exc:
            self._database_away(exc)
        delay = min(delay, max(0.0, self._next_change_poll - time.monotonic()))
        return min(delay, self.lease.ttl_seconds / 3)

    def _database_away(self, exc: Exception) -> None:
        logger.warning("beat: database unavailable (%s); looking again in %ss", exc, DATABASE_RETRY_SECONDS)
        close_old_connections()
        self._next_change_poll = time.monotonic() + DATABASE_RETRY_SECONDS
        self._next_reconcile_step = max(self._next_reconcile_step, self._next_change_poll)

    def _send_due(self) -> float:
        """Send every entry that is due, for at most SEND_BUDGET_SECONDS, in one round trip
        to the broker; return how long beat may sleep. If that round trip fails, the entries
        in it stay due, and go with the next round trip the broker takes."""
        if self.outages.broker_away and not self._broker_answers():
            return STANDBY_POLL_SECONDS
        gathering = self._next_bundle_at - time.monotonic()
        if gathering > 0:
            return gathering
        self._outbox = []
        try:
            delay = self._send_due_entries()
            sent = bool(self._outbox)
            if not self._flush_outbox():
                return STANDBY_POLL_SECONDS
            if delay > 0 and not (self._heap and self._heap[0][0] <= time.time()):
                self.outages.settled()  # nothing is due, not even the next slot of one just sent
            if sent and delay > 0:
                # Caught up: what falls due in the next moment goes out as one bundle per
                # region. (Behind, beat sends on at once, in bundles as large as it finds.)
                self._next_bundle_at = time.monotonic() + BUNDLE_SECONDS
                delay = max(delay, BUNDLE_SECONDS)
            return delay
        finally:
            self._outbox = None

    def _broker_answers(self) -> bool:
        try:
            self._broker.ping()
        except redis.RedisError:
            return False
        self.outages.back()
        return True

    def _send_due_entries(self) -> float:
        heap = self._heap
        budget_ends = time.monotonic() + SEND_BUDGET_SECONDS
        kept_since = self.outages.kept_since(timezone.now())
        while heap:
            due, _, name = heap[0]
            now = time.time()
            if due > now:
                return min(due - now, self.max_interval)
            heapq.heappop(heap)
            if self._due.get(name) != due:
                continue  # edited or removed since it was pushed
            entry = self._schedule[name]
            if takes_fast_path(entry):
                slot = slot_of(entry, timezone.now(), kept_since)
                if slot is None:
                    self._wait_for_next_slot(entry)
                else:
                    self._post(entry, slot, requeue_at=due)
            elif isinstance(entry, IntervalEntry):
                self.apply_async(entry)
            else:
                try:
                    is_due, next_seconds = entry.is_due()
                except Exception:
                    is_due, next_seconds = self._is_due_failed(entry)
                if is_due:
                    self.reserve(entry)
                    self.apply_entry(entry, producer=self.producer)
                else:
                    self._due[name] = now + next_seconds
                    heapq.heappush(heap, (now + next_seconds, next(self._order), name))
            if time.monotonic() > budget_ends:
                return 0
        return self.max_interval

    def _wait_for_next_slot(self, entry) -> None:
        """Pass over the slots an entry owes that are more than an interval old: it is sent
        next at its own next slot (see slot_of), and that is saved like a send."""
        upcoming = next_slot(entry, timezone.now())
        self._skipped_slots += slots_skipped(entry, upcoming)
        entry.last_run_at = upcoming - entry.schedule.run_every
        self._dirty.add(entry.name)
        self._push(entry)

    def reserve(self, entry, slot: datetime | None = None):
        # django-celery-beat hands the advanced entry to the heap only; the schedule keeps
        # the old one, and a heap rebuilt from it sends the same slot again. Keep both current.
        if isinstance(entry, IntervalEntry):
            now = timezone.now()
            new_entry = entry
            entry.advance_to(slot or slot_of(entry, now, self.outages.kept_since(now)) or now)
        else:
            new_entry = next(entry)
        self._dirty.add(new_entry.name)
        if self._schedule is not None and new_entry.name in self._schedule:
            self._schedule[new_entry.name] = new_entry
            if self._heap is not None:
                self._push(new_entry)
        return new_entry

    def sync(self):
        """Hand the sent entries' last runs to the saver's thread, which writes them in one
        statement per batch and keeps what the database refused to try again."""
        if self._skipped_slots:
            logger.warning(
                "beat: %s slots more than an interval old skipped (beat was away, or the broker for longer"
                " than BEAT_UNSENT_MAX_SECONDS); the watchdog records them as missed, and each monitor"
                " goes on at its next slot",
                self._skipped_slots,
            )
            self._skipped_slots = 0
        if not self._dirty:
            return
        rows = []
        schedule = self._schedule or {}
        for name in self._dirty:
            entry = schedule.get(name)
            model_id = model_id_of(entry) if entry is not None else None
            if entry is not None and model_id is not None:
                rows.append((model_id, entry.last_run_at, entry.total_run_count))
        self._dirty.clear()
        self._saver.submit(rows)

    def all_as_schedule(self):
        # Only the parent's own reload would call this; ours reads through _read_all.
        self._read_all()
        return self._schedule

    def apply_async(self, entry, producer=None, advance=True, **kwargs):
        if not takes_fast_path(entry):
            if advance:
                self.reserve(entry)
            return super().apply_async(entry, producer=producer, advance=False, **kwargs)
        now = timezone.now()
        slot = slot_of(entry, now, self.outages.kept_since(now)) or now
        if self._outbox is not None:
            self._post(entry, slot, advance)  # sent with the rest of the tick's checks
        else:
            self._outbox = []
            try:
                self._post(entry, slot, advance)
                self._flush_outbox()
            finally:
                self._outbox = None
        return None

    def _post(self, entry, slot: datetime, advance: bool = True, requeue_at: float | None = None) -> None:
        """Put the entry's check for `slot` in the outbox, to go in its region's bundle. The
        entry advances once the broker has taken it; `requeue_at` is its place in the heap,
        to go back to if not."""
        assert self._outbox is not None  # only while a tick's outbox is open
        self._outbox.append((entry, slot, advance, requeue_at))

    def _bundles(self) -> dict[str, list[str]]:
        """The outbox as messages by queue: per region (and expiry), bundles of at most
        BUNDLE_MAX_CHECKS checks, in the order their slots fell due."""
        assert self._outbox is not None  # only while a tick's outbox is open
        groups = defaultdict(list)
        for entry, slot, _, _ in self._outbox:
            groups[entry.bundle].append((entry.kwargs["monitor_id"], slot))
        sent_at = time.time()
        by_queue = defaultdict(list)
        for key, slots in groups.items():
            message = self._bundle_messages.get(key)
            if message is None:
                message = self._bundle_messages[key] = BundleMessage(self.app, *key[:3], self._reply_to, key[3])
            for start in range(0, len(slots), BUNDLE_MAX_CHECKS):
                by_queue[message.queue].append(message.render(slots[start : start + BUNDLE_MAX_CHECKS], sent_at))
        return by_queue

    def _flush_outbox(self) -> bool:
        """Push the outbox's checks, bundled, in one pipeline, one LPUSH per queue (the
        order kombu would push them in), and advance their entries; True if the broker
        took them. If not, the entries stay due, to be sent with the same slots later."""
        if not self._outbox:
            return True
        try:
            with self._broker.pipeline(transaction=False) as pipe:
                for queue, messages in self._bundles().items():
                    pipe.lpush(queue, *messages)
                pipe.execute()
        except redis.RedisError as exc:
            logger.warning("beat: the broker refused %s checks (%s); they stay due", len(self._outbox), exc)
            self.outages.away(min(slot for _, slot, _, _ in self._outbox))
            for entry, _, _, requeue_at in self._outbox:
                if requeue_at is not None and self._due.get(entry.name) == requeue_at:
                    assert self._heap is not None  # requeue_at is a place in it
                    heapq.heappush(self._heap, (requeue_at, next(self._order), entry.name))
            return False
        self.outages.back()
        for entry, slot, advance, _ in self._outbox:
            if advance:
                self.reserve(entry, slot)
        return True

    def close(self):
        # Save before letting the lease go: a standby taking over reads what we saved.
        try:
            self.sync()
            self._saver.close(SAVE_WAIT_SECONDS)
        finally:
            self.lease.release()
            super().close()
