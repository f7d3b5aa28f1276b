from rest_framework import serializers

from checks.models import Tick
from checks.stats import WINDOWS
from monitors.api.serializers import RegionSlugField


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
            "scheduled_at",
            "checked_at",
        ]


class TickFilterSerializer(serializers.Serializer):
    """The query parameters of a monitor's tick list."""

    region = RegionSlugField(required=False)
    status = serializers.ChoiceField(choices=Tick.Status.choices, required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        if "since" in attrs and "until" in attrs and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": "until must not be before since."})
        return attrs


class UptimeQuerySerializer(serializers.Serializer):
    window = serializers.ChoiceField(choices=sorted(WINDOWS), default="24h")


# The serializers below describe, for the OpenAPI document, the dicts that checks.stats
# and checks.health build; the views return those dicts as they are.


class UptimeFiguresSerializer(serializers.Serializer):
    uptime_percent = serializers.FloatField(allow_null=True, help_text="null when the window holds no checks.")
    checks = serializers.IntegerField(min_value=0)
    avg_response_time_ms = serializers.FloatField(allow_null=True, help_text="Successful checks only.")
    p95_response_time_ms = serializers.FloatField(allow_null=True, help_text="Successful checks only.")


class UptimeSummarySerializer(UptimeFiguresSerializer):
    window = serializers.ChoiceField(choices=sorted(WINDOWS))
    regions = serializers.DictField(child=UptimeFiguresSerializer(), help_text="The same figures per region slug.")


class ServiceHealthSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    error = serializers.CharField(required=False, help_text="Why it did not answer.")


class RegionHealthSerializer(serializers.Serializer):
    queue_depth = serializers.IntegerField(min_value=0, help_text="Checks waiting on the region's queue.")
    workers = serializers.IntegerField(min_value=0, help_text="Workers with a recent heartbeat.")
    last_heartbeat = serializers.DateTimeField(allow_null=True)
    last_heartbeat_age_seconds = serializers.FloatField(allow_null=True)
    stalled = serializers.BooleanField(help_text="Checks are waiting and no worker is alive.")


class HealthReportSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "unavailable"])
    database = ServiceHealthSerializer()
    broker = ServiceHealthSerializer()
    regions = serializers.DictField(child=RegionHealthSerializer(), help_text="Per region slug.")
