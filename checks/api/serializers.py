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
            "scheduled_at",
            "checked_at",
            "in_maintenance",
        ]


class TickFilterSerializer(serializers.Serializer):
    """The query parameters of a monitor's tick list."""

    region = serializers.SlugRelatedField(slug_field="slug", queryset=Region.objects.all(), required=False)
    status = serializers.ChoiceField(choices=Tick.Status.choices, required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    # default=None: a query string without it means "either", not false.
    in_maintenance = serializers.BooleanField(required=False, allow_null=True, default=None)

    def validate(self, attrs):
        if "since" in attrs and "until" in attrs and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": "until must not be before since."})
        return attrs


class UptimeQuerySerializer(serializers.Serializer):
    window = serializers.ChoiceField(choices=sorted(WINDOWS), default="24h")
