from django.conf import settings
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied

from monitors import services
from monitors.models import Monitor, Region
from monitors.validation import (
    MAX_INTERVAL_SECONDS,
    MAX_RETRIES,
    MAX_RETRY_INTERVAL_SECONDS,
    MAX_TIMEOUT_SECONDS,
    MAX_URL_LENGTH,
    monitor_errors,
)


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

    class Meta:
        model = Monitor
        fields = ["id", *services.EDITABLE_FIELDS, "regions", "status", "last_checked_at", "created_at", "updated_at"]
        read_only_fields = ["id", "status", "last_checked_at", "created_at", "updated_at"]

    def validate(self, attrs):
        # Rules that relate fields (timeout below the interval, ...) need the whole
        # monitor: for a PATCH, the stored values fill in what the request leaves out.
        current = self.instance
        values = {
            name: attrs.get(name, getattr(current, name) if current else Monitor._meta.get_field(name).get_default())
            for name in (
                "url",
                "interval_seconds",
                "timeout_seconds",
                "retries",
                "retry_interval_seconds",
                "expected_status",
            )
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
        try:
            return services.create_monitor(self.context["request"].user, regions, **validated_data)
        except services.MonitorQuotaExceeded as exc:
            raise PermissionDenied(str(exc)) from None

    def update(self, instance, validated_data):
        regions = validated_data.pop("regions", None)
        return services.update_monitor(instance, regions, **validated_data)


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
