"""Notification logic: deliveries written with the event, sent by one task each, retried
with backoff, swept up after crashes; reminders while an incident stays open.

Every step that could run twice (a redelivered message, two workers, a sweep racing a
send) goes through a conditional UPDATE, so an alert is sent once per attempt it is due.
"""

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from checks.models import Incident
from monitors.models import Monitor

from . import messages
from .models import Channel, Delivery, DeliveryAttempt, new_secret
from .transports import Message, TransportError, transport_for

logger = logging.getLogger(__name__)

MAX_EVENT_LENGTH = 50


# --- Writing deliveries ------------------------------------------------------------------


def queue_deliveries(
    channels: Iterable[Channel], event: str, payload: dict, monitor=None, incident=None, now=None
) -> list[Delivery]:
    """Write one pending delivery per channel in the caller's transaction; each is handed to
    a worker once it commits (a rollback sends nothing, a crash after it loses nothing)."""
    now = now or timezone.now()
    return write_deliveries([_pending(channel, event, payload, monitor, incident, now) for channel in channels])


def queue_messages(messages_to: Iterable[tuple[Channel, dict]], event: str, now=None) -> list[Delivery]:
    """queue_deliveries for a message per channel (a status page's subscribers each get
    their own unsubscribe link): one INSERT for all of them."""
    now = now or timezone.now()
    return write_deliveries([_pending(channel, event, payload, None, None, now) for channel, payload in messages_to])


def _pending(channel: Channel, event: str, payload: dict, monitor, incident, now: datetime) -> Delivery:
    return Delivery(
        channel=channel,
        monitor=monitor,
        incident=incident,
        event=event,
        payload=payload,
        next_attempt_at=now,
        created_at=now,
    )


def write_deliveries(deliveries: list[Delivery]) -> list[Delivery]:
    """INSERT the pending deliveries, each enqueued once the caller's transaction commits."""
    deliveries = Delivery.objects.bulk_create(deliveries)
    for delivery in deliveries:
        transaction.on_commit(partial(enqueue, delivery.pk))
    return deliveries


def enqueue(delivery_id: int, countdown: float = 0) -> None:
    from .tasks import deliver

    deliver.apply_async(args=[delivery_id], countdown=countdown or None, queue=settings.NOTIFICATIONS_QUEUE)


def notify_incidents(events: list[tuple[Incident, str]]) -> list[Delivery]:
    """Alert every channel of each incident's monitor that the incident opened or resolved
    (`events`: incident and event). Called by the status changes, inside their transaction,
    for a whole batch of them in three statements whatever its size: a provider that many
    monitors share going away moves them all in one of the outcome writer's batches."""
    monitor_ids = sorted({incident.monitor_id for incident, _ in events})
    if not monitor_ids:
        return []
    channels_of: dict[int, list[Channel]] = defaultdict(list)
    links = Channel.monitors.through.objects.filter(monitor__id__any=monitor_ids).select_related("channel")
    for link in links.order_by("channel_id"):
        channels_of[link.monitor_id].append(link.channel)
    if not channels_of:
        return []
    # What the messages name; the status writer holds only the fields deciding reads.
    monitors = Monitor.objects.filter(pk__any=list(channels_of)).only("id", "name", "url").in_bulk()
    now = timezone.now()
    deliveries = []
    for incident, event in events:
        monitor = monitors.get(incident.monitor_id)
        if monitor is None:
            continue
        incident.monitor = monitor
        payload = messages.incident_payload(incident, event, now)
        deliveries += [_pending(channel, event, payload, monitor, incident, now) for channel in channels_of[monitor.pk]]
    return write_deliveries(deliveries)


def notify_monitor(monitor: Monitor, event: str, context: dict) -> list[Delivery]:
    """Alert every channel of `monitor` of any other event ("certificate.expiring", ...).

    `context` must be JSON-serialisable; its "title" and "text", if given, make the message,
    and webhooks receive all of it under "context".
    """
    if not event or len(event) > MAX_EVENT_LENGTH:
        raise ValueError(f"an event is a name of 1 to {MAX_EVENT_LENGTH} characters")
    payload = messages.monitor_event_payload(monitor, event, context)
    return queue_deliveries(monitor.channels.all(), event, payload, monitor=monitor)


def notify_operators(event: str, context: dict) -> list[Delivery]:
    """Tell the operator's channel (settings.OPERATOR_CHANNEL_ID) of an event about the
    installation itself, in the caller's transaction; [] when none is set or it is gone."""
    channel_id = settings.OPERATOR_CHANNEL_ID
    channel = Channel.objects.filter(pk=channel_id).first() if channel_id else None
    if channel is None:
        return []
    return queue_deliveries([channel], event, messages.operator_event_payload(event, context))


def send_test(channel: Channel) -> Delivery:
    """A test message to one channel, through the same delivery path as real alerts."""
    with transaction.atomic():
        (delivery,) = queue_deliveries([channel], messages.CHANNEL_TEST, messages.channel_test_payload(channel.name))
    return delivery


# --- Sending -----------------------------------------------------------------------------


def retry_delay_seconds(attempts: int) -> float:
    """Exponential backoff after the n-th failed attempt: base, 2 x base, 4 x base, ..."""
    return min(settings.NOTIFY_RETRY_BASE_SECONDS * 2 ** (attempts - 1), settings.NOTIFY_RETRY_MAX_SECONDS)


def max_countdown_seconds() -> float:
    # The Redis transport redelivers a message unacknowledged for the visibility timeout,
    # and a worker holds a message with a countdown unacknowledged until it runs: a longer
    # countdown would run the task twice. Longer waits are made of several shorter hops.
    return settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] / 2


def deliver(delivery_id: int) -> str:
    """Make the delivery's next attempt, if it is due and nobody else is making it.
    Returns what happened: "sent", "retry", "dead", "waiting" or "skipped"."""
    now = timezone.now()
    claimed = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now).update(
        status=Delivery.Status.SENDING, claimed_at=now
    )
    if not claimed:
        return _not_claimed(delivery_id, now)
    delivery = Delivery.objects.select_related("channel").filter(pk=delivery_id).first()
    if delivery is None:
        return "skipped"  # its channel was deleted meanwhile
    message = Message(
        delivery_id=str(delivery.uid),
        event=delivery.event,
        title=delivery.payload.get("title", delivery.event),
        text=delivery.payload.get("text", ""),
        payload=delivery.payload,
    )
    started = time.monotonic()
    try:
        status_code = transport_for(delivery.channel).send(message)
        ok, error = True, ""
    except TransportError as exc:
        ok, error, status_code = False, str(exc), exc.status_code
    except Exception as exc:
        # A fault of ours, not the receiver's: still an attempt, logged, and retried like one,
        # rather than a claim left for the sweeper to find.
        logger.exception("delivery %s: the transport raised", delivery_id)
        ok, error, status_code = False, f"internal error: {type(exc).__name__}: {exc}", None
    duration_ms = round((time.monotonic() - started) * 1000)
    return _record_attempt(delivery, now, ok, status_code, error, duration_ms)


def _not_claimed(delivery_id: int, now: datetime) -> str:
    delivery = Delivery.objects.filter(pk=delivery_id).only("status", "next_attempt_at").first()
    if delivery is not None and delivery.status == Delivery.Status.PENDING and delivery.next_attempt_at > now:
        # An early hop of a long backoff: wait on for the rest of it.
        remaining = (delivery.next_attempt_at - now).total_seconds()
        enqueue(delivery_id, min(remaining, max_countdown_seconds()))
        return "waiting"
    # Sent, dead, or being sent by another worker: a duplicate message does nothing.
    return "skipped"


@transaction.atomic
def _record_attempt(
    delivery: Delivery, claimed_at: datetime, ok: bool, status_code: int | None, error: str, duration_ms: int
) -> str:
    now = timezone.now()
    DeliveryAttempt.objects.create(
        delivery=delivery, at=claimed_at, ok=ok, status_code=status_code, error=error[:500], duration_ms=duration_ms
    )
    return _finish_attempt(delivery, delivery.attempts + 1, ok, error, now, claimed_at=claimed_at)


def _finish_attempt(
    delivery: Delivery, attempts: int, ok: bool, error: str, now: datetime, claimed_at: datetime
) -> str:
    """Move a claimed delivery on after an attempt: sent, dead (every attempt made and
    failed: the dead letter), or pending again."""
    fields: dict = {"attempts": attempts, "claimed_at": None, "last_error": error[:500]}
    if ok:
        outcome = "sent"
        fields.update(status=Delivery.Status.SENT, finished_at=now)
    elif attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        outcome = "dead"
        fields.update(status=Delivery.Status.DEAD, finished_at=now)
    else:
        outcome = "retry"
        delay = retry_delay_seconds(attempts)
        fields.update(status=Delivery.Status.PENDING, next_attempt_at=now + timedelta(seconds=delay))
    # Only our own claim: if the sweeper took the delivery back meanwhile, its decision stands.
    moved = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING, claimed_at=claimed_at).update(
        **fields
    )
    if moved and outcome == "retry":
        transaction.on_commit(partial(enqueue, delivery.pk, min(delay, max_countdown_seconds())))
    if not ok:
        logger.warning(
            "delivery %s to channel %s failed (attempt %s): %s", delivery.pk, delivery.channel_id, attempts, error
        )
    return outcome


# --- Crash safety and reminders (periodic, on the notifications queue) -------------------


def sweep_deliveries(now: datetime | None = None) -> int:
    """Hand back what a crash left behind; return how many deliveries were re-enqueued.

    - A delivery claimed longer ago than any send can take belongs to a worker that died
      mid-send: the attempt is logged as interrupted and retried (the receiver may have got
      it; the delivery id lets it drop the repeat).
    - A pending delivery due a while ago has lost its message (the broker lost it, or the
      process died between commit and enqueue): it is enqueued again. A message that was
      only slow makes a duplicate, which the claim turns into a no-op.
    """
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.NOTIFY_TIMEOUT_SECONDS * 3 + 60)
    with transaction.atomic():
        stale = Delivery.objects.select_for_update(skip_locked=True).filter(
            status=Delivery.Status.SENDING, claimed_at__lt=stale_before
        )[:1000]
        for delivery in stale:
            assert delivery.claimed_at is not None  # filtered on it
            error = "interrupted: the worker stopped during the attempt"
            DeliveryAttempt.objects.create(
                delivery=delivery, at=delivery.claimed_at, ok=False, error=error, duration_ms=0
            )
            _finish_attempt(delivery, delivery.attempts + 1, False, error, now, claimed_at=delivery.claimed_at)
    due_before = now - timedelta(seconds=settings.NOTIFY_SWEEP_GRACE_SECONDS)
    lost = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=due_before)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:1000]
    )
    for delivery_id in lost:
        enqueue(delivery_id)
    return len(lost)


def send_reminders(now: datetime | None = None) -> int:
    """For each open incident, remind each of its monitor's channels that asks for it, once
    `reminder_minutes` have passed since that channel's last alert of the incident. A
    reminder run that was late sends one, never a backlog. Returns how many were queued."""
    now = now or timezone.now()
    sent = 0
    open_incidents = (
        Incident.objects.filter(resolved_at__isnull=True, monitor__channels__reminder_minutes__gt=0)
        .values_list("pk", "monitor_id")
        .distinct()
    )
    for incident_id, monitor_id in open_incidents:
        with transaction.atomic():
            # The monitor's row first, as the check path locks it: then the incident cannot
            # resolve under us, and two reminder runs decide in turn.
            Monitor.objects.select_for_update().filter(pk=monitor_id).first()
            incident = (
                Incident.objects.select_related("monitor").filter(pk=incident_id, resolved_at__isnull=True).first()
            )
            if incident is None:
                continue
            due = []
            for channel in incident.monitor.channels.filter(reminder_minutes__gt=0):
                last = Delivery.objects.filter(
                    incident=incident, channel=channel, event__in=[messages.INCIDENT_OPENED, messages.INCIDENT_REMINDER]
                ).aggregate(last=Max("created_at"))["last"]
                if (last or incident.started_at) <= now - timedelta(minutes=channel.reminder_minutes):
                    due.append(channel)
            if due:
                payload = messages.incident_payload(incident, messages.INCIDENT_REMINDER, now)
                sent += len(
                    queue_deliveries(
                        due, messages.INCIDENT_REMINDER, payload, monitor=incident.monitor, incident=incident, now=now
                    )
                )
    return sent


def rotate_secret(channel: Channel) -> Channel:
    """Give the channel a new signing secret; the old one signs nothing from now on."""
    channel.secret = new_secret()
    channel.save(update_fields=["secret", "updated_at"])
    return channel
