"""Monitor domain logic. The API, the admin and the shell all change monitors through here,
so a monitor and its schedule are always written together, in one transaction."""

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from checks.dispatch import dispatch_checks

from .models import Monitor, Region
from .scheduling import drop_schedule, sync_schedule

EDITABLE_FIELDS = (
    "name",
    "url",
    "method",
    "interval_seconds",
    "timeout_seconds",
    "retries",
    "retry_interval_seconds",
    "expected_status",
    "is_active",
)


@transaction.atomic
def save_monitor(monitor: Monitor, regions: Iterable[Region] | None = None) -> Monitor:
    """Save a new or changed monitor (and its regions, if given) and re-sync its schedule.

    A monitor that is new, or resumed, is checked at once rather than an interval later.
    """
    if monitor.pk is None:
        was_active = False
    else:
        # Locked, so two concurrent edits cannot both decide the monitor was paused.
        was_active = Monitor.objects.select_for_update().values_list("is_active", flat=True).get(pk=monitor.pk)
    if not monitor.is_active:
        monitor.status = Monitor.Status.PAUSED
    elif not was_active:
        monitor.status = Monitor.Status.PENDING
    monitor.save()
    if regions is not None:
        monitor.regions.set(regions)
    sync_schedule(monitor)
    if monitor.is_active and not was_active:
        dispatch_checks(monitor, timezone.now())
    return monitor


class MonitorQuotaExceeded(Exception):
    """The owner already has as many monitors as MONITOR_QUOTA_PER_USER allows."""


@transaction.atomic
def create_monitor(owner, regions: Iterable[Region], **fields) -> Monitor:
    quota = settings.MONITOR_QUOTA_PER_USER
    if quota:
        # The owner's row is locked so two concurrent creates cannot both fit the last place.
        type(owner).objects.select_for_update().filter(pk=owner.pk).first()
        if Monitor.objects.filter(owner=owner).count() >= quota:
            raise MonitorQuotaExceeded(f"You have reached the limit of {quota} monitors.")
    return save_monitor(Monitor(owner=owner, **fields), regions)


def update_monitor(monitor: Monitor, regions: Iterable[Region] | None = None, **fields) -> Monitor:
    for name, value in fields.items():
        if name not in EDITABLE_FIELDS:
            raise ValueError(f"{name} is not an editable monitor field")
        setattr(monitor, name, value)
    return save_monitor(monitor, regions)


def pause_monitor(monitor: Monitor) -> Monitor:
    return update_monitor(monitor, is_active=False)


def resume_monitor(monitor: Monitor) -> Monitor:
    return update_monitor(monitor, is_active=True)


@transaction.atomic
def delete_monitor(monitor: Monitor) -> None:
    drop_schedule(monitor.pk)
    monitor.delete()


def check_now(monitor: Monitor) -> list[str]:
    """Queue a check in every region of the monitor now; return the region slugs."""
    return dispatch_checks(monitor, timezone.now())
