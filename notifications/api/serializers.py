from typing import cast

from django.db.models import Field
from rest_framework import serializers

from monitors.models import Monitor
from notifications.models import Channel, Delivery, DeliveryAttempt
from notifications.validation import channel_errors


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
        errors = channel_errors(values)
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
