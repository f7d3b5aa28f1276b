"""Celery tasks of the notifications queue: thin wrappers over notifications.services."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services

# Our database being away is not the receiver's fault: Celery retries the task, and the
# delivery's claim keeps a repeat from sending twice.
INFRASTRUCTURE_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    name="notifications.deliver",
    autoretry_for=INFRASTRUCTURE_ERRORS,
    retry_backoff=2,
    retry_backoff_max=30,
    max_retries=5,
    ignore_result=True,
)
def deliver(delivery_id: int) -> str:
    """Make one delivery's due attempt (a no-op if it is not due or someone else has it)."""
    return services.deliver(delivery_id)


@shared_task(name="notifications.sweep", autoretry_for=INFRASTRUCTURE_ERRORS, max_retries=3, ignore_result=True)
def sweep() -> int:
    """Re-enqueue deliveries a crash or a lost message left behind."""
    return services.sweep_deliveries()


@shared_task(
    name="notifications.send_reminders", autoretry_for=INFRASTRUCTURE_ERRORS, max_retries=3, ignore_result=True
)
def send_reminders() -> int:
    """Remind channels of incidents that are still open."""
    return services.send_reminders()
