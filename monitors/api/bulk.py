"""The bulk create's request, `{"monitors": [...]}`: each item judged exactly as a single
create's body (MonitorSerializer), with what needs the database or DNS done once per
request rather than once per monitor: 10,000 items make as many queries as one, and one
DNS lookup per distinct host."""

import contextlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import NoReturn, cast
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Field
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.serializers import as_serializer_error

from accounts.actors import acting
from audit.recording import LOGGED_NAMES, record
from monitors import bulk, services
from monitors.models import Monitor, Region
from monitors.validation import RULE_FIELDS
from probe.guard import private_address_error
from probe.urls import url_error as probe_url_error

from .serializers import MonitorSerializer, OwnedChannelField, OwnedMonitorField, RegionSlugField

# The most monitors one request may create (each one as a single create's body). With every
# optional setting left out, 10,000 make a body of about 1.5 MB: REQUEST_MAX_BYTES must
# allow it (docs/api.md).
MAX_BULK_MONITORS = 10_000
# DNS lookups of the address guard run side by side: each is mostly a wait.
URL_CHECK_THREADS = 16


_MESSAGES = {"type": "array", "items": {"type": "string"}}
# The 400 of a bulk create, for the OpenAPI document: under `monitors`, one object per item
# (a single create's 400 for it, `{}` if good), or the messages about the list itself.
BULK_ERRORS = {
    "type": "object",
    "properties": {
        "monitors": {
            "anyOf": [_MESSAGES, {"type": "array", "items": {"type": "object", "additionalProperties": _MESSAGES}}]
        }
    },
    "additionalProperties": {"oneOf": [_MESSAGES, {"type": "string"}]},
    "example": {
        "monitors": [{}, {"interval_seconds": ["Interval must be a whole number of seconds from 30 to 86400."]}]
    },
}


class _Prefetched:
    """A related field whose objects the request read once for every item (in the
    context's "prefetched", by `kind`): what is not there does not exist, or is not the
    user's, with the message a single create gives."""

    kind: str
    context: dict

    def fetch(self, keys: list) -> dict:
        known = self.context["prefetched"][self.kind]
        return {key: known[key] for key in keys if key in known}


class PrefetchedRegionField(_Prefetched, RegionSlugField):
    kind = "regions"


class PrefetchedChannelField(_Prefetched, OwnedChannelField):
    kind = "channels"


class PrefetchedParentField(_Prefetched, OwnedMonitorField):
    kind = "parents"


class _Unequal:
    """A stored value no value equals: monitor_errors judges every rule it gates on a change."""

    def __eq__(self, other: object) -> bool:
        return False

    def __ne__(self, other: object) -> bool:
        return True

    __hash__ = None  # type: ignore[assignment]


class BulkMonitorItemSerializer(MonitorSerializer):
    """One monitor of a bulk create. The same fields and rules as MonitorSerializer; its
    `validate` leaves its errors (all but the URL's, which the request judges for every
    item at once, side by side) in `deferred_errors` rather than raising them."""

    regions = PrefetchedRegionField(many=True, allow_empty=False)
    channels = PrefetchedChannelField(many=True, required=False)
    parents = PrefetchedParentField(many=True, required=False)

    deferred_errors: dict[str, list]

    def validate(self, attrs):
        self.deferred_errors = {}
        try:
            return super().validate(attrs)
        except serializers.ValidationError as exc:
            # Kept, with the URL's still to come, so the item gets every message at once.
            self.deferred_errors = as_serializer_error(exc)
            return attrs

    def rule_errors(self, values: dict, stored: dict | None) -> dict[str, str]:
        # Every rule but the URL's (the stored URL and kind given as the values are).
        unequal = _Unequal()
        stored = {name: unequal for name in RULE_FIELDS} | {"url": values["url"], "kind": values["kind"]}
        return super().rule_errors(values, stored)

    def parent_errors(self, monitor_id: int | None, organization_id: int, parents: list[Monitor]) -> dict[str, str]:
        judged = self.context["parent_errors"]
        key = frozenset(parent.pk for parent in parents)
        if key not in judged:
            judged[key] = super().parent_errors(monitor_id, organization_id, parents)
        return judged[key]


class BulkMonitorsSerializer(serializers.Serializer):
    """`{"monitors": [...]}`: up to MAX_BULK_MONITORS monitors, created all or none. A
    refusal lists one object per item, in order: `{}` for a good one, else its fields'
    messages, as a single create would give them."""

    monitors = BulkMonitorItemSerializer(many=True)

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            self._fail(f"Send an object with a list of monitors, not {type(data).__name__}.", key="non_field_errors")
        items = data.get("monitors")
        if not isinstance(items, list):
            self._fail('Give "monitors": a list of monitors, each as a single create takes it.')
        if not items:
            self._fail("Give at least one monitor.")
        if len(items) > MAX_BULK_MONITORS:
            self._fail(f"Give at most {MAX_BULK_MONITORS} monitors per request; this has {len(items)}.")
        child: BulkMonitorItemSerializer = self.fields["monitors"].child  # type: ignore[attr-defined]
        context = cast(dict, self.context)  # the dict given to the serializer
        context["prefetched"] = self._prefetch(child, items)
        context["parent_errors"] = {}
        validated: list[dict | None] = []
        errors: list[dict] = []
        for item in items:
            try:
                attrs = child.run_validation(item)
            except serializers.ValidationError as exc:
                validated.append(None)
                errors.append(as_serializer_error(exc))  # a null item's message, too, under a field name
            else:
                validated.append(attrs)
                errors.append(child.deferred_errors)
        self._add_url_errors(validated, errors)
        if any(errors):
            raise serializers.ValidationError({"monitors": errors})
        return {"monitors": validated}

    def _fail(self, message: str, key: str = "monitors") -> NoReturn:
        raise serializers.ValidationError({key: [message]})

    def _prefetch(self, child: BulkMonitorItemSerializer, items: list) -> dict[str, dict]:
        """Every region, and the user's channels and monitors that any item names, each in
        one query. Items are raw here: what is no id is left to the field to refuse."""
        prefetched: dict[str, dict] = {"regions": {region.slug: region for region in Region.objects.all()}}
        for name in ("channels", "parents"):
            field: _Prefetched = child.fields[name].child_relation  # type: ignore[attr-defined]
            keys = set()
            for item in items:
                given = item.get(name) if isinstance(item, Mapping) else None
                for value in given if isinstance(given, list) else ():
                    # What is no id the field refuses, with its message, when the item is judged.
                    with contextlib.suppress(serializers.ValidationError):
                        keys.add(field.lookup_key(value))  # type: ignore[attr-defined]
            # The field's own query (scoped to the user), past the prefetched lookup.
            prefetched[name] = super(_Prefetched, field).fetch(list(keys))  # type: ignore[misc]
        return prefetched

    def _add_url_errors(self, validated: list[dict | None], errors: list[dict]) -> None:
        default_kind = Field.get_default(Monitor._meta.get_field("kind"))
        targets = [
            (attrs["url"], attrs.get("kind", default_kind)) if attrs is not None else None for attrs in validated
        ]
        verdicts = url_errors({target for target in targets if target is not None})
        for target, item_errors in zip(targets, errors, strict=True):
            if target is not None and (message := verdicts[target]):
                item_errors["url"] = [message]

    def create(self, validated_data):
        specs = []
        for attrs in validated_data["monitors"]:
            spec = dict(attrs)
            spec.setdefault("channels", None)
            specs.append(spec)
        organization = acting(self.context["request"]).organization
        try:
            monitors = bulk.create_monitors(organization, specs)
        except services.MonitorQuotaExceeded as exc:
            raise PermissionDenied(str(exc)) from None
        # Written by COPY, past the model signals: logged here, once for the batch.
        names = [monitor.name for monitor in monitors[:LOGGED_NAMES]]
        record(organization.pk, "created", "monitors", changes={"count": len(monitors), "names": names})
        return monitors


def url_errors(targets: set[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
    """{(url, kind): message or None}: monitors.validation.url_error's verdict on each, its
    address guard's DNS lookup made once per host and port (10,000 monitors may name a few
    hundred hosts), side by side (each lookup is mostly a wait).

    url_error is probe.urls.url_error's shape rules, then, unless private targets are
    allowed, probe.guard.private_address_error, which reads nothing of the URL but its host
    and port: the same two steps, in the same order, as here.
    """
    shape = {
        target: probe_url_error(target[0], tcp=target[1] == Monitor.Kind.TCP, allow_private=True) for target in targets
    }
    if settings.ALLOW_PRIVATE_TARGETS:
        return shape
    hosts: dict[tuple, str] = {}
    for (url, _), message in shape.items():
        if message is None:
            hosts.setdefault(_host_and_port(url), url)
    with ThreadPoolExecutor(max_workers=max(1, min(URL_CHECK_THREADS, len(hosts)))) as pool:
        guarded = dict(zip(hosts, pool.map(private_address_error, hosts.values()), strict=True))
    return {target: message or guarded[_host_and_port(target[0])] for target, message in shape.items()}


def _host_and_port(url: str) -> tuple[str | None, int]:
    parts = urlsplit(url)  # the shape rules have passed: it parses, with a valid port
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
