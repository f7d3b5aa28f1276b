from django.utils import timezone
from rest_framework import serializers

from checks.models import Gap, Incident, StatusChange, Tick
from checks.stats import WINDOWS
from monitors.models import Monitor, Region


class TickSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Tick
        fields = [
            "id",
            "region",
            "status",
            "status_code",
            "response_time_ms",
            "error",
            "attempts",
            "tls_expires_at",
            "scheduled_at",
            "checked_at",
            "in_maintenance",
        ]


class TimeRangeSerializer(serializers.Serializer):
    """`since` and `until` query parameters (ISO 8601), in order."""

    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    # default=None: a query string without it means "either", not false.
    in_maintenance = serializers.BooleanField(required=False, allow_null=True, default=None)

    def validate(self, attrs):
        if "since" in attrs and "until" in attrs and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": "until must not be before since."})
        return attrs


class TickFilterSerializer(TimeRangeSerializer):
    """The query parameters of a monitor's tick list."""

    region = serializers.SlugRelatedField(slug_field="slug", queryset=Region.objects.all(), required=False)
    status = serializers.ChoiceField(choices=Tick.Status.choices, required=False)


class IncidentSerializer(serializers.ModelSerializer):
    monitor_name = serializers.CharField(source="monitor.name", read_only=True)
    is_open = serializers.BooleanField(read_only=True)
    duration_seconds = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id",
            "monitor",
            "monitor_name",
            "started_at",
            "resolved_at",
            "is_open",
            "duration_seconds",
            "first_error",
            "regions",
            "resolution",
        ]
        read_only_fields = fields

    def get_duration_seconds(self, incident: Incident) -> float:
        """Whole duration once resolved; so far, while open."""
        return round(incident.duration_at(timezone.now()), 3)


class IncidentFilterSerializer(TimeRangeSerializer):
    """The query parameters of an incident list. A time range keeps the incidents that
    overlap it; `monitor` must be one of the user's monitors."""

    monitor = serializers.PrimaryKeyRelatedField(queryset=Monitor.objects.none(), required=False)
    state = serializers.ChoiceField(choices=["open", "resolved"], required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["monitor"].queryset = Monitor.objects.owned_by(user)


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatusChange
        fields = ["id", "changed_at", "from_status", "to_status", "reason", "down_regions"]
        read_only_fields = fields


class UptimeQuerySerializer(serializers.Serializer):
    window = serializers.ChoiceField(choices=sorted(WINDOWS), default="24h")


class GapSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    is_open = serializers.SerializerMethodField()

    class Meta:
        model = Gap
        fields = ["id", "region", "starts_at", "ends_at", "is_open", "slots_missed", "detected_at"]
        read_only_fields = fields

    def get_is_open(self, gap: Gap) -> bool:
        return gap.ends_at is None
