"""Beat's copy of the schedule in memory: the table read whole once, then only the rows
changed since the last look, with a slow pass that puts right anything that slipped by.
A heap keyed by due time is the only structure a tick touches."""

import bisect
import contextlib
import gc
import heapq
import logging
import math
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from celery.schedules import schedule as interval_schedule
from django.db import DatabaseError, close_old_connections
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks
from django_celery_beat.schedulers import SCHEDULE_SYNC_MAX_INTERVAL

from checks.beat.entries import ROW_FIELDS, IntervalEntry, changed_at_of, is_plain_interval, model_id_of
from checks.beat.last_runs import SAVE_WAIT_SECONDS, LastRunSaver

logger = logging.getLogger(__name__)

# How often beat asks whether the schedule changed (one indexed single-row query): an edit
# in the admin or the API reaches beat within this, plus the time to read the changed rows.
CHANGE_POLL_SECONDS = 0.25
# Rows changed this long before the newest change beat has seen are read again: a
# transaction stamps date_changed when it saves, but commits later.
CHANGE_OVERLAP_SECONDS = 30

# The periodic comparison of every row's id and change time with the schedule (for a change
# that slipped past the overlap) reads this many rows at a time, one slice per step, taking
# SCHEDULE_SYNC_MAX_INTERVAL over the whole table; after a deletion, a slice per tick.
RECONCILE_SLICE_ROWS = 2000


class ScheduleMirror:
    """The schedule half of SlotScheduler (checks/beat/scheduler.py), which holds the state
    these methods share."""

    # That state, for the type checker (SlotScheduler.__init__ sets it), and what celery's
    # untyped schedulers provide.
    app: Any
    Entry: Any
    _initial_read: bool
    _last_timestamp: datetime | None
    _schedule: dict[str, Any]  # None, django-celery-beat's default, until first read
    _heap: list[tuple[float, int, str]] | None
    _due: dict[str, float]
    _dirty: set[str]
    _name_of_id: dict[int, str]
    _intervals: dict[int, tuple[int, str]]
    _order: Iterator[int]
    _changed_up_to: datetime | None
    _next_change_poll: float
    _reconcile_after_id: float  # an id, compared with a slice's end (inf for the last)
    _reconcile_ids: list[int]
    _reconcile_new_ids: set[int]
    _reconcile_hurry: bool
    _next_reconcile_step: float
    _saver: LastRunSaver

    if TYPE_CHECKING:

        def install_default_entries(self, data: dict[str, Any]) -> None: ...
        def sync(self) -> None: ...
        def _is_due_failed(self, entry: Any) -> tuple[bool, float]: ...

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
        # objects on every full collection, each a pause of every send (docs/benchmarks.md,
        # "Measured costs behind the code").
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
        old_name = self._name_of_id.get(model_id) if model_id is not None else None
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
        if entry is not None and (model_id := model_id_of(entry)) is not None:
            self._name_of_id.pop(model_id, None)

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
        assert self._heap is not None  # pushed to only once the heap is built
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
        schedule, and put right what differs. A whole pass at once would hold up sends at
        100,000 rows; a slice is short enough to fit between them (docs/benchmarks.md,
        "Measured costs behind the code")."""
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
