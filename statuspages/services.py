"""Status page logic: writing a page with its sections and components, the organization's incident
updates, and subscriptions (double opt-in, unsubscribe). What subscribers are sent goes out
as notifications' deliveries, one per subscriber, written in the update's transaction."""

from datetime import datetime

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from monitors.models import Monitor
from notifications.models import Channel, Delivery
from notifications.services import queue_messages

from . import messages
from .models import Component, IncidentUpdate, PageIncident, Section, StatusPage, Subscriber

PAGE_FIELDS = ("slug", "title", "description", "domain", "show_regions")
# How long a host name's page (or its having none) is remembered between requests.
DOMAIN_CACHE_SECONDS = 60
# However often a subscribe form is posted for one address, its confirmation goes out at
# most this often: the form cannot be used to flood someone's inbox.
CONFIRMATION_EVERY_SECONDS = 3600


def cache_key(slug: str, form: str) -> str:
    return f"statuspage:{slug}:{form}"


def forget_rendered(slug: str) -> None:
    """Drop the page's cached answers, so what its editors just wrote shows at once."""
    cache.delete_many([cache_key(slug, form) for form in messages.FORMS])


def _domain_key(host: str) -> str:
    return f"statuspage-domain:{host}"


def slug_for_domain(host: str) -> str | None:
    """The slug of the page answering on `host` (its own domain), or None: one cache read
    per request on another host than ours, a query once a minute."""
    key = _domain_key(host)
    slug = cache.get(key)
    if slug is None:
        slug = StatusPage.objects.filter(domain=host).values_list("slug", flat=True).first() or ""
        cache.set(key, slug, DOMAIN_CACHE_SECONDS)
    return slug or None


def _forget(slugs: set, domains: set) -> None:
    for slug in slugs - {""}:
        forget_rendered(slug)
    cache.delete_many([_domain_key(domain) for domain in domains if domain])


@transaction.atomic
def save_page(organization, page: StatusPage | None, fields: dict, sections: list[dict] | None = None) -> StatusPage:
    """Create or change a page; `sections` (if given) replace its sections and components.

    A component is kept (its id, its incidents' links to it) when its monitor stays on the
    page, wherever it moves: the monitor names the component, as a page shows a monitor once.
    """
    page = page or StatusPage(organization=organization)
    old_slug, old_domain = page.slug, page.domain
    for name, value in fields.items():
        if name not in PAGE_FIELDS:
            raise ValueError(f"{name} is not a status page field")
        setattr(page, name, value)
    page.save()
    if sections is not None:
        _set_sections(page, sections)
    transaction.on_commit(lambda: _forget({old_slug, page.slug}, {old_domain, page.domain}))
    return page


def delete_page(page: StatusPage) -> None:
    """The page, its incidents and its subscribers (their channels and deliveries too)."""
    slug, domain = page.slug, page.domain
    with transaction.atomic():
        Channel.objects.filter(subscriber__page=page).delete()
        page.delete()
        transaction.on_commit(lambda: _forget({slug}, {domain}))


def _set_sections(page: StatusPage, sections: list[dict]) -> None:
    existing = {component.monitor_id: component for component in Component.objects.filter(section__page=page)}
    stored = list(page.sections.all())
    placed: list[Component] = []
    for position, values in enumerate(sections):
        section = stored[position] if position < len(stored) else Section(page=page)
        section.name, section.position = values.get("name", ""), position
        section.save()
        for order, wanted in enumerate(values["components"]):
            monitor: Monitor = wanted["monitor"]
            component = existing.pop(monitor.pk, None) or Component(monitor=monitor)
            component.section, component.position = section, order
            component.name = wanted.get("name") or monitor.name
            placed.append(component)
    # Gone first: a kept component may move into a section whose old rows still hold others.
    Component.objects.filter(pk__in=[component.pk for component in existing.values()]).delete()
    for component in placed:
        component.save()
    Section.objects.filter(page=page, position__gte=len(sections)).delete()


@transaction.atomic
def open_incident(
    page: StatusPage, title: str, status: str, message: str, components=(), now: datetime | None = None
) -> PageIncident:
    """An incident the organization writes about, with its first update (subscribers are told)."""
    now = now or timezone.now()
    incident = PageIncident.objects.create(page=page, title=title, status=status, started_at=now)
    incident.components.set(components)
    post_update(incident, status, message, now)
    return incident


@transaction.atomic
def post_update(incident: PageIncident, status: str, message: str, now: datetime | None = None) -> IncidentUpdate:
    """A timed update of an incident: its status becomes the update's (resolved closes it,
    any other reopens it), and each confirmed subscriber is sent it once."""
    now = now or timezone.now()
    incident = PageIncident.objects.select_for_update().select_related("page").get(pk=incident.pk)
    update = IncidentUpdate.objects.create(incident=incident, status=status, message=message, posted_at=now)
    incident.status = status
    incident.resolved_at = now if status == PageIncident.Status.RESOLVED else None
    incident.save(update_fields=["status", "resolved_at"])
    subscribers = Subscriber.objects.filter(page=incident.page, confirmed_at__isnull=False).select_related("channel")
    components = list(incident.components.values_list("name", flat=True))
    queue_messages(
        [
            (subscriber.channel, messages.update_payload(incident, update, components, subscriber))
            for subscriber in subscribers
        ],
        messages.INCIDENT_UPDATE,
        now,
    )
    transaction.on_commit(lambda: forget_rendered(incident.page.slug))
    return update


def subscribe(page: StatusPage, kind: str, address: str, now: datetime | None = None) -> Subscriber:
    """Ask `address` to confirm a subscription to the page's incident updates. Asking again
    re-sends the request (at most every CONFIRMATION_EVERY_SECONDS); a confirmed subscriber
    stays as it is. The caller says the same to the visitor in every case, so the form tells
    nobody who is subscribed."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            channel = Channel.objects.create(
                organization=page.organization,
                name=f"Subscriber of {page.slug}"[:200],
                kind=kind,
                email=address if kind == Subscriber.Kind.EMAIL else "",
                url=address if kind == Subscriber.Kind.WEBHOOK else "",
                audience=Channel.Audience.SUBSCRIBER,
            )
            subscriber = Subscriber.objects.create(page=page, channel=channel, kind=kind, address=address)
            _ask_to_confirm(subscriber, now)
            return subscriber
    except IntegrityError:
        pass  # asked before (or just now, by a request racing this one)
    with transaction.atomic():
        subscriber = (
            Subscriber.objects.select_for_update()
            .select_related("channel", "page")
            .get(page=page, kind=kind, address=address)
        )
        if subscriber.confirmed_at is None:
            asked = Delivery.objects.filter(channel=subscriber.channel).aggregate(last=Max("created_at"))["last"]
            if asked is None or (now - asked).total_seconds() >= CONFIRMATION_EVERY_SECONDS:
                _ask_to_confirm(subscriber, now)
    return subscriber


def _ask_to_confirm(subscriber: Subscriber, now: datetime) -> None:
    payload = messages.confirmation_payload(subscriber)
    queue_messages([(subscriber.channel, payload)], messages.SUBSCRIPTION_CONFIRM, now)


def confirm(token: str, now: datetime | None = None) -> Subscriber | None:
    """Confirm the subscription the token belongs to (again is harmless); None if unknown."""
    subscriber = Subscriber.objects.select_related("page").filter(token=token).first()
    if subscriber is not None and subscriber.confirmed_at is None:
        subscriber.confirmed_at = now or timezone.now()
        Subscriber.objects.filter(pk=subscriber.pk, confirmed_at__isnull=True).update(
            confirmed_at=subscriber.confirmed_at
        )
    return subscriber


def unsubscribe(token: str) -> StatusPage | None:
    """End the subscription the token belongs to: its channel and everything queued for it
    go. Returns the page it was for, or None if the token is unknown (already used)."""
    subscriber = Subscriber.objects.select_related("page").filter(token=token).first()
    if subscriber is None:
        return None
    Channel.objects.filter(pk=subscriber.channel_id).delete()
    return subscriber.page
