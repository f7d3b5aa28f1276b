"""Ticks: the result of checking one monitor from one region for one scheduled slot."""

from django.contrib.postgres.indexes import BrinIndex
from django.db import models


class Tick(models.Model):
    class Status(models.TextChoices):
        UP = "up"
        DOWN = "down"

    monitor = models.ForeignKey("monitors.Monitor", on_delete=models.CASCADE, related_name="ticks")
    region = models.ForeignKey("monitors.Region", on_delete=models.PROTECT, related_name="ticks")
    status = models.CharField(max_length=4, choices=Status.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_time_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    scheduled_at = models.DateTimeField(help_text="The slot this tick checks, as beat scheduled it.")
    checked_at = models.DateTimeField(help_text="When the first request of the check began.")

    class Meta:
        ordering = ["-scheduled_at", "-id"]
        constraints = [
            # One slot of one monitor in one region gives at most one tick, whatever the
            # broker redelivers.
            models.UniqueConstraint(fields=["monitor", "region", "scheduled_at"], name="tick_one_per_slot"),
        ]
        indexes = [
            # Latest ticks of a monitor, and a monitor's ticks in a time window.
            models.Index(fields=["monitor", "-scheduled_at"], name="tick_monitor_recent"),
            # Retention deletes by age; ticks arrive in time order, so a BRIN index is tiny.
            BrinIndex(fields=["scheduled_at"], name="tick_scheduled_brin"),
        ]

    def __str__(self) -> str:
        return f"{self.monitor_id} {self.region_id} {self.scheduled_at:%Y-%m-%d %H:%M:%S} {self.status}"
