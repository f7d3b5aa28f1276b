"""Running one scheduled slot's check and recording it: the work behind the check task."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from monitors.maintenance import in_maintenance
from monitors.models import Monitor, Region

from . import rollups
from .certificates import record_certificate, warn_of_expiry
from .models import Tick
from .probe import CheckOutcome, ProbeTarget, check, parse_status_ranges
from .status import apply_tick

logger = logging.getLogger(__name__)


def probe_target(monitor: Monitor, region_slug: str = "") -> ProbeTarget:
    """What to check and how, from the monitor's settings. The User-Agent names the region,
    so a site's owner can tell our vantage points apart in their logs."""
    if monitor.kind == Monitor.Kind.TCP:
        return ProbeTarget(
            url=monitor.url, timeout_seconds=monitor.timeout_seconds, allow_private=settings.ALLOW_PRIVATE_TARGETS
        )
    return ProbeTarget(
        url=monitor.url,
        method=monitor.method,
        timeout_seconds=monitor.timeout_seconds,
        expected_status=parse_status_ranges(monitor.expected_status),
        max_redirects=settings.PROBE_MAX_REDIRECTS if monitor.follow_redirects else 0,
        max_body_bytes=settings.PROBE_MAX_BODY_BYTES,
        user_agent=f"{settings.PROBE_USER_AGENT} region/{region_slug}" if region_slug else settings.PROBE_USER_AGENT,
        headers=tuple(monitor.request_headers.items()),
        body=monitor.request_body.encode(),
        content_type=monitor.request_content_type,
        basic_auth=(monitor.auth_username, monitor.auth_password) if monitor.auth_username else None,
        keyword=monitor.keyword,
        keyword_absent=monitor.keyword_mode == Monitor.KeywordMode.ABSENT,
        ca_bundle=settings.PROBE_CA_BUNDLE,
        allow_private=settings.ALLOW_PRIVATE_TARGETS,
    )


def run_slot(monitor_id: int, region_slug: str, scheduled_at: datetime) -> Tick | None:
    """Check one monitor from one region for one slot, and record the tick.

    Returns None, checking nothing, when there is nothing to do: the monitor was deleted,
    paused or moved out of the region since the message was sent, or the slot already
    has its tick (a redelivered message).
    """
    monitor = Monitor.objects.filter(pk=monitor_id, is_active=True, regions__slug=region_slug).first()
    if monitor is None:
        logger.info("skipping monitor %s in %s: not active there any more", monitor_id, region_slug)
        return None
    region = Region.objects.get(slug=region_slug)
    if Tick.objects.filter(monitor=monitor, region=region, scheduled_at=scheduled_at).exists():
        logger.info("skipping monitor %s in %s at %s: already checked", monitor_id, region_slug, scheduled_at)
        return None
    # The next slot begins one interval after this one; retries must be over by then.
    deadline = (scheduled_at + timedelta(seconds=monitor.interval_seconds)).timestamp()
    outcome = check(probe_target(monitor, region_slug), monitor.retries, monitor.retry_interval_seconds, deadline)
    return record_tick(monitor, region, scheduled_at, outcome)


@transaction.atomic
def record_tick(monitor: Monitor, region: Region, scheduled_at: datetime, outcome: CheckOutcome) -> Tick | None:
    """Write the slot's tick and re-decide the monitor's status; None if the slot had one already.

    A slot inside one of the monitor's maintenance windows gives a tick marked so. The
    tick is counted into its rollups here, once: only by the call that wrote it.
    """
    result = outcome.result
    tick, created = Tick.objects.get_or_create(
        monitor=monitor,
        region=region,
        scheduled_at=scheduled_at,
        defaults={
            "status": Tick.Status.UP if result.is_up else Tick.Status.DOWN,
            "status_code": result.status_code,
            "response_time_ms": result.response_time_ms,
            "error": result.error[:500],
            "attempts": outcome.attempts,
            "checked_at": outcome.started_at,
            "in_maintenance": in_maintenance(monitor.pk, scheduled_at),
            "tls_expires_at": result.tls_expires_at,
        },
    )
    if not created:
        return None
    rollups.count_tick(tick)
    apply_tick(monitor.pk, tick)
    record_certificate(monitor, tick)
    warn_of_expiry(monitor, timezone.now())
    return tick


def prune_ticks(retention_days: int, batch_size: int = 10_000) -> int:
    """Delete ticks older than the retention period; return how many went.

    In batches, so a first run over months of ticks never holds one huge lock or
    transaction while workers keep writing.
    """
    cutoff = timezone.now() - timedelta(days=retention_days)
    total = 0
    while True:
        batch = list(Tick.objects.filter(scheduled_at__lt=cutoff).values_list("pk", flat=True)[:batch_size])
        if not batch:
            return total
        deleted, _ = Tick.objects.filter(pk__in=batch).delete()
        total += deleted
