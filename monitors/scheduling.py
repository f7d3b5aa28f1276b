"""Keep django-celery-beat's PeriodicTasks in step with monitors: one per (monitor, region).

Each task is routed to its region's queue and expires after one interval, so a message
that waited longer than that is dropped instead of storming the target late.
"""

import json

from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

from .models import Monitor

CHECK_TASK = "checks.run_check"
# What beat actually sends for them: the checks of one region due together, in one message.
BUNDLE_TASK = "checks.run_checks"


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
        task.interval = interval
        task.kwargs = json.dumps({"monitor_id": monitor.pk, "region": slug})
        task.queue = slug
        task.exchange = slug
        task.routing_key = slug
        task.expire_seconds = monitor.interval_seconds
        task.enabled = monitor.is_active
        if task.enabled and not was_enabled:
            # Resumed (or new): the check dispatched now is this slot; beat takes the next.
            task.last_run_at = now
        task.description = f"{monitor.name} ({monitor.url}) from {slug}"
        task.save()


def drop_schedule(monitor_id: int) -> None:
    """Remove every PeriodicTask of a monitor (used when it is deleted)."""
    deleted, _ = PeriodicTask.objects.filter(name__startswith=_task_name_prefix(monitor_id)).delete()
    if deleted:
        # A queryset delete sends no per-row signal: tell beat the schedule changed.
        PeriodicTasks.update_changed()
