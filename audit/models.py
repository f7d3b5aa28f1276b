"""One row per thing a person (or their key, or a file) did to an organization's monitors,
channels, maintenance windows, status pages, members, invitations or keys. The audit app
sits below the others: they register their models with it, it imports none of them."""

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    class Source(models.TextChoices):
        API = "api"
        WEB = "web"
        ADMIN = "admin"
        FILE = "file"  # a config file applied, through the API or manage.py

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="audit_events")
    at = models.DateTimeField(auto_now_add=True)
    # Who: kept by name too, so the record outlives the person and the key.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    user_email = models.CharField(max_length=254, blank=True)
    key = models.ForeignKey("accounts.ApiKey", on_delete=models.SET_NULL, null=True, related_name="+")
    key_name = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    action = models.CharField(max_length=20)  # created, changed, deleted, paused, resumed, applied, ...
    object_type = models.CharField(max_length=30)  # monitor, channel, maintenance window, ...
    object_id = models.BigIntegerField(null=True)
    object_name = models.CharField(max_length=200, blank=True)
    # {field: [before, after]} for a change (secrets as "(changed)"), or what an apply did.
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["organization", "-at"], name="audit_org_recent")]

    def __str__(self) -> str:
        return f"{self.user_email or 'manage.py'} {self.action} {self.object_type} “{self.object_name}”"
