from rest_framework import serializers

from checks.models import Tick
from checks.stats import WINDOWS
from monitors.models import Region


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
        ]


class TickFilterSerializer(serializers.Serializer):
    """The query parameters of a monitor's tick list."""

    region = serializers.SlugRelatedField(slug_field="slug", queryset=Region.objects.all(), required=False)
    status = serializers.ChoiceField(choices=Tick.Status.choices, required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        if "since" in attrs and "until" in attrs and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": "until must not be before since."})
        return attrs


class UptimeQuerySerializer(serializers.Serializer):
    window = serializers.ChoiceField(choices=sorted(WINDOWS), default="24h")
