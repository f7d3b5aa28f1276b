"""What an alert says: a title, a plain text and the structured facts, built when the event
happens and stored with each delivery, so every attempt sends the same message."""

from datetime import datetime

from django.conf import settings
from django.urls import reverse

from checks.models import Incident
from monitors.models import Monitor

INCIDENT_OPENED = "incident.opened"
INCIDENT_RESOLVED = "incident.resolved"
INCIDENT_REMINDER = "incident.reminder"
CHANNEL_TEST = "channel.test"
# To the operator's channel (settings.OPERATOR_CHANNEL_ID): a region's own network failing
# and coming back (checks/state/impairments.py).
REGION_IMPAIRED = "region.impaired"
REGION_RECOVERED = "region.recovered"


def monitor_link(monitor: Monitor) -> str:
    """The monitor's page, which a person opens from an email or a chat message (the API's
    address would need a token)."""
    return settings.PUBLIC_URL.rstrip("/") + reverse("web:monitor", args=[monitor.pk])


def human_duration(seconds: float) -> str:
    """3725 -> "1 h 2 min"; 200 -> "3 min 20 s"; 45 -> "45 s". Rounded as the payloads'
    `duration_seconds` is, so a message never says 29 s where its data says 30."""
    seconds = round(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def _utc(at: datetime | None) -> str | None:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else None


def _monitor_facts(monitor: Monitor) -> dict:
    return {"id": monitor.pk, "name": monitor.name, "url": monitor.url, "link": monitor_link(monitor)}


def incident_payload(incident: Incident, event: str, now: datetime) -> dict:
    monitor = incident.monitor
    regions = ", ".join(incident.regions) or "-"
    # The monitors behind this one that fail with it, paging nobody themselves
    # ({"id", "name", "url"}): the status changes attach them to the incidents they open or
    # resolve (checks/state/dependencies.py); a reminder names none.
    children = getattr(incident, "unreachable_children", [])
    if event == INCIDENT_RESOLVED:
        duration = incident.duration_seconds or 0
        outcome = {
            "up": "is up again",
            "degraded": "is no longer down (some regions still fail)",
            "paused": "was paused while down",
            "maintenance": "went into a maintenance window while down",
        }.get(incident.resolution, f"is {incident.resolution}")
        title = f"{monitor.name} {outcome}"
        lead = f"{monitor.name} ({monitor.url}) {outcome} after {human_duration(duration)} down."
    else:
        duration = (now - incident.started_at).total_seconds()
        still = event == INCIDENT_REMINDER
        title = f"{monitor.name} is {'still ' if still else ''}DOWN"
        lead = f"{monitor.name} ({monitor.url}) is {'still ' if still else ''}DOWN"
        lead += f", for {human_duration(duration)} now." if still else "."
    text = "\n".join(
        [
            lead,
            f"Down since: {_utc(incident.started_at)}",
            f"Regions: {regions}",
            f"Error: {incident.first_error or '-'}",
            *([f"Unreachable behind it: {', '.join(child['name'] for child in children)}"] if children else []),
            f"Details: {monitor_link(monitor)}",
        ]
    )
    return {
        "event": event,
        "title": title,
        "text": text,
        "monitor": _monitor_facts(monitor),
        "incident": {
            "id": incident.pk,
            "started_at": incident.started_at.isoformat(),
            "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
            "resolution": incident.resolution or None,
            "duration_seconds": round(duration),
            "regions": list(incident.regions),
            "error": incident.first_error,
            "unreachable_children": children,
        },
    }


def monitor_event_payload(monitor: Monitor, event: str, context: dict) -> dict:
    """Any other event about a monitor: `context` may give a "title" and a "text"; all of it
    travels to webhooks under "context"."""
    title = context.get("title") or f"{monitor.name}: {event}"
    text = context.get("text") or title
    return {
        "event": event,
        "title": title,
        "text": f"{text}\nDetails: {monitor_link(monitor)}",
        "monitor": _monitor_facts(monitor),
        "incident": None,
        "context": context,
    }


def region_event_context(
    event: str, region: str, at: datetime, reached: int, of: int, why: str, started_at: datetime | None
) -> dict:
    """What the operator is told of a region becoming impaired (`why`: its canaries that
    failed) or, since `started_at`, recovering."""
    if event == REGION_IMPAIRED:
        title = f"Region {region} is impaired: its checks' failures are not counted"
        text = f"{title}. {why}."
    else:
        lasted = human_duration((at - started_at).total_seconds()) if started_at else "a while"
        title = f"Region {region} reaches its canaries again"
        text = f"{title}, after {lasted} impaired; its checks count again."
    facts = {"region": region, "at": at.isoformat(), "canaries_reached": reached, "canaries": of}
    return {"title": title, "text": text, **facts}


def operator_event_payload(event: str, context: dict) -> dict:
    """An event about the installation itself, not a monitor: `context` gives its "title"
    and "text"; all of it travels to webhooks under "context"."""
    return {
        "event": event,
        "title": context["title"],
        "text": f"{context['text']}\nHealth: {settings.PUBLIC_URL.rstrip('/')}{reverse('health')}",
        "monitor": None,
        "incident": None,
        "context": context,
    }


def channel_test_payload(channel_name: str) -> dict:
    title = "Test message from Uptime"
    return {
        "event": CHANNEL_TEST,
        "title": title,
        "text": f'This is a test of the channel "{channel_name}". Alerts for your monitors will arrive like this.',
        "monitor": None,
        "incident": None,
    }
