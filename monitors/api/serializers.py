from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied

from monitors import services
from monitors.models import Monitor, Region
from monitors.validation import MAX_URL_LENGTH, monitor_errors
from notifications.models import Channel


class OwnedChannelField(serializers.PrimaryKeyRelatedField):
    """A channel id of the requesting user's; anyone else's is "does not exist" (400)."""

    def get_queryset(self):
        return Channel.objects.owned_by(self.context["request"].user)


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["slug", "name"]


class MonitorSerializer(serializers.ModelSerializer):
    url = serializers.CharField(max_length=MAX_URL_LENGTH)
    regions = serializers.SlugRelatedField(
        many=True, slug_field="slug", queryset=Region.objects.all(), allow_empty=False
    )
    # Omitted on create: the owner's default channels.
    channels = OwnedChannelField(many=True, required=False)

    class Meta:
        model = Monitor
        fields = [
            "id",
            *services.EDITABLE_FIELDS,
            "regions",
            "channels",
            "status",
            "last_checked_at",
            "created_at",
            "updated_at",
        ]
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
        channels = validated_data.pop("channels", None)
        try:
            return services.create_monitor(self.context["request"].user, regions, channels, **validated_data)
        except services.MonitorQuotaExceeded as exc:
            raise PermissionDenied(str(exc)) from None

    def update(self, instance, validated_data):
        regions = validated_data.pop("regions", None)
        channels = validated_data.pop("channels", None)
        return services.update_monitor(instance, regions, channels, **validated_data)
