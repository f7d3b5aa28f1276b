"""The config file's JSON Schema (draft 2020-12), made from format.py: served at
/api/config/schema and committed as docs/config.schema.json (a test holds them equal)."""

import json

from monitors.validation import MAX_INTERVAL_SECONDS, range_rules
from notifications.validation import MAX_REMINDER_MINUTES

from .format import (
    CHANNEL_KEYS,
    COMPONENT_KEYS,
    MONITOR_DEFAULT_KEYS,
    MONITOR_KEYS,
    PAGE_KEYS,
    SECTION_KEYS,
    VERSION,
    WINDOW_KEYS,
    Key,
)

DRAFT = "https://json-schema.org/draft/2020-12/schema"
# Each item's kind, as named in $defs.
ITEM_DEFS = {"channels": "channel", "monitors": "monitor", "maintenance_windows": "maintenance_window"}


def _ranges() -> dict[str, tuple[int, int | None]]:
    ranges: dict[str, tuple[int, int | None]] = dict(range_rules())
    # The shortest interval is a deployment's setting, not the format's: the schema is the
    # same everywhere, and apply refuses an interval below the setting.
    ranges["interval_seconds"] = (1, MAX_INTERVAL_SECONDS)
    ranges["reminder_minutes"] = (0, MAX_REMINDER_MINUTES)
    ranges["quorum"] = (1, None)
    return ranges


def _key_schema(key: Key, ranges: dict) -> dict:
    schema: dict = {"description": key.help}
    if key.type == "string":
        schema["type"] = "string"
        if key.max_length:
            schema["maxLength"] = key.max_length
        if key.choices:
            schema["enum"] = list(key.choices)
        if key.pattern:
            schema["pattern"] = key.pattern
    elif key.type == "integer":
        schema["type"] = "integer"
        minimum, maximum = ranges.get(key.name, (0, None))
        schema["minimum"] = minimum
        if maximum is not None:
            schema["maximum"] = maximum
    elif key.type == "boolean":
        schema["type"] = "boolean"
    elif key.type == "headers":
        schema.update(type="object", additionalProperties={"type": "string"})
    elif key.type == "names":
        schema.update(type="array", items={"type": "string"}, uniqueItems=True)
    elif key.type == "datetime":
        schema.update(type="string", format="date-time")
    elif key.type == "components":
        schema.update(type="array", items={"$ref": "#/$defs/component"})
    elif key.type == "sections":
        schema.update(type="array", items={"$ref": "#/$defs/section"})
    else:
        raise ValueError(f"no schema for the key type {key.type}")
    if key.nullable:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"].append(None)
    if not key.required and (key.default is not None or key.nullable):
        schema["default"] = key.default
    return schema


def _object(keys: tuple[Key, ...], ranges: dict, *, all_optional: bool = False) -> dict:
    schema: dict = {
        "type": "object",
        "additionalProperties": False,
        "properties": {key.name: _key_schema(key, ranges) for key in keys},
    }
    required = [] if all_optional else [key.name for key in keys if key.required]
    if required:
        schema["required"] = required
    return schema


def config_schema() -> dict:
    ranges = _ranges()
    monitor = _object(MONITOR_KEYS, ranges)
    # regions may come from defaults.monitor instead; apply says so when neither gives them.
    monitor["required"] = [name for name in monitor["required"] if name != "regions"]
    return {
        "$schema": DRAFT,
        "title": "Uptime config file",
        "description": "Monitors, channels, maintenance windows and status pages, referred to by name "
        "(docs/config-file.md).",
        "type": "object",
        "additionalProperties": False,
        "required": ["version"],
        "properties": {
            "version": {"const": VERSION, "description": "The format's version."},
            "defaults": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "monitor": {
                        **_object(MONITOR_DEFAULT_KEYS, ranges, all_optional=True),
                        "description": "Values for every monitor; a monitor's own value wins.",
                    }
                },
            },
            **{section: {"type": "array", "items": {"$ref": f"#/$defs/{name}"}} for section, name in ITEM_DEFS.items()},
            "status_pages": {"type": "array", "items": {"$ref": "#/$defs/status_page"}},
        },
        "$defs": {
            "channel": _object(CHANNEL_KEYS, ranges),
            "monitor": monitor,
            "maintenance_window": _object(WINDOW_KEYS, ranges),
            "status_page": _object(PAGE_KEYS, ranges),
            "section": _object(SECTION_KEYS, ranges),
            "component": _object(COMPONENT_KEYS, ranges),
        },
    }


def schema_text() -> str:
    """The schema as committed in docs/config.schema.json."""
    return json.dumps(config_schema(), indent=2) + "\n"
