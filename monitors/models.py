"""Regions (each one a queue) and the monitors people configure."""

from django.conf import settings
from django.db import models


class Region(models.Model):
    """A vantage point. Its slug is the name of the Celery queue its workers consume."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class MonitorQuerySet(models.QuerySet):
    def owned_by(self, user) -> "MonitorQuerySet":
        # Every API read goes through here: another user's monitor simply does not exist.
        return self.filter(owner=user) if user.is_authenticated else self.none()


class Monitor(models.Model):
    class Method(models.TextChoices):
        GET = "GET"
        HEAD = "HEAD"

    class Status(models.TextChoices):
        PENDING = "pending"
        UP = "up"
        # Some regions see it down, fewer than the quorum: worth showing, not paging.
        DEGRADED = "degraded"
        DOWN = "down"
        PAUSED = "paused"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="monitors")
    name = models.CharField(max_length=200)
    url = models.URLField(max_length=2000)
    method = models.CharField(max_length=4, choices=Method.choices, default=Method.GET)
    interval_seconds = models.PositiveIntegerField(default=60)
    timeout_seconds = models.PositiveIntegerField(default=10)
    retries = models.PositiveSmallIntegerField(default=2)
    retry_interval_seconds = models.PositiveIntegerField(default=10)
    expected_status = models.CharField(
        max_length=200, default="200-399", help_text='Codes and ranges, e.g. "200-299,301,404".'
    )
    regions = models.ManyToManyField(Region, related_name="monitors")
    quorum = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Regions that must see the site down for it to be down; empty means a majority.",
    )
    is_active = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    # When the current schedule began (created, resumed, regions or interval changed):
    # the watchdog expects no slot before it.
    checking_since = models.DateTimeField(null=True, blank=True)
    # Regions whose checks stopped arriving (an open Gap), kept by the watchdog.
    late_regions = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MonitorQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["owner", "id"])]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # The admin's forms reach the same rules as the API through this one function.
        from django.core.exceptions import ValidationError

        from .validation import monitor_errors

        errors = monitor_errors(
            {
                "url": self.url,
                "interval_seconds": self.interval_seconds,
                "timeout_seconds": self.timeout_seconds,
                "retries": self.retries,
                "retry_interval_seconds": self.retry_interval_seconds,
                "expected_status": self.expected_status,
            }
        )
        if errors:
            raise ValidationError(errors)
