"""What a status page's subscribers are sent: the confirmation request and each incident
update, as notifications' payloads (a title, a plain text, the facts for webhooks)."""

from django.conf import settings
from django.urls import reverse

from .models import IncidentUpdate, PageIncident, StatusPage, Subscriber

INCIDENT_UPDATE = "statuspage.incident.update"
SUBSCRIPTION_CONFIRM = "statuspage.subscription.confirm"
# The cached answers of a page (web/status_pages.py).
FORMS = ("html", "html-domain", "live", "live-domain", "json", "feed")


def absolute(path: str) -> str:
    return settings.PUBLIC_URL.rstrip("/") + path


def _path(name: str, argument: str) -> str:
    # The site's own addresses, even while a request on a page's domain has its own URLconf.
    return reverse(name, args=[argument], urlconf=settings.ROOT_URLCONF)


def page_link(page: StatusPage) -> str:
    return absolute(_path("web:status-page", page.slug))


def confirm_link(subscriber: Subscriber) -> str:
    return absolute(_path("web:status-confirm", subscriber.token))


def unsubscribe_link(subscriber: Subscriber) -> str:
    return absolute(_path("web:status-unsubscribe", subscriber.token))


def _utc(at) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _email_headers(subscriber: Subscriber) -> dict:
    if subscriber.kind != Subscriber.Kind.EMAIL:
        return {}
    # RFC 8058: a mail client's "unsubscribe" button POSTs to the link; nobody need open it.
    return {
        "List-Unsubscribe": f"<{unsubscribe_link(subscriber)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def update_payload(incident: PageIncident, update: IncidentUpdate, components: list[str], subscriber) -> dict:
    page = incident.page
    status = update.get_status_display()
    affected = f"Affected: {', '.join(components)}\n" if components else ""
    payload = {
        "title": f"[{page.title}] {incident.title}: {status}",
        "text": (
            f"{status} - {_utc(update.posted_at)}\n\n{update.message}\n\n{affected}"
            f"Status page: {page_link(page)}\n"
            f"Unsubscribe: {unsubscribe_link(subscriber)}\n"
        ),
        "page": {"slug": page.slug, "title": page.title, "url": page_link(page)},
        "incident": {
            "id": incident.pk,
            "title": incident.title,
            "status": incident.status,
            "started_at": incident.started_at.isoformat(),
            "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
            "components": components,
        },
        "update": {
            "id": update.pk,
            "status": update.status,
            "message": update.message,
            "posted_at": update.posted_at.isoformat(),
        },
        "unsubscribe_url": unsubscribe_link(subscriber),
    }
    if headers := _email_headers(subscriber):
        payload["email_headers"] = headers
    return payload


def confirmation_payload(subscriber: Subscriber) -> dict:
    page = subscriber.page
    payload = {
        "title": f"Confirm your subscription to {page.title}",
        "text": (
            f"Someone (we hope you) asked for updates on incidents of {page.title} ({page_link(page)}).\n\n"
            f"To confirm, open: {confirm_link(subscriber)}\n\n"
            "If it was not you, do nothing: you will get nothing more from us.\n"
        ),
        "page": {"slug": page.slug, "title": page.title, "url": page_link(page)},
        "confirm_url": confirm_link(subscriber),
        "unsubscribe_url": unsubscribe_link(subscriber),
    }
    if subscriber.kind == Subscriber.Kind.WEBHOOK:
        # As with an SNS subscription: the receiver's owner confirms by opening the link, and
        # learns the secret that signs every later body (X-Uptime-Signature).
        payload["signing_secret"] = subscriber.channel.secret
    return payload
