from typing import cast

from django.db.models import Field
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from accounts.actors import acting
from monitors.models import Monitor
from notifications.models import Channel, Delivery, DeliveryAttempt
from notifications.validation import MAX_REMINDER_MINUTES, POSTING_KINDS, REMINDER_MINUTES_MESSAGE, channel_errors


class ChannelSerializer(serializers.ModelSerializer):
    monitors: serializers.PrimaryKeyRelatedField[Monitor] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    apprise_url_set = serializers.SerializerMethodField()

    class Meta:
        model = Channel
        fields = [
            "id",
            "name",
            "kind",
            "url",
            "email",
            "apprise_url",
            "apprise_url_set",
            "is_default",
            "reminder_minutes",
            "secret",
            "monitors",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "secret", "monitors", "created_at", "updated_at"]
        extra_kwargs = {
            # Write-only: it holds the service's tokens; an update without it keeps it.
            "apprise_url": {"write_only": True},
            # The range is notifications.validation's, with its one message, not the column's.
            "reminder_minutes": {
                "min_value": None,
                "max_value": None,
                "error_messages": {"invalid": REMINDER_MINUTES_MESSAGE, "max_string_length": REMINDER_MINUTES_MESSAGE},
            },
        }

    def get_apprise_url_set(self, channel: Channel) -> bool:
        return bool(channel.apprise_url)

    def validate(self, attrs):
        # For a PATCH, the stored values fill in what the request leaves out: a URL is
        # checked against the kind it will be used with.
        current = self.instance
        values = {
            # These names are fields, not relations: the cast lets get_default through.
            name: attrs.get(
                name, getattr(current, name) if current else cast(Field, Channel._meta.get_field(name)).get_default()
            )
            for name in ("kind", "url", "email", "apprise_url", "reminder_minutes")
        }
        # A stored URL the edit leaves alone is not refused again (see channel_errors).
        stored = {"kind": current.kind, "url": current.url, "apprise_url": current.apprise_url} if current else None
        errors = channel_errors(values, stored)
        if errors:
            raise serializers.ValidationError(errors)
        # A channel keeps only the address its kind uses.
        kind = values["kind"]
        if kind != Channel.Kind.EMAIL:
            attrs["email"] = ""
        if kind not in POSTING_KINDS:
            attrs["url"] = ""
        if kind != Channel.Kind.APPRISE:
            attrs["apprise_url"] = ""
        return attrs

    def create(self, validated_data):
        return Channel.objects.create(organization=acting(self.context["request"]).organization, **validated_data)


class ChannelSchema(OpenApiSerializerExtension):
    """The OpenAPI document gives the range notifications.validation enforces, not the column's."""

    target_class = ChannelSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["properties"]["reminder_minutes"].update(minimum=0, maximum=MAX_REMINDER_MINUTES)
        return schema


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["at", "ok", "status_code", "error", "duration_ms"]


class DeliverySerializer(serializers.ModelSerializer):
    attempts = DeliveryAttemptSerializer(many=True, source="attempts_log", read_only=True)
    title = serializers.SerializerMethodField()
    replay = serializers.SerializerMethodField(help_text="The delivery a replay of this dead one made.")

    class Meta:
        model = Delivery
        fields = [
            "id",
            "uid",
            "channel",
            "event",
            "title",
            "monitor",
            "incident",
            "status",
            "created_at",
            "next_attempt_at",
            "finished_at",
            "last_error",
            "replay_of",
            "replayed_at",
            "replay",
            "attempts",
        ]
        read_only_fields = fields

    def get_title(self, delivery: Delivery) -> str:
        return delivery.payload.get("title", "")

    def get_replay(self, delivery: Delivery) -> int | None:
        replay = getattr(delivery, "replay", None) if delivery.replayed_at else None
        return replay.pk if replay is not None else None


class ReplaySerializer(serializers.Serializer):
    """What a replay answers: the new deliveries, pending, each made from one dead one."""

    replayed = serializers.IntegerField(min_value=0)
    deliveries = DeliverySerializer(many=True)
