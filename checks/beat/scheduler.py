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

import base64
import bisect
import contextlib
import functools
import gc
import heapq
import itertools
import json
import logging
import math
import re
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import redis
from celery.beat import ScheduleEntry
from celery.schedules import schedule as interval_schedule
from django.conf import settings
from django.db import DatabaseError, InterfaceError, close_old_connections
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks
from django_celery_beat.schedulers import SCHEDULE_SYNC_MAX_INTERVAL, DatabaseScheduler
from kombu.utils.json import dumps
from redis.backoff import NoBackoff
from redis.retry import Retry

from checks.beat.last_runs import LastRunSaver
from checks.beat.lease import Lease
from monitors.scheduling import BUNDLE_TASK, CHECK_TASK

logger = logging.getLogger(__name__)

# How often a standby asks for the lease, and how soon beat looks again after the
# database failed it.
STANDBY_POLL_SECONDS = 1.0
DATABASE_RETRY_SECONDS = 5.0
# How often beat asks whether the schedule changed (one indexed single-row query): an edit
# in the admin or the API reaches beat within this, plus the time to read the changed rows.
CHANGE_POLL_SECONDS = 0.25
# Rows changed this long before the newest change beat has seen are read again: a
# transaction stamps date_changed when it saves, but commits later.
CHANGE_OVERLAP_SECONDS = 30
# Sent entries' last run times are handed to the saver's thread (checks/beat/last_runs.py) at most
# this far apart. A beat killed before they are saved sends the same slots again when it (or
# a standby) starts; the worker writes one tick per slot, so that costs a message, not a tick.
SAVE_EVERY_SECONDS = 0.5
# How long a read of the whole schedule, or a clean stop, waits for those saves.
SAVE_WAIT_SECONDS = 10.0
# The periodic comparison of every row's id and change time with the schedule (for a change
# that slipped past the overlap) reads this many rows at a time, one slice per step, taking
# SCHEDULE_SYNC_MAX_INTERVAL over the whole table; after a deletion, a slice per tick.
RECONCILE_SLICE_ROWS = 2000
# One tick sends for at most this long before handing back to beat's loop, so the lease,
# edits and saves keep their pace under a backlog.
SEND_BUDGET_SECONDS = 0.05
# How long beat waits on the broker for one tick's sends before keeping them to retry.
BROKER_TIMEOUT_SECONDS = 2
# Checks go out in bundles: one message for the checks of a region that fell due within
# this long of each other, at most BUNDLE_MAX_CHECKS each. A message costs a worker about
# as much CPU as the HTTP check itself (taking it off the queue, its unacknowledged
# bookkeeping, the task's trace, the acknowledgement), and beat and Redis their share;
# bundling pays that once for many checks (docs/benchmarks.md). It makes checks up to
# this much later; a bundle's checks run side by side in the worker.
BUNDLE_SECONDS = 0.05
BUNDLE_MAX_CHECKS = 50

ROW_FIELDS = (
    "id",
    "name",
    "task",
    "args",
    "kwargs",
    "queue",
    "exchange",
    "routing_key",
    "priority",
    "headers",
    "expire_seconds",
    "last_run_at",
    "total_run_count",
    "date_changed",
    "enabled",
    "interval_id",
    "crontab_id",
    "solar_id",
    "clocked_id",
    "start_time",
    "expires",
    "one_off",
)


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


class BrokerOutages:
    """Since when slots the broker could not take are owed, so that once it is back they are
    sent, oldest first, each stamped with its slot, rather than skipped.

    Nothing is held per slot: an entry whose check the broker refused is not advanced, so
    it stays due in the heap, and once the broker is back it is sent once per slot it owes,
    in slot order. The debt is settled when nothing is due any more. Slots older than
    `keep_seconds` are not made up (the watchdog records them as missed): after a long
    outage so many late checks would crowd out the current ones.
    """

    def __init__(self, keep_seconds: float):
        self.keep_seconds = keep_seconds
        self.began: datetime | None = None
        self.broker_away = False

    def kept_since(self, now: datetime) -> datetime | None:
        if self.began is None or self.keep_seconds <= 0:
            return None
        return max(self.began, now - timedelta(seconds=self.keep_seconds))

    def away(self, since: datetime) -> None:
        if not self.broker_away:
            logger.warning("beat: the broker is away; keeping the slots due from %s", since.isoformat())
        self.broker_away = True
        if self.began is None or since < self.began:
            self.began = since

    def back(self) -> None:
        if self.broker_away:
            logger.warning("beat: the broker is back; sending the slots it missed, oldest first")
        self.broker_away = False

    def settled(self) -> None:
        """Nothing is due: every slot owed has been sent (or another beat owes them)."""
        if not self.broker_away:
            self.began = None


class IntervalEntry(ScheduleEntry):
    """A plain interval row (no start time, expiry or one-off), read without a model
    instance. Its last run is the slot it was sent for, so slots stay on their grid
    however late beat sends them."""

    def __init__(self, row: dict, schedule: interval_schedule, app):
        self.app = app
        self.model_id = row["id"]
        self.name = row["name"]
        self.task = row["task"]
        self._row = row  # its JSON fields are parsed when first needed (see below)
        self.schedule = schedule
        self.last_run_at = row["last_run_at"] or row["date_changed"]
        self.total_run_count = row["total_run_count"]
        self.changed_at = row["date_changed"]
        self.relative = False

    # Parsed at the first send, not when the schedule is read: 100,000 rows' worth of JSON
    # would hold up a starting beat's first checks.
    @functools.cached_property
    def args(self):
        return json.loads(self._row["args"] or "[]")

    @functools.cached_property
    def kwargs(self):
        return json.loads(self._row["kwargs"] or "{}")

    @functools.cached_property
    def options(self):
        return entry_options(self._row)

    @functools.cached_property
    def is_plain_check(self) -> bool:
        # Asked at every send: worked out once (an edit makes a new entry).
        return (
            self.task == CHECK_TASK
            and bool(self.options.get("queue"))
            and not self.args
            and set(self.kwargs) == {"monitor_id", "region"}
        )

    @functools.cached_property
    def bundle(self) -> tuple:
        """What a check's bundle must share with it: (queue, region, expiry, priority)."""
        options = self.options
        return (
            options.get("routing_key") or options["queue"],
            self.kwargs["region"],
            options.get("expires"),
            options.get("priority") or 0,
        )

    def due_timestamp(self) -> float:
        return (self.last_run_at + self.schedule.run_every).timestamp()

    def advance_to(self, slot: datetime) -> None:
        """Record the send for `slot` in place. A new entry per send would put 100,000
        objects a minute in the collector's oldest generation, and a full collection over
        them every minute or so holds beat up for over half a second."""
        self.last_run_at = slot
        self.total_run_count += 1

    def sent_for(self, slot: datetime) -> "IntervalEntry":
        """The entry as it stands once its check for `slot` is sent, as a copy."""
        sent = object.__new__(IntervalEntry)
        sent.__dict__.update(self.__dict__)
        sent.last_run_at = slot
        sent.total_run_count = self.total_run_count + 1
        return sent

    def __next__(self):
        return self.sent_for(slot_of(self, timezone.now()))


def entry_options(row: dict) -> dict:
    # As django-celery-beat's ModelEntry builds them, so messages look the same.
    options = {name: row[name] for name in ("queue", "exchange", "routing_key", "priority") if row[name] is not None}
    if row["expires"] or row["expire_seconds"]:
        options["expires"] = row["expires"] or row["expire_seconds"]
    headers = json.loads(row["headers"] or "{}")
    headers["periodic_task_name"] = row["name"]
    options["headers"] = headers
    return options


def is_plain_interval(row: dict) -> bool:
    return bool(row["interval_id"]) and not (row["start_time"] or row["expires"] or row["one_off"])


def model_id_of(entry) -> int | None:
    if isinstance(entry, IntervalEntry):
        return entry.model_id
    model = getattr(entry, "model", None)
    return model.pk if model is not None else None


def changed_at_of(entry) -> datetime | None:
    if isinstance(entry, IntervalEntry):
        return entry.changed_at
    model = getattr(entry, "model", None)
    return model.date_changed if model is not None else None


# Stand-ins for what differs between two sends of one entry: plain text that JSON and
# repr leave as it is, so it can be found again in the serialized message.
STAND_IN = re.compile(r"@@uptime-(id|tag|expires|body)@@")


def stand_in(name: str) -> str:
    return f"@@uptime-{name}@@"


def split_at_stand_ins(text: str) -> list[str]:
    # Text, name, text, name, ..., text.
    return STAND_IN.split(text)


def fill_in(parts: list[str], values: dict[str, str]) -> str:
    return "".join([values[part] if index % 2 else part for index, part in enumerate(parts)])


class BundleMessage:
    """The message of a bundle of checks (`checks.run_checks`: a region and its [monitor
    id, slot] pairs) exactly as celery 5.7 puts it on a region's Redis list (protocol 2,
    JSON body in base64), built once per region and expiry through celery's own
    `as_task_v2`; a send fills in a new task id and delivery tag, the expiry and the
    pairs, in microseconds.

    Why: celery's `send_task` costs about 1 ms of beat's CPU per message (configuration
    read through Django's settings on every call, reprs, routing, signals), which caps one
    core well below the 1,667 checks/s of 100,000 monitors at 60 s. No signal handler in
    this project listens to task publishing, and the worker cannot tell the difference
    (tests/test_scheduling.py compares the two messages field by field).
    """

    __slots__ = ("queue", "expire_seconds", "_envelope", "_body")

    def __init__(self, app, queue: str, region: str, expire_seconds: float | None, reply_to: str, priority: int):
        # With no exchange, kombu's Redis transport pushes to the list named by the routing key.
        self.queue = queue
        self.expire_seconds = expire_seconds
        task = app.tasks.get(BUNDLE_TASK)
        headers, properties, body, _ = app.amqp.as_task_v2(
            stand_in("id"),
            BUNDLE_TASK,
            (region, stand_in("slots")),
            {},
            expires=stand_in("expires") if expire_seconds is not None else None,
            reply_to=reply_to,
            ignore_result=task.ignore_result if task is not None else False,
            # Not the pairs: a log line or an event names the region only.
            argsrepr=f"({region!r}, [...])",
            kwargsrepr="{}",
        )
        headers["celery_beat_task"] = True  # as celery's beat marks what it sends
        properties.update(delivery_mode=2, priority=priority)
        if expire_seconds is not None:
            properties["expiration"] = str(int(expire_seconds * 1000))
        properties.update(
            body_encoding="base64",
            delivery_tag=stand_in("tag"),
            delivery_info={"exchange": "", "routing_key": queue},
        )
        envelope = {
            "body": stand_in("body"),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": headers,
            "properties": properties,
        }
        self._envelope = split_at_stand_ins(dumps(envelope))
        # The pairs are a JSON list where the body has the quoted stand-in.
        self._body = dumps(body).split(dumps(stand_in("slots")))

    def render(self, slots: list[tuple[int, datetime]], sent_at: float) -> str:
        values = {"id": str(uuid.uuid4()), "tag": str(uuid.uuid4())}
        if self.expire_seconds is not None:
            values["expires"] = datetime.fromtimestamp(sent_at + self.expire_seconds, UTC).isoformat()
        pairs = dumps([[monitor_id, slot.isoformat()] for monitor_id, slot in slots])
        values["body"] = base64.b64encode(pairs.join(self._body).encode()).decode()
        return fill_in(self._envelope, values)


def broker_client(url: str) -> redis.Redis:
    # No retries inside a send: the tick keeps what failed and tries again on a later tick,
    # so a broker outage holds beat's loop for a timeout, not for a series of back-offs.
    return redis.Redis.from_url(
        url,
        socket_timeout=BROKER_TIMEOUT_SECONDS,
        socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),
    )


def takes_fast_path(entry) -> bool:
    """A plain check entry (a monitor in a region): sent in a bundle. Anything else goes
    through celery's own send."""
    return isinstance(entry, IntervalEntry) and entry.is_plain_check


class SlotScheduler(DatabaseScheduler):
    def __init__(self, *args, **kwargs):
        self.lease = Lease(
            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2),
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
        self._outbox: list[tuple[object, datetime, bool, float | None]] | None = None
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

    # -- the schedule: read whole once, then changed rows only --------------------------

    @property
    def schedule(self):
        if self._initial_read:
            self._read_all()
        return self._schedule

    def setup_schedule(self):
        self.install_default_entries({})
        self.update_from_dict(self.app.conf.beat_schedule)

    def update_from_dict(self, mapping):
        """Write static entries (CELERY_BEAT_SCHEDULE) to the database; they are read with
        the rest when this beat first leads, not now: a standby keeps no schedule."""
        for name, fields in mapping.items():
            try:
                self.Entry.from_entry(name, app=self.app, **fields)
            except Exception as exc:
                logger.exception("beat: cannot add entry %r to the database schedule: %r", name, exc)
        self._initial_read = True

    def _read_all(self) -> None:
        self.sync()
        if not self._saver.flush(SAVE_WAIT_SECONDS):
            # Sends whose last run is not saved yet: a read now would bring back their old
            # last run, and with it the same slots.
            raise DatabaseError(f"{self._saver.unsaved} sent entries not saved yet")
        close_old_connections()
        self._last_timestamp = PeriodicTasks.last_change()
        self._intervals = self._read_intervals()
        self._schedule, self._name_of_id, self._changed_up_to = {}, {}, None
        self._apply_rows(self._read_rows(PeriodicTask.objects.filter(enabled=True)))
        self._rebuild_heap()
        # The schedule lives as long as beat: keep the collector from walking its million
        # objects on every full collection (a pause of a good fraction of a second at 100k).
        gc.freeze()
        self._initial_read = False
        self._start_reconcile_pass(time.monotonic())
        logger.info("beat: schedule read, %s entries", len(self._schedule))

    def _read_intervals(self) -> dict[int, tuple[int, str]]:
        rows = IntervalSchedule.objects.values_list("id", "every", "period")
        return {pk: (every, period) for pk, every, period in rows}

    def _read_rows(self, queryset) -> list[dict]:
        return list(queryset.order_by().values(*ROW_FIELDS))

    def _apply_rows(self, rows: list[dict]) -> None:
        """Put each row's current state in the schedule (and the heap, if built)."""
        schedules: dict[int, interval_schedule] = {}
        model_rows = []
        for row in rows:
            if not row["enabled"]:
                self._remove(self._name_of_id.get(row["id"]))
                continue
            if not is_plain_interval(row):
                model_rows.append(row["id"])
                continue
            interval_id = row["interval_id"]
            if interval_id not in schedules:
                every, period = self._intervals[interval_id]
                schedules[interval_id] = interval_schedule(timedelta(**{period: every}), app=self.app)
            self._put(IntervalEntry(row, schedules[interval_id], self.app))
        if model_rows:
            # Crontab, solar, clocked and other rare kinds: django-celery-beat's own entry.
            for model in PeriodicTask.objects.enabled().filter(pk__any=model_rows):
                with contextlib.suppress(ValueError):
                    self._put(self.Entry(model, app=self.app))

    def _put(self, entry) -> None:
        model_id = model_id_of(entry)
        old_name = self._name_of_id.get(model_id)
        if old_name is not None and old_name != entry.name:
            self._remove(old_name)  # renamed
        current = self._schedule.get(entry.name)
        if current is not None and current.last_run_at and entry.last_run_at:
            # Our sends may be newer than the row the edit saved: never step back a slot.
            entry.last_run_at = max(entry.last_run_at, current.last_run_at)
            entry.total_run_count = max(entry.total_run_count, current.total_run_count)
        self._schedule[entry.name] = entry
        if model_id is not None:
            if model_id not in self._name_of_id:
                self._reconcile_new_ids.add(model_id)
            self._name_of_id[model_id] = entry.name
        changed_at = changed_at_of(entry)
        if changed_at and (self._changed_up_to is None or changed_at > self._changed_up_to):
            self._changed_up_to = changed_at
        if self._heap is not None:
            self._push(entry)

    def _remove(self, name: str | None) -> None:
        if name is None:
            return
        entry = self._schedule.pop(name, None)
        self._due.pop(name, None)
        self._dirty.discard(name)
        if entry is not None:
            self._name_of_id.pop(model_id_of(entry), None)

    def _due_of(self, entry) -> float:
        if isinstance(entry, IntervalEntry):
            return entry.due_timestamp()
        try:
            is_due, next_seconds = entry.is_due()
        except Exception:  # one broken entry must not stop the others
            is_due, next_seconds = self._is_due_failed(entry)
        return time.time() + (0 if is_due else next_seconds)

    def _push(self, entry) -> None:
        due = self._due[entry.name] = self._due_of(entry)
        heapq.heappush(self._heap, (due, next(self._order), entry.name))

    def _rebuild_heap(self) -> None:
        self._due = {name: self._due_of(entry) for name, entry in self._schedule.items()}
        self._heap = [(due, next(self._order), name) for name, due in self._due.items()]
        heapq.heapify(self._heap)  # linear, where pushing one by one is N log N

    def _look_for_changes(self) -> None:
        """Apply what changed in the database since the last look: edited, added, disabled
        and deleted rows, without reading the rest."""
        now = time.monotonic()
        if now >= self._next_reconcile_step:
            self._reconcile_step(now)
        if now < self._next_change_poll:
            return
        self._next_change_poll = now + CHANGE_POLL_SECONDS
        close_old_connections()
        last_change = PeriodicTasks.last_change()
        if last_change == self._last_timestamp:
            return
        self._last_timestamp = last_change
        intervals = self._read_intervals()
        if any(intervals.get(pk) != value for pk, value in self._intervals.items()):
            # An interval itself was edited: every entry using it changes. Rare; read all.
            self._read_all()
            return
        self._intervals = intervals  # new ones only
        since = (self._changed_up_to or timezone.now()) - timedelta(seconds=CHANGE_OVERLAP_SECONDS)
        changed = [
            row for row in self._read_rows(PeriodicTask.objects.filter(date_changed__gte=since)) if self._is_news(row)
        ]
        self._apply_rows(changed)
        if changed:
            logger.info("beat: %s schedule entries changed", len(changed))
        # A deletion leaves no row to find: the count of enabled rows tells one happened, and
        # a pass over the whole table, a slice per tick, finds which.
        if PeriodicTask.objects.filter(enabled=True).count() != len(self._name_of_id):
            self._start_reconcile_pass(now, hurry=True)

    def _is_news(self, row: dict) -> bool:
        name = self._name_of_id.get(row["id"])
        if name is None:
            return row["enabled"]
        return row["date_changed"] != changed_at_of(self._schedule[name]) or row["name"] != name

    def _start_reconcile_pass(self, now: float, hurry: bool = False) -> None:
        self._reconcile_after_id = 0
        self._reconcile_ids = sorted(self._name_of_id)  # ours, to find those gone from the table
        self._reconcile_new_ids = set()
        self._reconcile_hurry = hurry
        self._next_reconcile_step = now if hurry else now + self._reconcile_spacing()

    def _reconcile_spacing(self) -> float:
        # Slices spread evenly: one pass over the table takes SCHEDULE_SYNC_MAX_INTERVAL.
        return SCHEDULE_SYNC_MAX_INTERVAL / max(1, math.ceil(len(self._name_of_id) / RECONCILE_SLICE_ROWS))

    def _reconcile_step(self, now: float) -> None:
        """Compare one slice of the table's enabled rows (id and change time) with the
        schedule, and put right what differs. A whole pass at once would hold up sends for
        most of a second at 100,000 rows; a slice takes a few milliseconds."""
        after_id = self._reconcile_after_id
        close_old_connections()
        stored = dict(
            PeriodicTask.objects.filter(enabled=True, pk__gt=after_id)
            .order_by("pk")
            .values_list("id", "date_changed")[:RECONCILE_SLICE_ROWS]
        )
        last_slice = len(stored) < RECONCILE_SLICE_ROWS
        up_to = float("inf") if last_slice else max(stored)
        ours = self._reconcile_ids
        in_slice = ours[bisect.bisect_right(ours, after_id) : bisect.bisect_right(ours, up_to)]
        in_slice += [model_id for model_id in self._reconcile_new_ids if after_id < model_id <= up_to]
        for model_id in in_slice:
            if model_id not in stored and model_id in self._name_of_id:
                self._remove(self._name_of_id[model_id])
        stale = [
            model_id
            for model_id, changed_at in stored.items()
            if model_id not in self._name_of_id
            or changed_at != changed_at_of(self._schedule[self._name_of_id[model_id]])
        ]
        if stale:
            self._apply_rows(self._read_rows(PeriodicTask.objects.filter(pk__any=stale)))
            logger.info("beat: %s schedule entries out of step, read again", len(stale))
        if last_slice:
            self._start_reconcile_pass(now)
            return
        self._reconcile_after_id = up_to
        self._next_reconcile_step = now if self._reconcile_hurry else now + self._reconcile_spacing()

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
                self._skipped_slots += slots_skipped(entry, slot)
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

    def reserve(self, entry, slot: datetime | None = None):
        # django-celery-beat hands the advanced entry to the heap only; the schedule keeps
        # the old one, and a heap rebuilt from it sends the same slot again. Keep both current.
        if isinstance(entry, IntervalEntry):
            now = timezone.now()
            new_entry = entry
            entry.advance_to(slot or slot_of(entry, now, self.outages.kept_since(now)))
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
                "beat: %s slots more than an interval old skipped (beat was away, or the broker for longer than"
                " BEAT_UNSENT_MAX_SECONDS); the watchdog records them as missed",
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
            if model_id is not None:
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
        slot = slot_of(entry, now, self.outages.kept_since(now))
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
        self._outbox.append((entry, slot, advance, requeue_at))

    def _bundles(self) -> dict[str, list[str]]:
        """The outbox as messages by queue: per region (and expiry), bundles of at most
        BUNDLE_MAX_CHECKS checks, in the order their slots fell due."""
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
