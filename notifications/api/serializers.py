from typing import cast

from django.db.models import Field
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from monitors.models import Monitor
from notifications.models import Channel, Delivery, DeliveryAttempt
from notifications.validation import MAX_REMINDER_MINUTES, REMINDER_MINUTES_MESSAGE, channel_errors


class ChannelSerializer(serializers.ModelSerializer):
    monitors: serializers.PrimaryKeyRelatedField[Monitor] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )

    class Meta:
        model = Channel
        fields = [
            "id",
            "name",
            "kind",
            "url",
            "email",
            "is_default",
            "reminder_minutes",
            "secret",
            "monitors",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "secret", "monitors", "created_at", "updated_at"]
        extra_kwargs = {
            # The range is notifications.validation's, with its one message, not the column's.
            "reminder_minutes": {
                "min_value": None,
                "max_value": None,
                "error_messages": {"invalid": REMINDER_MINUTES_MESSAGE, "max_string_length": REMINDER_MINUTES_MESSAGE},
            },
        }

    def validate(self, attrs):
        # For a PATCH, the stored values fill in what the request leaves out: a URL is
        # checked against the kind it will be used with.
        current = self.instance
        values = {
            # These names are fields, not relations: the cast lets get_default through.
            name: attrs.get(
                name, getattr(current, name) if current else cast(Field, Channel._meta.get_field(name)).get_default()
            )
            for name in ("kind", "url", "email", "reminder_minutes")
        }
        # A stored URL the edit leaves alone is not refused again (see channel_errors).
        stored = {"kind": current.kind, "url": current.url} if current else None
        errors = channel_errors(values, stored)
        if errors:
            raise serializers.ValidationError(errors)
        # A channel keeps only the address its kind uses.
        if values["kind"] == Channel.Kind.EMAIL:
            attrs["url"] = ""
        else:
            attrs["email"] = ""
        return attrs

    def create(self, validated_data):
        return Channel.objects.create(owner=self.context["request"].user, **validated_data)


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

    class Meta:
        model = Delivery
        fields = [
            "id",
            "uid",
            "event",
            "title",
            "monitor",
            "incident",
            "status",
            "created_at",
            "next_attempt_at",
            "finished_at",
            "last_error",
            "attempts",
        ]

    def get_title(self, delivery: Delivery) -> str:
        return delivery.payload.get("title", "")
