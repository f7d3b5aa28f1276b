"""Moving a monitor's stored status, which is the truth: every change is written with a
StatusChange row, and opens or resolves the monitor's incident, in the same transaction."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from monitors.models import Monitor
from notifications.messages import INCIDENT_OPENED, INCIDENT_RESOLVED
from notifications.services import notify_incident

from .models import Incident, StatusChange, Tick
from .verdicts import DOWN, verdict

# A region's latest result counts only while this many intervals old at most: a region whose
# workers stopped, or results from before a pause, say nothing about the site now.
FRESH_INTERVALS = 3


def latest_results(monitor: Monitor, now: datetime) -> dict[str, Tick | None]:
    """Each of the monitor's regions' latest fresh tick (None where there is none)."""
    fresh_since = now - timedelta(seconds=FRESH_INTERVALS * monitor.interval_seconds)
    slugs = list(monitor.regions.values_list("slug", flat=True))
    latest = (
        Tick.objects.filter(monitor=monitor, region__slug__in=slugs, scheduled_at__gte=fresh_since)
        .select_related("region")
        .order_by("region_id", "-scheduled_at")
        .distinct("region_id")
    )
    found = {tick.region.slug: tick for tick in latest}
    return {slug: found.get(slug) for slug in slugs}


def apply_tick(monitor_id: int, tick: Tick) -> None:
    """Re-decide the monitor's status now that `tick` is recorded. Call inside the tick's
    transaction: the monitor row is locked, so regions finishing together decide in turn."""
    monitor = Monitor.objects.select_for_update().get(pk=monitor_id)
    if not monitor.is_active:
        return  # paused meanwhile: the tick is kept, the status stays paused
    latest = latest_results(monitor, timezone.now())
    down = {slug: t for slug, t in latest.items() if t and t.status == DOWN}
    if _newest_in_maintenance(latest):
        # No verdict during maintenance, so no incident: the first check after the window
        # judges the site again, and an outage still going on opens its incident then.
        new_status = Monitor.Status.MAINTENANCE
    else:
        new_status = verdict({slug: t.status if t else None for slug, t in latest.items()}, monitor.quorum)
    if monitor.last_checked_at is None or tick.checked_at > monitor.last_checked_at:
        monitor.last_checked_at = tick.checked_at
    if new_status != monitor.status:
        # Moving into maintenance resolves an open incident (its resolution: "maintenance").
        if new_status == Monitor.Status.MAINTENANCE:
            reason = "maintenance window"
        else:
            reason = min(down.values(), key=lambda t: t.checked_at).error if down else ""
        change_status(monitor, new_status, tick.checked_at, reason, sorted(down))
    elif new_status == DOWN:
        _widen_open_incident(monitor, sorted(down))
    Monitor.objects.filter(pk=monitor.pk).update(
        status=monitor.status, last_checked_at=monitor.last_checked_at, status_changed_at=monitor.status_changed_at
    )


def _newest_in_maintenance(latest: dict[str, Tick | None]) -> bool:
    """Whether the newest of the regions' latest results was checked in a maintenance window
    (the newest, so a slot from before a window, finishing late, does not end it)."""
    newest = max((t for t in latest.values() if t), key=lambda t: t.scheduled_at, default=None)
    return newest is not None and newest.in_maintenance


def change_status(monitor: Monitor, new_status: str, at: datetime, reason: str, down_regions: list[str]) -> None:
    """Record the move of `monitor` (locked by the caller) to `new_status`, and open or
    resolve its incident. Sets the fields on `monitor`; the caller saves them."""
    old_status = monitor.status
    if new_status == old_status:
        return
    StatusChange.objects.create(
        monitor=monitor,
        changed_at=at,
        from_status=old_status,
        to_status=new_status,
        reason=reason[:500],
        down_regions=down_regions,
    )
    if new_status == DOWN:
        incident = Incident.objects.create(
            monitor=monitor, started_at=at, first_error=reason[:500], regions=down_regions
        )
        notify_incident(incident, INCIDENT_OPENED)
    elif old_status == DOWN:
        incident = Incident.objects.filter(monitor=monitor, resolved_at__isnull=True).first()
        if incident is not None:
            incident.resolved_at, incident.resolution = at, new_status
            incident.save(update_fields=["resolved_at", "resolution"])
            notify_incident(incident, INCIDENT_RESOLVED)
    monitor.status = new_status
    monitor.status_changed_at = at


def _widen_open_incident(monitor: Monitor, down_regions: list[str]) -> None:
    incident = Incident.objects.filter(monitor=monitor, resolved_at__isnull=True).first()
    if incident is not None and not set(down_regions) <= set(incident.regions):
        incident.regions = sorted(set(incident.regions) | set(down_regions))
        incident.save(update_fields=["regions"])


@transaction.atomic
def set_active(monitor: Monitor, active: bool) -> None:
    """Pause (resolving an open incident) or resume (pending until checked) a monitor whose
    row the caller holds locked."""
    new_status = Monitor.Status.PENDING if active else Monitor.Status.PAUSED
    change_status(monitor, new_status, timezone.now(), "resumed" if active else "paused", [])
