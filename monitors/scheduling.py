"""Keep django-celery-beat's PeriodicTasks in step with monitors: one per (monitor, region).

Each task is routed to its region's queue and expires after one interval, so a message
that waited longer than that is dropped instead of storming the target late.
"""

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

from .copy_rows import assign_ids, copy_instances
from .models import Monitor

CHECK_TASK = "checks.run_check"
# What beat actually sends for them: the checks of one region due together, in one message.
BUNDLE_TASK = "checks.run_checks"
# What the last part of a bulk create (its COPY statements and the commit) takes, per
# monitor, with room to spare (docs/benchmarks.md, "Creating monitors in bulk"): its
# first slots start after that.
WRITE_SECONDS_PER_MONITOR = 0.0003


def task_name(monitor_id: int, region_slug: str) -> str:
    return f"check monitor {monitor_id} in {region_slug}"


def _task_name_prefix(monitor_id: int) -> str:
    return f"check monitor {monitor_id} in "


def _interval(seconds: int) -> IntervalSchedule:
    # IntervalSchedule has no unique constraint, so never .get(): duplicates may exist.
    schedule = IntervalSchedule.objects.filter(every=seconds, period=IntervalSchedule.SECONDS).order_by("id").first()
    return schedule or IntervalSchedule.objects.create(every=seconds, period=IntervalSchedule.SECONDS)


@transaction.atomic
def sync_schedule(monitor: Monitor) -> None:
    """Make the monitor's PeriodicTasks exactly one per region, matching its settings.

    A new task starts its clock now: the caller dispatches the first check itself, so the
    first scheduled one follows a whole interval later.
    """
    region_slugs = sorted(monitor.regions.values_list("slug", flat=True))
    existing = {
        task.name: task
        for task in PeriodicTask.objects.select_for_update().filter(name__startswith=_task_name_prefix(monitor.pk))
    }
    wanted = {task_name(monitor.pk, slug): slug for slug in region_slugs}
    interval = _interval(monitor.interval_seconds)
    now = timezone.now()

    for name, task in existing.items():
        if name not in wanted:
            task.delete()

    for name, slug in wanted.items():
        task = existing.get(name) or PeriodicTask(name=name, task=CHECK_TASK, last_run_at=now)
        was_enabled = task.pk is not None and task.enabled
        _set_check(task, monitor, slug, interval)
        if task.enabled and not was_enabled:
            # Resumed (or new): the check dispatched now is this slot; beat takes the next.
            task.last_run_at = now
        task.save()


def _set_check(task: PeriodicTask, monitor: Monitor, slug: str, interval: IntervalSchedule) -> None:
    """Give the task what the monitor's check in region `slug` needs (all but its last run)."""
    task.interval = interval
    task.kwargs = json.dumps({"monitor_id": monitor.pk, "region": slug})
    task.queue = slug
    task.exchange = slug
    task.routing_key = slug
    task.expire_seconds = monitor.interval_seconds
    task.enabled = monitor.is_active
    task.description = f"{monitor.name} ({monitor.url}) from {slug}"


def first_slots(monitors: Sequence[Monitor], start: datetime) -> list[datetime]:
    """Each monitor's first slot, in the order given: the monitors of each interval spread
    evenly over one interval from `start`, the first a short lead after it.

    A bulk create dispatches nothing at once: 10,000 checks sent together would be a burst
    at the targets, the broker and the workers, and, since beat keeps each entry on its own
    grid (checks/beat/slots.py), the same burst would come back at every interval. Spread
    here, every monitor is still checked within one interval, and the load stays flat.

    The lead: beat sees the rows only once the batch commits, and sends a slot already
    passed by then at once, late (slot_of). So no slot falls in the time the batch takes
    to write from `start` (WRITE_SECONDS_PER_MONITOR), nor in more than a third of an
    interval.
    """
    counts: dict[int, int] = defaultdict(int)
    for monitor in monitors:
        counts[monitor.interval_seconds] += 1
    write = WRITE_SECONDS_PER_MONITOR * len(monitors)
    ranks: dict[int, int] = defaultdict(int)
    slots = []
    for monitor in monitors:
        seconds = monitor.interval_seconds
        lead = min(write, seconds / 3)
        offset = lead + (seconds - lead) * ranks[seconds] / counts[seconds]
        slots.append(start + timedelta(seconds=offset))
        ranks[seconds] += 1
    return slots


def new_check_tasks(monitors: Sequence[Monitor], region_slugs: dict[int, list[str]]) -> dict[int, list[PeriodicTask]]:
    """The PeriodicTasks of monitors just created (`region_slugs`: each one's regions), by
    monitor id: the rows sync_schedule writes, given their ids but not yet their first
    slots nor written (save_new_check_tasks), so that the slots are chosen once the rest of
    the batch is ready, as close to its commit as can be."""
    intervals = {seconds: _interval(seconds) for seconds in {monitor.interval_seconds for monitor in monitors}}
    tasks: dict[int, list[PeriodicTask]] = {}
    for monitor in monitors:
        tasks[monitor.pk] = []
        for slug in sorted(region_slugs[monitor.pk]):
            task = PeriodicTask(name=task_name(monitor.pk, slug), task=CHECK_TASK, last_run_at=None)
            _set_check(task, monitor, slug, intervals[monitor.interval_seconds])
            tasks[monitor.pk].append(task)
    assign_ids(PeriodicTask, [task for its in tasks.values() for task in its])
    return tasks


def save_new_check_tasks(tasks: dict[int, list[PeriodicTask]], first: dict[int, datetime]) -> None:
    """Write new_check_tasks' tasks in one statement, each of an active monitor first due at
    the monitor's slot in `first` (the same in all its regions, so their verdicts are for
    the same slots); a paused one has no last run, as PeriodicTask.save leaves it.

    A bulk insert sends no signal: beat is told once, by PeriodicTasks.update_changed().
    """
    for monitor_id, its in tasks.items():
        for task in its:
            if task.enabled:
                # Beat's entry falls due at its last run plus its interval (checks/beat/entries.py).
                task.last_run_at = first[monitor_id] - timedelta(seconds=task.interval.every)
    copy_instances(PeriodicTask, [task for its in tasks.values() for task in its])
    PeriodicTasks.update_changed()


def drop_schedule(monitor_id: int) -> None:
    """Remove every PeriodicTask of a monitor (used when it is deleted)."""
    deleted, _ = PeriodicTask.objects.filter(name__startswith=_task_name_prefix(monitor_id)).delete()
    if deleted:
        # A queryset delete sends no per-row signal: tell beat the schedule changed.
        PeriodicTasks.update_changed()
