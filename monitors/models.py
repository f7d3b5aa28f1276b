"""Regions (each one a queue), the monitors people configure, and the maintenance windows
during which a monitor's failures page nobody."""

import secrets
from datetime import datetime, timedelta

from django.db import models
from django.db.models import Case, F, FloatField, Func, IntegerField, Q, Value, When
from django.db.models.functions import Lower, Mod


class Region(models.Model):
    """A vantage point. Its slug is the name of the Celery queue its workers consume."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


# The orders a monitor list can be given in, each also reversed with a leading "-".
MONITOR_ORDERINGS = ("id", "name", "status", "created_at", "last_checked_at")
# `status` orders worst first; unreachable (failing behind a parent that is down) just
# after down, since its parent's incident is the one to look at.
STATUS_SEVERITY = ("down", "unreachable", "degraded", "pending", "maintenance", "paused", "up")


class MonitorQuerySet(models.QuerySet):
    def owned_by(self, organization) -> "MonitorQuerySet":
        # Every read goes through here: another organization's monitor simply does not exist.
        return self.filter(organization=organization)

    def listed(
        self,
        *,
        status: str | None = None,
        region: Region | None = None,
        kind: str | None = None,
        is_active: bool | None = None,
        search: str = "",
        ordering: str = "id",
    ) -> "MonitorQuerySet":
        """The monitors a list shows: those matching every filter given (`search`: in the
        name or URL, ignoring case), in the `ordering` named (MONITOR_ORDERINGS), ties by id.

        No index of its own: a list is one owner's monitors (the owner index), few enough
        to scan for a search."""
        monitors = self
        if status is not None:
            monitors = monitors.filter(status=status)
        if region is not None:
            # One row per monitor: a monitor has a region at most once.
            monitors = monitors.filter(regions=region)
        if kind is not None:
            monitors = monitors.filter(kind=kind)
        if is_active is not None:
            monitors = monitors.filter(is_active=is_active)
        if search:
            monitors = monitors.filter(Q(name__icontains=search) | Q(url__icontains=search))
        descending, name = ordering.startswith("-"), ordering.lstrip("-")
        if name not in MONITOR_ORDERINGS:
            raise ValueError(f"{ordering} is not a monitor list ordering")
        expression = {
            "name": Lower("name"),
            "status": Case(
                *(When(status=value, then=Value(rank)) for rank, value in enumerate(STATUS_SEVERITY)),
                default=Value(len(STATUS_SEVERITY)),
                output_field=IntegerField(),
            ),
        }.get(name, F(name))
        order = expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
        return monitors.order_by(order, "-id" if descending else "id")


def new_badge_key() -> str:
    # In public badge URLs: unguessable, URL-safe as it stands, and 24 characters.
    return secrets.token_urlsafe(18)


class Monitor(models.Model):
    class Kind(models.TextChoices):
        HTTP = "http", "HTTP"
        TCP = "tcp", "TCP port"

    class Method(models.TextChoices):
        GET = "GET"
        HEAD = "HEAD"
        POST = "POST"

    class KeywordMode(models.TextChoices):
        PRESENT = "present"
        ABSENT = "absent"

    class Status(models.TextChoices):
        PENDING = "pending"
        UP = "up"
        # Some regions see it down, fewer than the quorum: worth showing, not paging.
        DEGRADED = "degraded"
        DOWN = "down"
        PAUSED = "paused"
        # The newest check's slot fell in a maintenance window: results are kept, nobody is paged.
        MAINTENANCE = "maintenance"
        # Failing while a parent monitor is down: no incident and no alert of its own, the
        # parent's incident lists it (checks/state/dependencies.py).
        UNREACHABLE = "unreachable"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="monitors")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=4, choices=Kind.choices, default=Kind.HTTP)
    # Not a URLField: a TCP monitor's target is tcp://host:port. validation.py has the rules.
    url = models.CharField(
        max_length=2000, help_text="http(s)://... for an HTTP monitor, tcp://host:port for a TCP monitor."
    )
    method = models.CharField(max_length=4, choices=Method.choices, default=Method.GET)
    interval_seconds = models.PositiveIntegerField(default=60)
    timeout_seconds = models.PositiveIntegerField(default=10)
    retries = models.PositiveSmallIntegerField(default=2)
    retry_interval_seconds = models.PositiveIntegerField(default=10)
    expected_status = models.CharField(
        max_length=200, default="200-399", help_text='Codes and ranges, e.g. "200-299,301,404".'
    )
    follow_redirects = models.BooleanField(
        default=True, help_text="Off: a redirect is not followed, its 3xx status is judged against the expected status."
    )
    request_headers = models.JSONField(default=dict, blank=True, help_text='Extra request headers, {"name": "value"}.')
    request_body = models.TextField(blank=True, help_text="Sent with POST requests.")
    request_content_type = models.CharField(max_length=100, blank=True, help_text="The request body's content type.")
    auth_username = models.CharField(max_length=200, blank=True, help_text="HTTP basic auth.")
    # Kept as given, since every check must send it; the API never returns it.
    auth_password = models.CharField(max_length=200, blank=True)
    keyword = models.CharField(max_length=200, blank=True, help_text="Text searched for in the response body.")
    keyword_mode = models.CharField(max_length=7, choices=KeywordMode.choices, default=KeywordMode.PRESENT)
    tls_expiry_warning_days = models.PositiveSmallIntegerField(
        default=14, help_text="Warn this many days before the TLS certificate expires; 0 turns the warning off."
    )
    # From the latest checks: the certificate's notAfter, and the one a warning went out for
    # (so each certificate is warned about once; a renewed one has a new date).
    tls_expires_at = models.DateTimeField(null=True, blank=True)
    tls_expiry_warned_for = models.DateTimeField(null=True, blank=True)
    regions = models.ManyToManyField(Region, related_name="monitors")
    quorum = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Regions that must see the site down for it to be down; empty means a majority.",
    )
    # Monitors this one depends on (a load balancer, a database host, a provider): while one
    # of them is down, this one failing is `unreachable` rather than down. Same owner, no
    # cycles, at most MAX_PARENTS and MAX_DEPENDENCY_DEPTH levels (monitors/validation.py).
    parents = models.ManyToManyField(
        "self",
        symmetrical=False,
        related_name="children",
        blank=True,
        help_text="Monitors it depends on: while one is down, its own failures are 'unreachable' and page nobody.",
    )
    failures_before_down = models.PositiveSmallIntegerField(
        default=1, help_text="Failing verdicts in a row (one per slot) before it is down."
    )
    successes_before_up = models.PositiveSmallIntegerField(
        default=1, help_text="Passing verdicts in a row (one per slot) before a down monitor is up again."
    )
    is_active = models.BooleanField(default=True)
    # Paused because its owner's account was deactivated: resumed when it is reactivated
    # (monitors/owners.py), unlike the monitors the owner had paused themselves.
    paused_with_owner = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    # The verdicts in a row that failed, or passed, counted once per slot up to the slot
    # `streak_slot` (checks/state/confirmations.py), kept by the outcome writer.
    failure_streak = models.PositiveSmallIntegerField(default=0)
    success_streak = models.PositiveSmallIntegerField(default=0)
    streak_slot = models.DateTimeField(null=True, blank=True)
    # Set while down is confirmed but a parent's verdict for the same moment is not known
    # yet: the check that failed first. The status waits (checks/state/dependencies.py).
    held_since = models.DateTimeField(null=True, blank=True)
    # When the current schedule began (created, resumed, regions or interval changed):
    # the watchdog expects no slot before it.
    checking_since = models.DateTimeField(null=True, blank=True)
    # Regions whose checks stopped arriving (an open Gap), kept by the watchdog.
    late_regions = models.JSONField(default=list, blank=True)
    # Names the monitor in its public badge URLs (web/badges.py) without giving its id away;
    # rotated by its owner (monitors.services.rotate_badge_key) when a URL should stop working.
    badge_key = models.CharField(max_length=32, unique=True, default=new_badge_key, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MonitorQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["organization", "id"], name="monitor_org"),
            # Workers read the monitors edited since their last look, every second.
            models.Index(fields=["updated_at"], name="monitor_updated_at"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # The admin's forms reach the same rules as the API through this one function.
        from django.core.exceptions import ValidationError

        from .validation import RULE_FIELDS, monitor_errors, stored_values

        # An edit is judged on what it changes (see monitor_errors): the admin can still
        # pause a monitor whose stored URL is refused now.
        errors = monitor_errors({name: getattr(self, name) for name in RULE_FIELDS}, stored_values(self.pk))
        if errors:
            raise ValidationError(errors)


WEEK = timedelta(days=7)


class EpochSeconds(Func):
    """PostgreSQL's EXTRACT(EPOCH FROM interval): an interval's length in seconds."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


class MaintenanceWindowQuerySet(models.QuerySet):
    def owned_by(self, organization) -> "MaintenanceWindowQuerySet":
        return self.filter(organization=organization)

    def covering(self, at: datetime) -> "MaintenanceWindowQuerySet":
        """Windows in force at `at`: a one-off window while it lasts; a weekly one from its
        first start on, whenever `at` is within its duration of a start a whole number of
        weeks later (the same rule as MaintenanceWindow.occurrence, in SQL)."""
        at_value = Value(at, output_field=models.DateTimeField())
        return self.alias(
            seconds_into_week=Mod(EpochSeconds(at_value - F("starts_at")), WEEK.total_seconds()),
            duration_seconds=EpochSeconds(F("ends_at") - F("starts_at")),
        ).filter(
            Q(recurrence=MaintenanceWindow.Recurrence.NONE, ends_at__gt=at)
            | Q(recurrence=MaintenanceWindow.Recurrence.WEEKLY, seconds_into_week__lt=F("duration_seconds")),
            starts_at__lte=at,
        )

    def not_over(self, at: datetime) -> "MaintenanceWindowQuerySet":
        """Windows in force at `at` or later: weekly ones never end."""
        return self.filter(Q(recurrence=MaintenanceWindow.Recurrence.WEEKLY) | Q(ends_at__gt=at))


class MaintenanceWindow(models.Model):
    """A stretch of time (once, or every week at the same UTC times) during which the
    monitors' checks go on and are recorded, but open no incident and page nobody."""

    class Recurrence(models.TextChoices):
        NONE = "none"
        WEEKLY = "weekly"

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="maintenance_windows"
    )
    name = models.CharField(max_length=200)
    monitors = models.ManyToManyField(Monitor, related_name="maintenance_windows")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    recurrence = models.CharField(max_length=10, choices=Recurrence.choices, default=Recurrence.NONE)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MaintenanceWindowQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["organization", "starts_at"], name="maintenance_org_start")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from .maintenance import window_errors

        errors = window_errors(self.starts_at, self.ends_at, self.recurrence)
        if errors:
            raise ValidationError(errors)

    def covers(self, at: datetime) -> bool:
        occurrence = self.occurrence(at)
        return occurrence is not None and occurrence[0] <= at < occurrence[1]

    def occurrence(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The (start, end) of the window's occurrence in force at `at`, or else of its next
        one; None once a one-off window is over."""
        duration = self.ends_at - self.starts_at
        if at < self.starts_at:
            return self.starts_at, self.ends_at
        if self.recurrence == self.Recurrence.NONE:
            return (self.starts_at, self.ends_at) if at < self.ends_at else None
        start = self.starts_at + WEEK * ((at - self.starts_at) // WEEK)
        if at >= start + duration:
            start += WEEK
        return start, start + duration
