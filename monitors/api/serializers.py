from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied

from checks.certificates import tls_expiry_warning
from monitors import services
from monitors.models import Monitor, Region
from monitors.validation import MAX_URL_LENGTH, RULE_FIELDS, monitor_errors


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["slug", "name"]


class MonitorSerializer(serializers.ModelSerializer):
    url = serializers.CharField(max_length=MAX_URL_LENGTH)
    regions = serializers.SlugRelatedField(
        many=True, slug_field="slug", queryset=Region.objects.all(), allow_empty=False
    )

    auth_password_set = serializers.SerializerMethodField()
    tls_expiry_warning = serializers.SerializerMethodField()

    class Meta:
        model = Monitor
        fields = [
            "id",
            *services.EDITABLE_FIELDS,
            "regions",
            "status",
            "last_checked_at",
            "auth_password_set",
            "tls_expires_at",
            "tls_expiry_warning",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "status", "last_checked_at", "tls_expires_at", "created_at", "updated_at"]
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

    def validate(self, attrs):
        if attrs.get("auth_username") == "" and "auth_password" not in attrs:
            # Clearing the username clears the stored password with it.
            attrs["auth_password"] = ""
        # Rules that relate fields (timeout below the interval, ...) need the whole
        # monitor: for a PATCH, the stored values fill in what the request leaves out.
        current = self.instance
        values = {
            name: attrs.get(name, getattr(current, name) if current else Monitor._meta.get_field(name).get_default())
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
        try:
            return services.create_monitor(self.context["request"].user, regions, **validated_data)
        except services.MonitorQuotaExceeded as exc:
            raise PermissionDenied(str(exc)) from None

    def update(self, instance, validated_data):
        regions = validated_data.pop("regions", None)
        return services.update_monitor(instance, regions, **validated_data)
