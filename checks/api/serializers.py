from django.db import models
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from checks.figures.health import WRITER_SEEN_WITHIN_SECONDS
from checks.figures.stats import WINDOWS
from checks.models import Gap, Incident, StatusChange, Tick
from checks.state.dependencies import unreachable_children
from monitors.api.serializers import OwnedMonitorField, RegionSlugField
from monitors.models import Region
from uptime.query_parameters import QueryParameters


class TickSerializer(serializers.ModelSerializer):
    region: serializers.SlugRelatedField[Region] = serializers.SlugRelatedField(slug_field="slug", read_only=True)

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


class TimeRangeSerializer(QueryParameters):
    """`since` and `until` query parameters (ISO 8601), in order."""

    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        if "since" in attrs and "until" in attrs and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": "until must not be before since."})
        return attrs


class TickFilterSerializer(TimeRangeSerializer):
    """The query parameters of a monitor's tick list."""

    region = RegionSlugField(required=False)
    status = serializers.ChoiceField(choices=Tick.Status.choices, required=False)
    # default=None: a query string without it means "either", not false.
    in_maintenance = serializers.BooleanField(required=False, allow_null=True, default=None)


class UnreachableChildSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.CharField()


class IncidentListSerializer(serializers.ListSerializer):
    """A page of incidents: their unreachable children read in one query for the page, not
    one per incident."""

    def to_representation(self, data):
        incidents = list(data.all() if isinstance(data, models.manager.BaseManager) else data)
        self.child.children_of = unreachable_children(incidents)  # type: ignore[union-attr]
        return super().to_representation(incidents)


class IncidentSerializer(serializers.ModelSerializer):
    # A list's children, read for the whole page by IncidentListSerializer.
    children_of: dict[int, list[dict]] | None = None
    monitor_name = serializers.CharField(source="monitor.name", read_only=True)
    # Monitors depending on this one that failed with it while it was open, paging nobody.
    unreachable_children = serializers.SerializerMethodField()
    is_open = serializers.BooleanField(read_only=True)
    duration_seconds = serializers.SerializerMethodField()
    # What ended it ("up", "degraded", "paused", "maintenance"); null while open, as in alerts.
    resolution = serializers.SerializerMethodField()

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
            "unreachable_children",
        ]
        read_only_fields = fields
        list_serializer_class = IncidentListSerializer

    @extend_schema_field(UnreachableChildSerializer(many=True))
    def get_unreachable_children(self, incident: Incident) -> list[dict]:
        if self.children_of is not None and incident.pk in self.children_of:
            return self.children_of[incident.pk]
        return unreachable_children([incident])[incident.pk]

    def get_resolution(self, incident: Incident) -> str | None:
        return incident.resolution or None

    def get_duration_seconds(self, incident: Incident) -> float:
        """Whole duration once resolved; so far, while open."""
        return round(incident.duration_at(timezone.now()), 3)


class IncidentFilterSerializer(TimeRangeSerializer):
    """The query parameters of an incident list. A time range keeps the incidents that
    overlap it; `monitor` must be one of the user's monitors."""

    monitor = OwnedMonitorField(required=False)
    state = serializers.ChoiceField(choices=["open", "resolved"], required=False)


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatusChange
        fields = ["id", "changed_at", "from_status", "to_status", "reason", "down_regions"]
        read_only_fields = fields


class UptimeQuerySerializer(QueryParameters):
    window = serializers.ChoiceField(choices=sorted(WINDOWS), default="24h")


class GapSerializer(serializers.ModelSerializer):
    region: serializers.SlugRelatedField[Region] = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    is_open = serializers.SerializerMethodField()

    class Meta:
        model = Gap
        fields = ["id", "region", "starts_at", "ends_at", "is_open", "slots_missed", "detected_at"]
        read_only_fields = fields

    def get_is_open(self, gap: Gap) -> bool:
        return gap.ends_at is None


# The serializers below describe, for the OpenAPI document, the dicts that checks.figures.stats
# and checks.figures.health build; the views return those dicts as they are.


class UptimeFiguresSerializer(serializers.Serializer):
    uptime_percent = serializers.FloatField(allow_null=True, help_text="null when the window holds no checks.")
    checks = serializers.IntegerField(min_value=0, help_text="Checks outside maintenance windows.")
    maintenance_checks = serializers.IntegerField(min_value=0, help_text="Checks in maintenance: in no other figure.")
    missed_slots = serializers.IntegerField(min_value=0, help_text="Slots no check covered (our outage): no figure.")
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
    late_monitors = serializers.IntegerField(min_value=0, help_text="Monitors whose checks stopped arriving here.")


class BeatHealthSerializer(serializers.Serializer):
    active = serializers.BooleanField(help_text="A beat holds the leader lease: checks are being sent.")
    holder = serializers.CharField(allow_null=True, help_text="host:pid:id of the active beat.")
    lease_expires_in_seconds = serializers.FloatField(allow_null=True)


class DeliveriesHealthSerializer(serializers.Serializer):
    dead = serializers.IntegerField(min_value=0, help_text="Owners' channels' dead deliveries not replayed.")
    channels_dead_last_hour = serializers.IntegerField(
        min_value=0, help_text="Owners' channels with such a delivery dead in the last hour."
    )
    degraded = serializers.BooleanField(help_text="Enough of them to call the alerting degraded.")


class HealthReportSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["ok", "degraded", "unavailable"],
        help_text="degraded (200): alerts die on several channels at once (see deliveries).",
    )
    database = ServiceHealthSerializer()
    broker = ServiceHealthSerializer()
    regions = serializers.DictField(child=RegionHealthSerializer(), help_text="Per region slug.")
    beat = BeatHealthSerializer(required=False, help_text="Present when the broker answers.")
    outcomes_waiting = serializers.IntegerField(
        min_value=0, required=False, help_text="Checks done whose results are not written to PostgreSQL yet."
    )
    outcome_writers = serializers.IntegerField(
        min_value=0,
        required=False,
        help_text=f"Workers that read the outcomes to write them in the last {WRITER_SEEN_WITHIN_SECONDS} s.",
    )
    writing_stalled = serializers.BooleanField(
        required=False, help_text="Results are waiting and no worker is writing them."
    )
    deliveries = DeliveriesHealthSerializer(required=False, help_text="Present when the database answers.")
