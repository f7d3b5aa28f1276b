"""Running one scheduled slot's check: the work behind the check task. Its outcome goes to
the spool (checks/spool.py); the outcome writer records it (checks/recording.py)."""

import logging
from datetime import datetime, timedelta

from django.utils import timezone
from redis import RedisError

from .directory import directory
from .models import Tick
from .probe import check
from .recording import record_outcomes
from .redis_client import client
from .spool import SlotOutcome, already_checked, spool

logger = logging.getLogger(__name__)

# How long a worker remembers that it checked a slot, in intervals: long enough for a
# redelivered message (it expires one interval after its send) to find the note.
REMEMBER_CHECKED_INTERVALS = 2


def run_slot(monitor_id: int, region_slug: str, scheduled_at: datetime) -> SlotOutcome | None:
    """Check one monitor from one region for one slot, and spool the outcome.

    Returns None, checking nothing, when there is nothing to do: the monitor was deleted,
    paused or moved out of the region since the message was sent, or the slot was
    checked already (a redelivered message).
    """
    assignment = directory.assignment(monitor_id, region_slug)
    if assignment is None:
        logger.info("skipping monitor %s in %s: not active there any more", monitor_id, region_slug)
        return None
    redis = client()
    if already_checked(redis, monitor_id, region_slug, scheduled_at):
        logger.info("skipping monitor %s in %s at %s: already checked", monitor_id, region_slug, scheduled_at)
        return None
    # The next slot begins one interval after this one; retries must be over by then.
    deadline = (scheduled_at + timedelta(seconds=assignment.interval_seconds)).timestamp()
    outcome = check(assignment.targets[region_slug], assignment.retries, assignment.retry_interval_seconds, deadline)
    slot = SlotOutcome(monitor_id, region_slug, scheduled_at, outcome)
    try:
        spool(redis, slot, remember_seconds=REMEMBER_CHECKED_INTERVALS * assignment.interval_seconds)
    except RedisError as exc:
        # Redis went away during the check: record it straight away instead of checking
        # again later (if PostgreSQL is away too, the task is retried).
        logger.warning("outcome of monitor %s in %s not spooled, recording it now: %s", monitor_id, region_slug, exc)
        record_outcomes([slot])
    return slot


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
