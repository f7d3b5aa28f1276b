from typing import cast

from django.conf import settings
from django.db.models import Field
from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied

from checks.figures.stats import uptime_24h_percent
from checks.state.certificates import tls_expiry_warning
from monitors import maintenance, services
from monitors.models import MaintenanceWindow, Monitor, Region
from monitors.validation import (
    MAX_INTERVAL_SECONDS,
    MAX_RETRIES,
    MAX_RETRY_INTERVAL_SECONDS,
    MAX_TIMEOUT_SECONDS,
    RULE_FIELDS,
    monitor_errors,
)
from notifications.models import Channel
from probe.urls import MAX_URL_LENGTH


class OwnedChannelField(serializers.PrimaryKeyRelatedField):
    """A channel id of the requesting user's; anyone else's is "does not exist" (400)."""

    def get_queryset(self):
        return Channel.objects.owned_by(self.context["request"].user)


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["slug", "name"]


class RegionSlugField(serializers.SlugRelatedField):
    """A region named by its slug."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", queryset=Region.objects.all(), **kwargs)

    def to_internal_value(self, data):
        # PostgreSQL refuses a NUL character in a query (a 500 otherwise); it names no region.
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


class MonitorSerializer(serializers.ModelSerializer):
    url = serializers.CharField(max_length=MAX_URL_LENGTH)
    regions = RegionSlugField(many=True, allow_empty=False)
    # Omitted on create: the owner's default channels.
    channels = OwnedChannelField(many=True, required=False)

    auth_password_set = serializers.SerializerMethodField()
    tls_expiry_warning = serializers.SerializerMethodField()

    class Meta:
        model = Monitor
        fields = [
            "id",
            *services.EDITABLE_FIELDS,
            "regions",
            "channels",
            "status",
            "status_changed_at",
            "last_checked_at",
            "late_regions",
            "auth_password_set",
            "tls_expires_at",
            "tls_expiry_warning",
            "created_at",
            "updated_at",
        ]
        # Everything people do not edit is decided by the system.
        read_only_fields = [name for name in fields if name not in (*services.EDITABLE_FIELDS, "regions", "channels")]
        extra_kwargs = {
            # Write-only: it is sent to the target, never shown; an update without it keeps it.
            "auth_password": {"write_only": True, "trim_whitespace": False},
            "request_body": {"trim_whitespace": False},
            "keyword": {"trim_whitespace": False},
        }

    def get_auth_password_set(self, monitor: Monitor) -> bool:
        return bool(monitor.auth_password)

    def get_tls_expiry_warning(self, monitor: Monitor) -> bool:
        return tls_expiry_warning(monitor, timezone.now())

    def to_representation(self, monitor):
        # Both read-only maintenance fields come from one look at the monitor's windows
        # (prefetched by the list), judged at the time of the request.
        data = super().to_representation(monitor)
        now = timezone.now()
        occurrence = maintenance.monitor_maintenance(monitor, now)
        data["in_maintenance"] = occurrence is not None and occurrence.is_current(now)
        # From the hourly rollups, annotated on the list's queryset: one query per page.
        data["uptime_24h_percent"] = uptime_24h_percent(monitor)
        data["maintenance"] = None
        if occurrence is not None:
            data["maintenance"] = {
                "window": occurrence.window.pk,
                "name": occurrence.window.name,
                "starts_at": serializers.DateTimeField().to_representation(occurrence.starts_at),
                "ends_at": serializers.DateTimeField().to_representation(occurrence.ends_at),
            }
        return data

    def validate(self, attrs):
        if attrs.get("auth_username") == "" and "auth_password" not in attrs:
            # Clearing the username clears the stored password with it.
            attrs["auth_password"] = ""
        # Rules that relate fields (timeout below the interval, ...) need the whole
        # monitor: for a PATCH, the stored values fill in what the request leaves out.
        current = self.instance
        values = {
            # These names are fields, not relations: the cast lets get_default through.
            name: attrs.get(
                name, getattr(current, name) if current else cast(Field, Monitor._meta.get_field(name)).get_default()
            )
            for name in RULE_FIELDS
        }
        regions = attrs.get("regions", list(current.regions.all()) if current else [])
        values["quorum"] = attrs.get("quorum", current.quorum if current else None)
        values["region_count"] = len(regions)
        errors = monitor_errors(values)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def create(self, validated_data):
        regions = validated_data.pop("regions")
        channels = validated_data.pop("channels", None)
        try:
            return services.create_monitor(self.context["request"].user, regions, channels, **validated_data)
        except services.MonitorQuotaExceeded as exc:
            raise PermissionDenied(str(exc)) from None

    def update(self, instance, validated_data):
        regions = validated_data.pop("regions", None)
        channels = validated_data.pop("channels", None)
        return services.update_monitor(instance, regions, channels, **validated_data)


@extend_schema_field(OpenApiTypes.INT)
class OwnedMonitorField(serializers.PrimaryKeyRelatedField):
    """A monitor id of the requesting user's; any other id is "invalid", whoever owns it."""

    def get_queryset(self):
        return Monitor.objects.owned_by(self.context["request"].user)


class MaintenanceWindowSerializer(serializers.ModelSerializer):
    monitors = OwnedMonitorField(many=True, allow_empty=False, error_messages={"empty": "Choose at least one monitor."})

    class Meta:
        model = MaintenanceWindow
        fields = ["id", "name", "monitors", "starts_at", "ends_at", "recurrence", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate(self, attrs):
        # For a PATCH, the stored values fill in what the request leaves out.
        current = self.instance
        values = {name: attrs.get(name, getattr(current, name, None)) for name in ("starts_at", "ends_at")}
        recurrence = attrs.get("recurrence", current.recurrence if current else MaintenanceWindow.Recurrence.NONE)
        errors = maintenance.window_errors(values["starts_at"], values["ends_at"], recurrence)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def to_representation(self, window):
        data = super().to_representation(window)
        now = timezone.now()
        occurrence = window.occurrence(now)
        data["active"] = occurrence is not None and occurrence[0] <= now
        # The occurrence in force, else the next one; null once a one-off window is over.
        data["occurrence"] = None
        if occurrence is not None:
            data["occurrence"] = {
                "starts_at": serializers.DateTimeField().to_representation(occurrence[0]),
                "ends_at": serializers.DateTimeField().to_representation(occurrence[1]),
            }
        return data

    def create(self, validated_data):
        monitors = validated_data.pop("monitors")
        return maintenance.create_window(self.context["request"].user, monitors, **validated_data)

    def update(self, instance, validated_data):
        monitors = validated_data.pop("monitors", None)
        return maintenance.update_window(instance, monitors, **validated_data)


class MonitorSchema(OpenApiSerializerExtension):
    """The OpenAPI document gives the ranges monitors.validation enforces (in `validate`,
    where the rules that relate fields live), not just the database columns' ranges."""

    target_class = MonitorSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        ranges = {
            "interval_seconds": (settings.MONITOR_MIN_INTERVAL_SECONDS, MAX_INTERVAL_SECONDS),
            "timeout_seconds": (1, MAX_TIMEOUT_SECONDS),
            "retries": (0, MAX_RETRIES),
            "retry_interval_seconds": (1, MAX_RETRY_INTERVAL_SECONDS),
        }
        for name, (minimum, maximum) in ranges.items():
            schema["properties"][name].update(minimum=minimum, maximum=maximum)
        schema["properties"]["url"]["format"] = "uri"
        return schema
