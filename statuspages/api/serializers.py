"""The organization's status page API: pages with their sections and components, incidents with
their updates, subscribers. Writes go through statuspages.services."""

from collections.abc import Mapping
from typing import Any, cast

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.actors import acting
from monitors.models import Monitor
from statuspages import services
from statuspages.messages import page_link
from statuspages.models import Component, IncidentUpdate, PageIncident, StatusPage, Subscriber
from statuspages.validation import MAX_COMPONENTS, MAX_SECTIONS, domain_error, sections_error


@extend_schema_field(OpenApiTypes.INT)
class OwnedMonitorField(serializers.PrimaryKeyRelatedField):
    """One of the requesting user's monitors: another user's id is "does not exist"."""

    def get_queryset(self):
        return Monitor.objects.owned_by(acting(self.context["request"]).organization).only(
            "id", "name", "organization_id"
        )


class AsDocumented:
    """Strings and booleans as the document says: 0 is not "0", and "yes" is not true."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            fields = cast(serializers.Serializer, self).fields
            errors = {}
            for name, field in fields.items():
                value = data.get(name)
                if field.read_only or value is None:
                    continue
                if isinstance(field, serializers.CharField) and not isinstance(value, str):
                    errors[name] = ["Not a valid string."]
                elif isinstance(field, serializers.BooleanField) and not isinstance(value, bool):
                    errors[name] = ["Must be true or false."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]


class ComponentSerializer(AsDocumented, serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    monitor = OwnedMonitorField()
    # What visitors see; the monitor's own name when left out.
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)


class SectionSerializer(AsDocumented, serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    components: serializers.ListSerializer = serializers.ListSerializer(
        child=ComponentSerializer(), max_length=MAX_COMPONENTS
    )


def _numbered(detail) -> list[tuple[int, dict]] | None:
    """A nested list's errors by position (from 1), whether DRF gives them as a list or as a
    dict keyed by index; None when they are plain messages."""
    if isinstance(detail, dict) and all(str(key).isdigit() for key in detail):
        return [(int(key) + 1, errors) for key, errors in sorted(detail.items(), key=lambda i: int(i[0]))]
    if isinstance(detail, list) and any(isinstance(item, dict) for item in detail):
        return [(n, errors) for n, errors in enumerate(detail, start=1) if errors]
    return None


def _messages(detail, where: str) -> list[str]:
    """Nested errors as plain messages ("Section 2, component 1, monitor: ..."): every 400
    of the API is a list of messages per field."""
    numbered = _numbered(detail)
    if numbered is not None:
        noun = "component" if where else "Section"
        return [message for n, errors in numbered for message in _messages(errors, f"{where}{noun} {n}, ")]
    if isinstance(detail, dict):
        said = []
        for field, value in detail.items():
            nested = field == "components" and _numbered(value) is not None
            said += _messages(value, where if nested else f"{where}{field}: ")
        return said
    texts = detail if isinstance(detail, list) else [detail]
    return [f"{where}{text}" for text in texts]


class StatusPageSerializer(AsDocumented, serializers.ModelSerializer):
    sections: serializers.ListSerializer = serializers.ListSerializer(
        child=SectionSerializer(), required=False, max_length=MAX_SECTIONS
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = StatusPage
        fields = ["id", "slug", "title", "description", "domain", "show_regions", "url", "sections", "created_at"]
        read_only_fields = ["id", "url", "created_at"]

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            if isinstance(error.detail, dict) and "sections" in error.detail:
                error.detail["sections"] = cast(Any, _messages(error.detail["sections"], ""))
            raise

    def get_url(self, page: StatusPage) -> str:
        return page_link(page)

    def to_representation(self, page: StatusPage) -> dict:
        data = super().to_representation(page)
        data["sections"] = [
            {
                "name": section.name,
                "components": [
                    {"id": component.pk, "monitor": component.monitor_id, "name": component.name}
                    for component in section.components.all()
                ],
            }
            for section in page.sections.all()
        ]
        return data

    def validate_domain(self, domain: str | None) -> str | None:
        if not domain:
            return None  # unique: "no domain" is NULL, never ""
        if (message := domain_error(domain)) is not None:
            raise serializers.ValidationError(message)
        return domain

    def validate_sections(self, sections: list[dict]) -> list[dict]:
        if (message := sections_error(sections)) is not None:
            raise serializers.ValidationError(message)
        return sections

    def create(self, validated_data):
        sections = validated_data.pop("sections", [])
        return services.save_page(acting(self.context["request"]).organization, None, validated_data, sections)

    def update(self, page, validated_data):
        sections = validated_data.pop("sections", None)
        return services.save_page(page.organization, page, validated_data, sections)


class IncidentUpdateSerializer(AsDocumented, serializers.ModelSerializer):
    class Meta:
        model = IncidentUpdate
        fields = ["id", "status", "message", "posted_at"]
        read_only_fields = ["id", "posted_at"]


class PageIncidentSerializer(AsDocumented, serializers.ModelSerializer):
    # The first update's message; later ones are posted to .../updates/.
    message = serializers.CharField(max_length=5000, write_only=True)
    updates = IncidentUpdateSerializer(many=True, read_only=True)
    components = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Component.objects.none())

    class Meta:
        model = PageIncident
        fields = ["id", "title", "status", "message", "components", "started_at", "resolved_at", "updates"]
        read_only_fields = ["id", "started_at", "resolved_at", "updates"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        page = self.context.get("page")
        if page is not None:
            # Only this page's components: another page's (or user's) id does not exist.
            components = cast(Any, self.fields["components"])  # a ManyRelatedField
            components.child_relation.queryset = Component.objects.filter(section__page=page)

    def validate(self, attrs):
        if self.instance is not None and ({"status", "message"} & set(self.initial_data)):
            raise serializers.ValidationError(
                {"status": "A status changes with an update and its message: POST it to this incident's updates/."}
            )
        return attrs

    def create(self, validated_data):
        return services.open_incident(
            self.context["page"],
            validated_data["title"],
            validated_data["status"],
            validated_data["message"],
            validated_data.get("components", []),
        )

    @transaction.atomic
    def update(self, incident, validated_data):
        # Title and components only: a status changes by posting an update, with its message.
        if "title" in validated_data:
            incident.title = validated_data["title"]
            incident.save(update_fields=["title"])
        if "components" in validated_data:
            incident.components.set(validated_data["components"])
        transaction.on_commit(lambda: services.forget_rendered(incident.page.slug))
        return incident


class SubscriberSerializer(serializers.ModelSerializer):
    class Meta:
        model = Subscriber
        fields = ["id", "kind", "address", "confirmed_at", "created_at"]
        read_only_fields = fields
