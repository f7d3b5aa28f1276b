"""Celery tasks: thin wrappers that translate a message and call one domain function."""

from datetime import UTC, datetime

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from redis import RedisError

from checks.outcomes import partitions, retention, watchdog
from checks.state import impairments, maintenance
from checks.worker.run_checks import run_slot, run_slots
from monitors.scheduling import BUNDLE_TASK, CHECK_TASK

# The database or Redis being briefly away is our fault, not the site's: Celery retries
# the task rather than recording anything. The slot's unique tick keeps a repeat harmless.
# (A check needs the database only when its worker has not read the monitors yet.)
INFRASTRUCTURE_ERRORS = (OperationalError, InterfaceError, RedisError)
CHECK_TASK_OPTIONS = {
    "autoretry_for": INFRASTRUCTURE_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 30,
    "max_retries": 5,
    "ignore_result": True,
}


@shared_task(name=CHECK_TASK, **CHECK_TASK_OPTIONS)
def run_check(monitor_id: int, region: str, scheduled_at: str | None = None) -> str:
    """Check one monitor from one region for the slot stamped on the message (a new
    monitor's or "check now"'s first check); the outcome is spooled for the outcome
    writer to record."""
    checked = run_slot(monitor_id, region, _slot(scheduled_at))
    if checked is None:
        return "skipped"
    return "up" if checked.outcome.result.is_up else "down"


@shared_task(name=BUNDLE_TASK, **CHECK_TASK_OPTIONS)
def run_checks(region: str, slots: list[list]) -> dict:
    """Check a bundle of [monitor id, slot] pairs from one region, side by side: what beat
    sends, one message for the checks of a region that fell due together (see
    checks/beat/scheduler.py). Each outcome is spooled as run_check's is."""
    checked = run_slots(region, [(int(monitor_id), _slot(at)) for monitor_id, at in slots])
    return {
        "up": sum(1 for slot in checked if slot is not None and slot.outcome.result.is_up),
        "down": sum(1 for slot in checked if slot is not None and not slot.outcome.result.is_up),
        "skipped": sum(1 for slot in checked if slot is None),
    }


def _slot(scheduled_at: str | None) -> datetime:
    # A message without a slot (sent by hand) is a check of "now".
    slot = datetime.fromisoformat(scheduled_at) if scheduled_at else timezone.now()
    return timezone.make_aware(slot, UTC) if timezone.is_naive(slot) else slot


@shared_task(name="checks.prune_ticks", autoretry_for=INFRASTRUCTURE_ERRORS, max_retries=3, ignore_result=True)
def prune_ticks() -> int:
    """Remove ticks older than TICK_RETENTION_DAYS, and rollups older than theirs."""
    retention.prune_rollups(settings.ROLLUP_HOURLY_RETENTION_DAYS, settings.ROLLUP_DAILY_RETENTION_DAYS)
    return retention.prune_ticks(settings.TICK_RETENTION_DAYS)


@shared_task(
    name="checks.create_tick_partitions", autoretry_for=INFRASTRUCTURE_ERRORS, max_retries=3, ignore_result=True
)
def create_tick_partitions() -> list[str]:
    """Make the tick table's day partitions for today and the days ahead that are missing."""
    return partitions.ensure_partitions()


@shared_task(name="checks.watch_for_gaps", autoretry_for=INFRASTRUCTURE_ERRORS, max_retries=3, ignore_result=True)
def watch_for_gaps() -> dict:
    """Record the slots no check covered, and flag the monitors whose checks are late;
    open and close regions' impairments as their canaries say."""
    impaired = impairments.record_current_rounds()
    return {**watchdog.watch(), "impaired_regions": sorted(impaired)}


@shared_task(name="checks.enter_maintenance", autoretry_for=INFRASTRUCTURE_ERRORS, max_retries=3, ignore_result=True)
def enter_maintenance() -> int:
    """Move the monitors whose maintenance window has begun to maintenance."""
    return maintenance.enter_maintenance(timezone.now())
