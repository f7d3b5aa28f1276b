"""Monitor domain logic. The API, the admin and the shell all change monitors through here,
so a monitor and its schedule are always written together, in one transaction."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Organization
from accounts.organizations import monitor_quota
from checks.dispatch import dispatch_checks
from checks.state.transitions import set_active
from notifications.models import Channel

from .models import Monitor, Region, new_badge_key
from .request_validation import HTTP_ONLY_FIELDS
from .scheduling import drop_schedule, sync_schedule
from .validation import parent_errors

# Decided here rather than edited: the status on pause and resume (which start the count of
# verdicts in a row afresh), and when the schedule began.
STATUS_FIELDS = (
    "status",
    "status_changed_at",
    "checking_since",
    "failure_streak",
    "success_streak",
    "streak_slot",
    "held_since",
)
EDITABLE_FIELDS = (
    "name",
    "kind",
    "url",
    "interval_seconds",
    "timeout_seconds",
    "retries",
    "retry_interval_seconds",
    *HTTP_ONLY_FIELDS,
    "is_active",
    "quorum",
    "failures_before_down",
    "successes_before_up",
)


@transaction.atomic
def save_monitor(
    monitor: Monitor,
    regions: Iterable[Region] | None = None,
    channels: Iterable | None = None,
    parents: Iterable[Monitor] | None = None,
) -> Monitor:
    """Save a new or changed monitor (and its regions, alert channels and parent monitors,
    if given) and re-sync its schedule.

    A monitor that is new, or resumed, is checked at once rather than an interval later.
    A new monitor given no channels alerts its owner's default channels. Parents that break
    the dependency rules (monitors/validation.py parent_errors) raise ValidationError.
    """
    is_new = monitor.pk is None
    regions = list(regions) if regions is not None else None
    parents = list(parents) if parents is not None else None
    if parents is not None and (errors := parent_errors(monitor.pk, monitor.organization_id, parents)):
        raise ValidationError(errors)
    regions_changed = False
    if is_new:
        was_active = False
        monitor.status = Monitor.Status.PENDING if monitor.is_active else Monitor.Status.PAUSED
        monitor.checking_since = timezone.now()
    else:
        # Locked, so two concurrent edits, or an edit and a check, decide in turn.
        stored = (
            Monitor.objects.select_for_update().only("is_active", "interval_seconds", *STATUS_FIELDS).get(pk=monitor.pk)
        )
        was_active = stored.is_active
        # The writer's, which may have moved on since this instance was read.
        for name in STATUS_FIELDS:
            setattr(monitor, name, getattr(stored, name))
        if monitor.is_active != was_active:
            set_active(monitor, monitor.is_active)
        if monitor.is_active:
            monitor.paused_with_owner = False  # resumed, by whoever: no longer the owner's pause
        regions_changed = regions is not None and {r.pk for r in regions} != set(
            stored.regions.values_list("pk", flat=True)
        )
        if monitor.is_active != was_active or monitor.interval_seconds != stored.interval_seconds or regions_changed:
            # A new schedule: slots before now are not expected of it (the watchdog's view).
            monitor.checking_since = timezone.now()
    # Only what people edit, and the status decided here: the rest (last check) belongs to
    # the workers, which may have moved on since this instance was read.
    monitor.save(
        update_fields=None if is_new else [*EDITABLE_FIELDS, *STATUS_FIELDS, "paused_with_owner", "updated_at"]
    )
    if regions is not None:
        monitor.regions.set(regions)
    if channels is None and is_new:
        channels = Channel.objects.filter(organization=monitor.organization_id, is_default=True)
    if channels is not None:
        monitor.channels.set(channels)
    if parents is not None:
        monitor.parents.set(parents)
    sync_schedule(monitor)
    if monitor.is_active and (not was_active or regions_changed):
        dispatch_checks(monitor, timezone.now())
    return monitor


class MonitorQuotaExceeded(Exception):
    """The organization already has as many monitors as its quota allows."""


@transaction.atomic
def create_monitor(
    organization: Organization,
    regions: Iterable[Region],
    channels: Iterable | None = None,
    parents: Iterable[Monitor] | None = None,
    **fields,
) -> Monitor:
    """Create a monitor of `organization` alerting `channels`, or, when none are given, the
    organization's default channels, depending on `parents` (none if not given)."""
    reserve_quota(organization, 1)
    return save_monitor(Monitor(organization=organization, **fields), regions, channels, parents)


def reserve_quota(organization: Organization, adding: int) -> None:
    """Raise MonitorQuotaExceeded unless `organization` may have `adding` more monitors.
    Call inside the creating transaction: the organization's row stays locked until it
    ends, so two concurrent creates (by two members, say) cannot both fit the last place."""
    locked = Organization.objects.select_for_update().filter(pk=organization.pk).first()
    quota = monitor_quota(locked or organization)
    if not quota:
        return
    # Counted up to the quota, no further: the cost of a create stays bounded by the quota,
    # not by how many monitors the account holds (an unlimited account counts nothing).
    have = Monitor.objects.filter(organization=organization).order_by()[:quota].count()
    if have + adding <= quota:
        return
    if adding == 1 or have >= quota:
        raise MonitorQuotaExceeded(f"You have reached the limit of {quota} monitors.")
    raise MonitorQuotaExceeded(f"You have {have} monitors: {adding} more would pass the limit of {quota}.")


@transaction.atomic
def update_monitor(
    monitor: Monitor,
    regions: Iterable[Region] | None = None,
    channels: Iterable | None = None,
    parents: Iterable[Monitor] | None = None,
    **fields,
) -> Monitor:
    for name, value in fields.items():
        if name not in EDITABLE_FIELDS:
            raise ValueError(f"{name} is not an editable monitor field")
        setattr(monitor, name, value)
    return save_monitor(monitor, regions, channels, parents)


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


def rotate_badge_key(monitor: Monitor) -> Monitor:
    """Give the monitor a new badge key: badge URLs with the old one are 404 from now on
    (a CDN may still serve an old badge for its max-age, 60 s)."""
    monitor.badge_key = new_badge_key()
    # Not updated_at: workers re-read the monitors edited since their last look, and a badge
    # key changes nothing about a check.
    monitor.save(update_fields=["badge_key"])
    return monitor
