"""Beat's entries: plain interval rows read without model instances (the fast path), and
the helpers that treat them and django-celery-beat's own entries alike."""

import functools
import json
from datetime import datetime

from celery.beat import ScheduleEntry
from celery.schedules import schedule as interval_schedule
from django.utils import timezone

from checks.beat.slots import slot_of
from monitors.scheduling import CHECK_TASK

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
    def bundle(self) -> tuple[str, str, float | None, int]:
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
        them every minute or so holds beat up (docs/benchmarks.md, "Measured costs behind
        the code")."""
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
        now = timezone.now()
        return self.sent_for(slot_of(self, now) or now)


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


def takes_fast_path(entry) -> bool:
    """A plain check entry (a monitor in a region): sent in a bundle. Anything else goes
    through celery's own send."""
    return isinstance(entry, IntervalEntry) and entry.is_plain_check
