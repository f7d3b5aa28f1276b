import re
from typing import NoReturn, Protocol, cast

from django.db import connection
from django.db.models import Field, QuerySet
from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.relations import MANY_RELATION_KWARGS
from rest_framework.settings import api_settings

from accounts.actors import acting
from checks.figures.stats import uptime_24h_percent
from checks.state.certificates import tls_expiry_warning
from monitors import maintenance, services
from monitors.models import MONITOR_ORDERINGS, STATUS_SEVERITY, MaintenanceWindow, Monitor, Region
from monitors.validation import RULE_FIELDS, monitor_errors, number_messages, parent_errors, range_rules
from notifications.models import Channel
from probe.urls import MAX_URL_LENGTH
from uptime.query_parameters import QueryParameters

# The longest list of ids or slugs a request may give for one field.
MAX_LIST_ITEMS = 1000
# The most monitors one page of the list may hold (?page_size=).
MAX_PAGE_SIZE = 200


class ListedTogether(Protocol):
    """A related field whose many=True list is read in one query."""

    def lookup_key(self, item): ...  # the item as the query looks it up; fails if it cannot be one

    def fetch(self, keys: list) -> dict: ...  # {key: object} for the keys that name one

    def fail_missing(self, item) -> NoReturn: ...


class RelatedList(serializers.ManyRelatedField):
    """A list of related objects, ids or slugs, read in one query rather than one per item.
    An item given twice counts once; a list holds at most MAX_LIST_ITEMS items. Its child
    field (a BulkPrimaryKeyField or RegionSlugField) scopes the query, so an object the user
    may not use is "does not exist", like one that does not."""

    default_error_messages = {
        **serializers.ManyRelatedField.default_error_messages,
        "max_length": "Give at most {max_length} items; this list has {length}.",
    }

    def to_internal_value(self, data):
        if isinstance(data, str) or not hasattr(data, "__iter__"):
            self.fail("not_a_list", input_type=type(data).__name__)
        items = list(data)
        if not self.allow_empty and not items:
            self.fail("empty")
        if len(items) > MAX_LIST_ITEMS:
            self.fail("max_length", max_length=MAX_LIST_ITEMS, length=len(items))
        child = cast(ListedTogether, self.child_relation)
        given: dict = {}  # key -> the item as given (for the message), in order, once each
        for item in items:
            given.setdefault(child.lookup_key(item), item)
        found = child.fetch(list(given))
        for key, item in given.items():
            if key not in found:
                child.fail_missing(item)
        return [found[key] for key in given]


def related_list(field_class, args, kwargs) -> RelatedList:
    """What `many=True` makes of a field that reads its list in one query (DRF's many_init)."""
    list_kwargs = {key: value for key, value in kwargs.items() if key in MANY_RELATION_KWARGS}
    return RelatedList(child_relation=field_class(*args, **kwargs), **list_kwargs)


class BulkPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """An object by its id; with many=True, the whole list in one `pk__in` query."""

    @classmethod
    def many_init(cls, *args, **kwargs):
        return related_list(cls, args, kwargs)

    def lookup_key(self, item) -> int:
        # As PrimaryKeyRelatedField takes them: an integer, or a string or float that is one.
        if isinstance(item, int) and not isinstance(item, bool):
            return item
        try:
            if isinstance(item, str) or (isinstance(item, float) and item.is_integer()):
                return int(item)
        except ValueError:
            pass
        self.fail("incorrect_type", data_type=type(item).__name__)

    def fetch(self, keys: list[int]) -> dict:
        queryset = cast(QuerySet, self.get_queryset())  # each subclass scopes one
        # An id outside the column's range names nothing (and PostgreSQL would refuse it).
        low, high = connection.ops.integer_field_range(queryset.model._meta.pk.get_internal_type())
        keys = [key for key in keys if low <= key <= high]
        return {obj.pk: obj for obj in queryset.filter(pk__in=keys)} if keys else {}

    def fail_missing(self, item) -> NoReturn:
        self.fail("does_not_exist", pk_value=item)


class OwnedChannelField(BulkPrimaryKeyField):
    """A channel id of the requesting user's; anyone else's is "does not exist" (400)."""

    def get_queryset(self):
        return Channel.objects.owned_by(acting(self.context["request"]).organization)


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["slug", "name"]


class RegionSlugField(serializers.SlugRelatedField):
    """A region named by its slug; with many=True, the whole list in one query."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", queryset=Region.objects.all(), **kwargs)

    @classmethod
    def many_init(cls, *args, **kwargs):
        return related_list(cls, args, kwargs)

    def to_internal_value(self, data):
        # PostgreSQL refuses a NUL character in a query (a 500 otherwise); it names no region.
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)

    def lookup_key(self, item) -> str:
        if isinstance(item, str):
            return item
        if isinstance(item, int | float) and not isinstance(item, bool):
            return str(item)  # names no region, as a slug of its digits would not
        self.fail("invalid")

    def fetch(self, keys: list[str]) -> dict:
        keys = [key for key in keys if "\x00" not in key]
        return {region.slug: region for region in Region.objects.filter(slug__in=keys)} if keys else {}

    def fail_missing(self, item) -> NoReturn:
        self.fail("does_not_exist", slug_name=self.slug_field, value=item)


@extend_schema_field(OpenApiTypes.INT)
class OwnedMonitorField(BulkPrimaryKeyField):
    """A monitor id of the requesting user's; any other id is "invalid", whoever owns it."""

    def get_queryset(self):
        return Monitor.objects.owned_by(acting(self.context["request"]).organization)


# The numeric settings: each has one rule, with one message, in monitors.validation.
NUMBER_FIELDS = (*range_rules(), "quorum")


class MonitorSerializer(serializers.ModelSerializer):
    url = serializers.CharField(max_length=MAX_URL_LENGTH)
    regions = RegionSlugField(many=True, allow_empty=False)
    # Omitted on create: the organization's default channels.
    channels = OwnedChannelField(many=True, required=False)
    # Omitted on create: none. Rules (same organization, no cycles, ...): monitors.validation.
    parents = OwnedMonitorField(many=True, required=False)

    auth_password_set = serializers.SerializerMethodField()
    tls_expiry_warning = serializers.SerializerMethodField()

    class Meta:
        model = Monitor
        fields = [
            "id",
            *services.EDITABLE_FIELDS,
            "regions",
            "channels",
            "parents",
            "status",
            "status_changed_at",
            "last_checked_at",
            "late_regions",
            "auth_password_set",
            "tls_expires_at",
            "tls_expiry_warning",
            # Read-only: the key of the monitor's public badge URLs (/badge/<key>/status.svg).
            "badge_key",
            "created_at",
            "updated_at",
        ]
        # Everything people do not edit is decided by the system.
        read_only_fields = [
            name for name in fields if name not in (*services.EDITABLE_FIELDS, "regions", "channels", "parents")
        ]
        extra_kwargs = {
            # Write-only: it is sent to the target, never shown; an update without it keeps it.
            "auth_password": {"write_only": True, "trim_whitespace": False},
            "request_body": {"trim_whitespace": False},
            "keyword": {"trim_whitespace": False},
            # The ranges are monitors.validation's, checked in `validate` with its messages
            # (see get_fields), not the database columns' limits.
            **{name: {"min_value": None, "max_value": None} for name in NUMBER_FIELDS},
        }

    def get_fields(self):
        fields = super().get_fields()
        # A value that is no whole number gets the same one message as one out of range.
        for name, message in number_messages().items():
            fields[name].error_messages.update(invalid=message, max_string_length=message)
        return fields

    def get_auth_password_set(self, monitor: Monitor) -> bool:
        return bool(monitor.auth_password)

    def get_tls_expiry_warning(self, monitor: Monitor) -> bool:
        return tls_expiry_warning(monitor, timezone.now())

    def to_representation(self, monitor):
        # Both read-only maintenance fields come from one look at the monitor's windows
        # (prefetched by the list), judged at the time of the request.
        data = super().to_representation(monitor)
        now = timezone.now()
        occurrence = maintenance.monitor_maintenance(monitor, now)
        data["in_maintenance"] = occurrence is not None and occurrence.is_current(now)
        # From the hourly rollups, annotated on the list's queryset: one query per page.
        data["uptime_24h_percent"] = uptime_24h_percent(monitor)
        data["maintenance"] = None
        if occurrence is not None:
            data["maintenance"] = {
                "window": occurrence.window.pk,
                "name": occurrence.window.name,
                "starts_at": serializers.DateTimeField().to_representation(occurrence.starts_at),
                "ends_at": serializers.DateTimeField().to_representation(occurrence.ends_at),
            }
        return data

    def validate(self, attrs):
        if attrs.get("auth_username") == "" and "auth_password" not in attrs:
            # Clearing the username clears the stored password with it.
            attrs["auth_password"] = ""
        # Rules that relate fields (timeout below the interval, ...) need the whole
        # monitor: for a PATCH, the stored values fill in what the request leaves out.
        current = self.instance
        values = {
            # These names are fields, not relations: the cast lets get_default through.
            name: attrs.get(
                name, getattr(current, name) if current else cast(Field, Monitor._meta.get_field(name)).get_default()
            )
            for name in RULE_FIELDS
        }
        regions = attrs.get("regions", list(current.regions.all()) if current else [])
        values["quorum"] = attrs.get("quorum", current.quorum if current else None)
        values["region_count"] = len(regions)
        # What the edit leaves as stored is not judged again by rules the deployment may
        # have tightened since (a URL now refused): the monitor can still be paused.
        stored = {name: getattr(current, name) for name in RULE_FIELDS} if current else None
        errors = self.rule_errors(values, stored)
        if "parents" in attrs:
            organization_id = current.organization_id if current else acting(self.context["request"]).organization.pk
            errors.update(self.parent_errors(current.pk if current else None, organization_id, attrs["parents"]))
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    # Hooks for the bulk create (monitors/api/bulk.py), which judges what needs a query or
    # a DNS lookup once per request rather than once per monitor.
    def rule_errors(self, values: dict, stored: dict | None) -> dict[str, str]:
        return monitor_errors(values, stored)

    def parent_errors(self, monitor_id: int | None, organization_id: int, parents: list[Monitor]) -> dict[str, str]:
        return parent_errors(monitor_id, organization_id, parents)

    def create(self, validated_data):
        regions = validated_data.pop("regions")
        channels = validated_data.pop("channels", None)
        parents = validated_data.pop("parents", None)
        try:
            return services.create_monitor(
                acting(self.context["request"]).organization, regions, channels, parents, **validated_data
            )
        except services.MonitorQuotaExceeded as exc:
            raise PermissionDenied(str(exc)) from None

    def update(self, instance, validated_data):
        regions = validated_data.pop("regions", None)
        channels = validated_data.pop("channels", None)
        parents = validated_data.pop("parents", None)
        return services.update_monitor(instance, regions, channels, parents, **validated_data)


class DigitsField(serializers.IntegerField):
    """A whole number in a query string, written in digits only ("1.0" or "+5" is none)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and not re.fullmatch(r"[0-9]+", data):
            self.fail("invalid")
        return super().to_internal_value(data)


class MonitorFilterSerializer(QueryParameters):
    """The query parameters of the monitor list. A value it does not know is a 400 naming
    the parameter, never silently ignored."""

    status = serializers.ChoiceField(choices=Monitor.Status.choices, required=False)
    region = RegionSlugField(required=False, help_text="A region slug: the monitors checked from it.")
    kind = serializers.ChoiceField(choices=Monitor.Kind.choices, required=False)
    # default=None: a query string without it means "either", not false.
    is_active = serializers.BooleanField(required=False, allow_null=True, default=None)
    search = serializers.CharField(required=False, max_length=200, help_text="Text in the name or URL, ignoring case.")
    ordering = serializers.ChoiceField(
        choices=[order for name in MONITOR_ORDERINGS for order in (name, f"-{name}")],
        required=False,
        help_text=f"`-` reverses; `status` is worst first ({', '.join(STATUS_SEVERITY)}). Default `id`.",
    )
    page_size = DigitsField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        help_text=f"Monitors per page, 1 to {MAX_PAGE_SIZE}; default {api_settings.PAGE_SIZE}.",
        error_messages={
            message: f"page_size must be a whole number from 1 to {MAX_PAGE_SIZE}."
            for message in ("invalid", "min_value", "max_value", "max_string_length")
        },
    )

    def filters(self) -> dict:
        """The validated filters, as MonitorQuerySet.listed takes them."""
        return {name: value for name, value in self.validated_data.items() if name != "page_size"}


class MaintenanceWindowSerializer(serializers.ModelSerializer):
    monitors = OwnedMonitorField(many=True, allow_empty=False, error_messages={"empty": "Choose at least one monitor."})

    class Meta:
        model = MaintenanceWindow
        fields = ["id", "name", "monitors", "starts_at", "ends_at", "recurrence", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate(self, attrs):
        # For a PATCH, the stored values fill in what the request leaves out.
        current = self.instance
        values = {name: attrs.get(name, getattr(current, name, None)) for name in ("starts_at", "ends_at")}
        recurrence = attrs.get("recurrence", current.recurrence if current else MaintenanceWindow.Recurrence.NONE)
        errors = maintenance.window_errors(values["starts_at"], values["ends_at"], recurrence)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def to_representation(self, window):
        data = super().to_representation(window)
        now = timezone.now()
        occurrence = window.occurrence(now)
        data["active"] = occurrence is not None and occurrence[0] <= now
        # The occurrence in force, else the next one; null once a one-off window is over.
        data["occurrence"] = None
        if occurrence is not None:
            data["occurrence"] = {
                "starts_at": serializers.DateTimeField().to_representation(occurrence[0]),
                "ends_at": serializers.DateTimeField().to_representation(occurrence[1]),
            }
        return data

    def create(self, validated_data):
        monitors = validated_data.pop("monitors")
        return maintenance.create_window(acting(self.context["request"]).organization, monitors, **validated_data)

    def update(self, instance, validated_data):
        monitors = validated_data.pop("monitors", None)
        return maintenance.update_window(instance, monitors, **validated_data)


class MonitorSchema(OpenApiSerializerExtension):
    """The OpenAPI document gives the ranges monitors.validation enforces (in `validate`,
    where the rules that relate fields live), not just the database columns' ranges."""

    target_class = MonitorSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        for name, (minimum, maximum) in range_rules().items():
            schema["properties"][name].update(minimum=minimum, maximum=maximum)
        if direction == "request":
            schema["properties"]["quorum"]["minimum"] = 1
        schema["properties"]["url"]["format"] = "uri"
        return schema


class RelatedListSchema(OpenApiSerializerFieldExtension):
    """The OpenAPI document gives the longest list a request may send."""

    target_class = RelatedList

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["maxItems"] = MAX_LIST_ITEMS
        return schema
