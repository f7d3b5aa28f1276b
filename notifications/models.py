"""Where alerts go (channels), and each alert's delivery to one channel with every attempt."""

import secrets
import uuid

from django.db import models
from django.utils import timezone


def new_secret() -> str:
    return secrets.token_hex(32)


class ChannelQuerySet(models.QuerySet):
    def owned_by(self, organization) -> "ChannelQuerySet":
        """The organization's alert channels: a status page subscriber's channel is the
        visitor's, never listed, edited or put on a monitor by the page's owner."""
        return self.filter(organization=organization, audience=Channel.Audience.OWNER)


class Channel(models.Model):
    class Kind(models.TextChoices):
        WEBHOOK = "webhook"
        EMAIL = "email"
        SLACK = "slack"
        # Any service Apprise speaks (Telegram, Discord, Teams, ntfy, ...), one URL per target.
        APPRISE = "apprise"

    class Audience(models.TextChoices):
        OWNER = "owner"
        # A status page's subscriber (statuspages.Subscriber): told of the page's incidents.
        SUBSCRIBER = "subscriber"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="channels")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Webhook and Slack channels post here; email channels write to `email`.
    url = models.CharField(max_length=2000, blank=True)
    email = models.EmailField(blank=True)
    # An Apprise URL holds the service's tokens and passwords: written, never shown again.
    apprise_url = models.CharField("Apprise URL", max_length=2000, blank=True)
    # Signs webhook bodies (HMAC-SHA256); made here, never chosen by the user.
    secret = models.CharField(max_length=64, default=new_secret, editable=False)
    is_default = models.BooleanField(default=False, help_text="Put this channel on new monitors.")
    reminder_minutes = models.PositiveIntegerField(
        default=0, help_text="While a monitor stays down, remind this often; 0 sends no reminders."
    )
    monitors = models.ManyToManyField("monitors.Monitor", related_name="channels", blank=True)
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.OWNER, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["organization", "id"], name="channel_org")]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    @property
    def target(self) -> str:
        """Where alerts go, as it may be shown: an Apprise URL only by its scheme."""
        if self.kind == self.Kind.APPRISE:
            scheme, _, rest = self.apprise_url.partition("://")
            return f"{scheme}://…" if rest else ""
        return self.email if self.kind == self.Kind.EMAIL else self.url

    def clean(self) -> None:
        # The admin's form reaches the API's rules through this one function.
        from django.core.exceptions import ValidationError

        from .validation import channel_errors

        fields = ("kind", "url", "email", "apprise_url", "reminder_minutes")
        # An edit is judged on what it changes: a stored URL refused now can still be kept.
        stored = type(self).objects.filter(pk=self.pk).values(*fields).first() if self.pk else None
        errors = channel_errors({name: getattr(self, name) for name in fields}, stored)
        if errors:
            raise ValidationError(errors)


class Delivery(models.Model):
    """One alert for one channel. Written in the transaction of the event it tells of, so a
    process dying after the commit loses nothing: a pending row is sent sooner or later."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        # Every attempt failed: kept aside for a person to see and replay (notifications.dead_letter).
        DEAD = "dead"

    # Sent with every attempt (X-Uptime-Delivery, "delivery_id"): receivers dedupe on it.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    monitor = models.ForeignKey("monitors.Monitor", on_delete=models.SET_NULL, null=True, blank=True)
    incident = models.ForeignKey("checks.Incident", on_delete=models.SET_NULL, null=True, blank=True)
    event = models.CharField(max_length=50)
    # The message as it was when the event happened: title, text and the structured facts.
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # When a worker claimed it (status "sending"): a claim this old belongs to a dead worker.
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # A dead delivery replayed gets one new delivery; unique, so a second one cannot exist.
    replay_of = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replay", editable=False
    )
    replayed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["channel", "-created_at"], name="delivery_channel_recent"),
            # The sweeper's scan: only unfinished rows, a small part of the table.
            models.Index(
                fields=["status", "next_attempt_at"],
                name="delivery_unfinished",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
            # The dead letter: dead deliveries not replayed yet, counted by /metrics and health.
            models.Index(
                fields=["channel", "-finished_at"],
                name="delivery_dead_letter",
                condition=models.Q(status="dead", replayed_at__isnull=True),
            ),
            # Reminders look up the latest alert per incident and channel.
            models.Index(fields=["incident", "channel", "-created_at"], name="delivery_incident_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.channel_id}: {self.status}"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts_log")
    at = models.DateTimeField()
    ok = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"attempt of {self.delivery_id} at {self.at:%Y-%m-%d %H:%M:%S}: {'ok' if self.ok else 'failed'}"
