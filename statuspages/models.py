"""A status page: the monitors a user shows the public (components in named sections), the
incidents the owner writes about with timed updates, and the page's subscribers with each
notice sent to them."""

import secrets

from django.db import models
from django.utils import timezone


def new_token() -> str:
    # In confirm and unsubscribe links: unguessable, and URL-safe as it stands.
    return secrets.token_urlsafe(32)


class StatusPageQuerySet(models.QuerySet):
    def owned_by(self, organization) -> "StatusPageQuerySet":
        return self.filter(organization=organization)


class StatusPage(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="status_pages")
    # /status/<slug>/: one namespace for every user's pages, so slugs are unique overall.
    slug = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=2000)
    # A host name the page also answers on at its root (the Host header mapped to the page).
    domain = models.CharField(max_length=253, unique=True, null=True, blank=True)
    # Region names are ours, not the visitors': shown only when the owner says so.
    show_regions = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StatusPageQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["organization", "id"], name="statuspage_org")]

    def __str__(self) -> str:
        return f"{self.title} (/status/{self.slug}/)"


class Section(models.Model):
    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="sections")
    name = models.CharField(max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["page", "position", "id"]

    def __str__(self) -> str:
        return self.name or f"section {self.position + 1}"


class Component(models.Model):
    """One monitor as a page shows it: under a name of the owner's choosing, never its URL."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="components")
    monitor = models.ForeignKey("monitors.Monitor", on_delete=models.CASCADE, related_name="status_components")
    name = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["section__position", "section_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["section", "monitor"], name="component_monitor_once")]

    def __str__(self) -> str:
        return self.name


class PageIncident(models.Model):
    """What the owner tells visitors about a problem, in timed updates. Outages the checks
    see are shown on the page as they happen, whether or not one is written."""

    class Status(models.TextChoices):
        INVESTIGATING = "investigating"
        IDENTIFIED = "identified"
        MONITORING = "monitoring"
        RESOLVED = "resolved"

    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="incidents")
    title = models.CharField(max_length=200)
    components = models.ManyToManyField(Component, related_name="incidents", blank=True)
    # The latest update's status, kept with it so a page lists its open incidents by index.
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.INVESTIGATING)
    started_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["page", "-started_at"], name="pageincident_page_recent")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class IncidentUpdate(models.Model):
    incident = models.ForeignKey(PageIncident, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=20, choices=PageIncident.Status.choices)
    message = models.TextField(max_length=5000)
    posted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-posted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.status} at {self.posted_at:%Y-%m-%d %H:%M}"


class Subscriber(models.Model):
    """A visitor told of the page's incident updates, by email or by a webhook. Nothing but
    the confirmation request is sent until the address's owner confirms (double opt-in).

    Each subscriber is sent to through a channel of its own (audience "subscriber", never
    listed among the owner's), so its messages take the alerts' path: a delivery written
    with the update, claimed, retried with backoff, swept up after a crash, every attempt
    logged."""

    class Kind(models.TextChoices):
        EMAIL = "email"
        WEBHOOK = "webhook"

    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="subscribers")
    channel = models.OneToOneField("notifications.Channel", on_delete=models.CASCADE, related_name="subscriber")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The email address or the webhook's URL, as the channel holds it.
    address = models.CharField(max_length=2000)
    # In the confirm and unsubscribe links: the one thing that proves who asked.
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["page", "kind", "address"], name="subscriber_once_per_page")]

    def __str__(self) -> str:
        return self.address
