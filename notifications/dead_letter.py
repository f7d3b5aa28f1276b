"""The dead letter: deliveries whose every attempt failed, kept for a person to see and to
replay once, as one more delivery of the same message.

A replay marks the dead delivery replayed with a conditional UPDATE and writes the new
delivery in the same transaction: two replays of one dead delivery at once (two admins,
a double click) make one new delivery, since the second UPDATE waits for the first to
commit and then matches nothing. `Delivery.replay_of` is unique besides. A delivery that
was sent is never dead, so never replayed.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from .models import Channel, Delivery
from .services import write_deliveries

# The health report says "degraded" when deliveries to at least this many owners' channels
# died within this long and wait unreplayed. One receiver that is down is its owner's
# matter (its dead letter shows it); several at once point at our side: the mail server,
# the way out to the internet, a bad release. Status pages' subscribers are left out: their
# addresses are visitors' and some are bound to be dead.
DEGRADED_CHANNELS = 3
DEGRADED_WITHIN = timedelta(hours=1)


NOT_DEAD = "Only a dead delivery not replayed yet can be replayed."


def unreplayed() -> QuerySet[Delivery]:
    """Dead deliveries nobody has replayed yet: the dead letter itself."""
    return Delivery.objects.filter(status=Delivery.Status.DEAD, replayed_at__isnull=True)


def replay(delivery: Delivery, now: datetime | None = None) -> Delivery | None:
    """Queue the dead delivery's message once more, as a new pending delivery linked to it;
    None if it is not dead or was replayed already."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = unreplayed().filter(pk=delivery.pk).update(replayed_at=now)
        if not claimed:
            return None
        (new,) = write_deliveries(
            [
                Delivery(
                    channel_id=delivery.channel_id,
                    monitor_id=delivery.monitor_id,
                    incident_id=delivery.incident_id,
                    event=delivery.event,
                    payload=delivery.payload,
                    next_attempt_at=now,
                    created_at=now,
                    replay_of=delivery,
                )
            ]
        )
    return new


def replay_channel(channel: Channel, now: datetime | None = None) -> list[Delivery]:
    """Replay every unreplayed dead delivery of the channel, oldest first; each one once."""
    now = now or timezone.now()
    replays = []
    for delivery in unreplayed().filter(channel=channel).order_by("created_at", "id"):
        new = replay(delivery, now)
        if new is not None:
            replays.append(new)
    return replays


def dead_counts() -> dict[str, int]:
    """Unreplayed dead deliveries per channel audience (owner, subscriber)."""
    rows = unreplayed().values_list("channel__audience").annotate(n=Count("id"))
    counts = dict.fromkeys(Channel.Audience.values, 0)
    counts.update(rows)
    return counts


def dead_letter_health(now: datetime | None = None) -> dict:
    """The health report's part: owners' channels' unreplayed dead deliveries, and whether
    enough channels lost alerts lately to call the system degraded."""
    now = now or timezone.now()
    owners = unreplayed().filter(channel__audience=Channel.Audience.OWNER)
    recent = owners.filter(finished_at__gte=now - DEGRADED_WITHIN).values("channel").distinct().count()
    return {"dead": owners.count(), "channels_dead_last_hour": recent, "degraded": recent >= DEGRADED_CHANNELS}
