"""Ticks (the result of checking one monitor from one region for one scheduled slot), the
monitor's status changes, and its incidents."""

from datetime import datetime

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex
from django.db import models


class Tick(models.Model):
    # Stored in day partitions by `scheduled_at` (checks/outcomes/partitions.py, made by
    # migration 0008). In the database the primary key is (id, scheduled_at), as
    # PostgreSQL requires of a partitioned table; ids come from one sequence, so `id`
    # alone is unique and Django keys on it.
    class Status(models.TextChoices):
        UP = "up"
        DOWN = "down"

    # No index of their own (8 bytes a tick each): tick_one_per_slot starts with the
    # monitor, and nothing reads ticks by region alone (deleting a region scans).
    monitor = models.ForeignKey("monitors.Monitor", on_delete=models.CASCADE, related_name="ticks", db_index=False)
    region = models.ForeignKey("monitors.Region", on_delete=models.PROTECT, related_name="ticks", db_index=False)
    status = models.CharField(max_length=4, choices=Status.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_time_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    tls_expires_at = models.DateTimeField(null=True, blank=True, help_text="The TLS certificate's notAfter.")
    scheduled_at = models.DateTimeField(help_text="The slot this tick checks, as beat scheduled it.")
    checked_at = models.DateTimeField(help_text="When the first request of the check began.")
    in_maintenance = models.BooleanField(
        default=False, help_text="The slot fell in one of the monitor's maintenance windows."
    )

    class Meta:
        ordering = ["-scheduled_at", "-id"]
        constraints = [
            # One slot of one monitor in one region gives at most one tick, whatever the
            # broker redelivers. Monitor, then slot: the same index serves a monitor's latest
            # ticks and its ticks in a time window (newest first, all regions), and a
            # monitor-region's latest (a few more entries walked per region); one index
            # instead of two saves a third of a tick's index bytes (docs/benchmarks.md).
            models.UniqueConstraint(fields=["monitor", "scheduled_at", "region"], name="tick_one_per_slot"),
        ]
        indexes = [
            # Recent ticks within a day's partition (the metrics' last 5 minutes) and old ones
            # in the default partition; ticks arrive in time order, so a BRIN index is tiny.
            BrinIndex(fields=["scheduled_at"], name="tick_scheduled_brin"),
        ]

    def __str__(self) -> str:
        return f"{self.monitor_id} {self.region_id} {self.scheduled_at:%Y-%m-%d %H:%M:%S} {self.status}"


class StatusChange(models.Model):
    """One change of a monitor's status, written in the same transaction as the change.

    "How long has it been down" and "how often does it flap" are answered from these rows.
    """

    monitor = models.ForeignKey("monitors.Monitor", on_delete=models.CASCADE, related_name="status_changes")
    changed_at = models.DateTimeField()
    from_status = models.CharField(max_length=20)
    to_status = models.CharField(max_length=20)
    reason = models.CharField(max_length=500, blank=True)
    # The regions whose latest result was down when the status changed.
    down_regions = models.JSONField(default=list)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["monitor", "-changed_at"], name="statuschange_monitor_recent")]

    def __str__(self) -> str:
        return f"{self.monitor_id}: {self.from_status} -> {self.to_status} at {self.changed_at:%Y-%m-%d %H:%M:%S}"


class Incident(models.Model):
    """A stretch of time a monitor was down: opened when it becomes down, resolved when it
    no longer is."""

    monitor = models.ForeignKey("monitors.Monitor", on_delete=models.CASCADE, related_name="incidents")
    started_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    first_error = models.CharField(max_length=500, blank=True)
    # Every region that saw the site down while the incident was open.
    regions = models.JSONField(default=list)
    # What ended it: the status the monitor moved to ("up", "degraded", "paused", "maintenance").
    resolution = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # Repeated down results while one is open never open a second.
            models.UniqueConstraint(
                fields=["monitor"], condition=models.Q(resolved_at__isnull=True), name="incident_one_open_per_monitor"
            ),
        ]
        indexes = [models.Index(fields=["monitor", "-started_at"], name="incident_monitor_recent")]

    def __str__(self) -> str:
        return f"incident {self.pk} of monitor {self.monitor_id} from {self.started_at:%Y-%m-%d %H:%M:%S}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def duration_seconds(self) -> float | None:
        if self.resolved_at is None:
            return None
        return (self.resolved_at - self.started_at).total_seconds()

    def duration_at(self, now: datetime) -> float:
        """Seconds down: the whole stretch once resolved, so far while open."""
        return ((self.resolved_at or now) - self.started_at).total_seconds()


class Gap(models.Model):
    """A run of slots of one monitor in one region that no check covered: beat, the region's
    workers or the broker were away. Recorded so a gap never reads as uptime.

    Open (ends_at null) while the slots keep being missed; closed at the first tick after
    it, or when the monitor stops being checked there.
    """

    monitor = models.ForeignKey("monitors.Monitor", on_delete=models.CASCADE, related_name="gaps")
    region = models.ForeignKey("monitors.Region", on_delete=models.CASCADE, related_name="gaps")
    # The first slot that was due and never checked.
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    slots_missed = models.PositiveIntegerField()
    detected_at = models.DateTimeField()

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["monitor", "region"], condition=models.Q(ends_at__isnull=True), name="gap_one_open_per_region"
            ),
        ]
        indexes = [models.Index(fields=["monitor", "-starts_at"], name="gap_monitor_recent")]

    def __str__(self) -> str:
        return f"{self.slots_missed} slots of monitor {self.monitor_id} in {self.region_id} from {self.starts_at}"


class RegionImpairment(models.Model):
    """A stretch of time a region could not reach most of its canaries (checks/worker/canaries.py):
    its network, not the sites, was failing. Its failed checks then are not ticks and move
    no verdict; like a gap, their slots are recorded as not checked (the watchdog's gaps),
    and this row says why.

    Open (ended_at null) from the first canary round that failed until the first that
    passed again (checks/state/impairments.py)."""

    region = models.ForeignKey("monitors.Region", on_delete=models.CASCADE, related_name="impairments")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    # Which canaries failed, for the operator (the health endpoint shows counts only).
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["region"], condition=models.Q(ended_at__isnull=True), name="impairment_one_open_per_region"
            ),
        ]
        indexes = [models.Index(fields=["region", "-started_at"], name="impairment_region_recent")]

    def __str__(self) -> str:
        return f"region {self.region_id} impaired from {self.started_at:%Y-%m-%d %H:%M:%S}"


class Rollup(models.Model):
    """A monitor's ticks in one region over one period, counted (checks/figures/rollups.py keeps
    them): uptime and latency over long windows are read from these, not from ticks."""

    # Ticks in a maintenance window count only in maintenance_checks.
    checks = models.PositiveIntegerField(default=0)
    up = models.PositiveIntegerField(default=0)
    maintenance_checks = models.PositiveIntegerField(default=0)
    # Over the up checks that have a response time, as the histogram.
    response_time_sum_ms = models.BigIntegerField(default=0)
    response_time_min_ms = models.PositiveIntegerField(null=True, blank=True)
    response_time_max_ms = models.PositiveIntegerField(null=True, blank=True)
    # Up checks per response-time bucket (checks/outcomes/rollup_counts.py, BUCKET_BOUNDS_MS), for percentiles.
    response_time_histogram = ArrayField(models.IntegerField())

    class Meta:
        abstract = True


class HourlyRollup(Rollup):
    # No index of its own: the unique constraint's index begins with the monitor.
    monitor = models.ForeignKey(
        "monitors.Monitor", on_delete=models.CASCADE, related_name="hourly_rollups", db_index=False
    )
    region = models.ForeignKey("monitors.Region", on_delete=models.PROTECT, related_name="hourly_rollups")
    hour = models.DateTimeField(help_text="The UTC hour the ticks' slots fall in.")

    class Meta:
        constraints = [
            # Monitor first, then time: a window of one monitor is one index range (the
            # regions, few, are filtered within it).
            models.UniqueConstraint(fields=["monitor", "hour", "region"], name="hourlyrollup_one_per_hour"),
        ]
        indexes = [BrinIndex(fields=["hour"], name="hourlyrollup_hour_brin")]

    def __str__(self) -> str:
        return f"{self.monitor_id} {self.region_id} {self.hour:%Y-%m-%d %H:00}: {self.up}/{self.checks} up"


class DailyRollup(Rollup):
    # No index of its own: the unique constraint's index begins with the monitor.
    monitor = models.ForeignKey(
        "monitors.Monitor", on_delete=models.CASCADE, related_name="daily_rollups", db_index=False
    )
    region = models.ForeignKey("monitors.Region", on_delete=models.PROTECT, related_name="daily_rollups")
    day = models.DateField(help_text="The UTC day the ticks' slots fall in.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["monitor", "day", "region"], name="dailyrollup_one_per_day"),
        ]
        indexes = [BrinIndex(fields=["day"], name="dailyrollup_day_brin")]

    def __str__(self) -> str:
        return f"{self.monitor_id} {self.region_id} {self.day}: {self.up}/{self.checks} up"


class DayTotal(models.Model):
    """A monitor's ticks over one UTC day, all its regions added: what a status page's uptime
    bars draw (checks/figures/series.py days_of). Named for what it is, the day's total; the
    per-region rows (DailyRollup) stay the source of every other figure.

    Kept beside the daily rollups and from the same counts (checks/outcomes/rollup_counts.py,
    checks/figures/rollups.py rebuild), pruned with them (checks/outcomes/retention.py). A page
    of 50 monitors reads 90 narrow rows each here instead of summing three times as many wide
    ones (docs/benchmarks.md, "Status pages: server time"). No response times: the bars show
    uptime only.
    """

    # The key is (monitor, day), the page's read and the writer's conflict target in one
    # index; no id column, so no second index to keep on every new day. Retention's
    # `day < cutoff` (once a day) needs no index of its own either: PostgreSQL 18 skip-scans
    # this one by monitor, an older one reads the narrow table.
    pk = models.CompositePrimaryKey("monitor", "day")
    monitor = models.ForeignKey("monitors.Monitor", on_delete=models.CASCADE, related_name="day_totals", db_index=False)
    day = models.DateField(help_text="The UTC day the ticks' slots fall in.")
    # As in DailyRollup: ticks in a maintenance window count only in maintenance_checks.
    checks = models.PositiveIntegerField(default=0)
    up = models.PositiveIntegerField(default=0)
    maintenance_checks = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.monitor_id} {self.day}: {self.up}/{self.checks} up"
