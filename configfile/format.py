"""The config file's format, version 1: every section and key with its type, default and
meaning. The parser's type checks, the plan's defaults, export and the JSON Schema
(schema.py) all read it from here, and take lengths, choices and defaults from the models."""

from dataclasses import dataclass, field
from typing import Any, cast

from django.db import models

from monitors.models import MaintenanceWindow, Monitor
from notifications.models import Channel
from probe.urls import MAX_URL_LENGTH
from statuspages.models import Component, Section, StatusPage

VERSION = 1
# A key without a default must be given.
REQUIRED = object()


@dataclass(frozen=True)
class Key:
    name: str
    # string, integer, boolean, headers ({name: value}), names (a list of strings),
    # datetime, sections (a status page's)
    type: str
    help: str
    default: Any = REQUIRED
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    nullable: bool = False
    # Never printed by plan or export: read from the environment by the CLI (${NAME}).
    secret: bool = False
    pattern: str | None = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


def model_key(model: type[models.Model], name: str, type_: str, help: str = "", **overrides) -> Key:
    """A key that is the model field `name`: its default, choices, length and help text."""
    column = cast(models.Field, model._meta.get_field(name))
    found: dict[str, Any] = {
        "choices": tuple(value for value, _ in column.choices or ()),
        "max_length": column.max_length if type_ == "string" else None,
        "nullable": column.null,
    }
    if column.has_default():
        found["default"] = column.get_default()
    elif column.null:
        found["default"] = None
    elif column.blank and type_ == "string":
        found["default"] = ""
    return Key(name, type_, help or str(column.help_text), **(found | overrides))


def _monitor(name: str, type_: str, help: str = "", **overrides) -> Key:
    return model_key(Monitor, name, type_, help, **overrides)


MONITOR_KEYS = (
    _monitor("name", "string", "The monitor's key: unique among the file's monitors."),
    _monitor("kind", "string", "http, or tcp for a TCP port check."),
    _monitor("url", "string", max_length=MAX_URL_LENGTH, default=REQUIRED),
    _monitor("method", "string"),
    _monitor("interval_seconds", "integer", "Seconds between checks."),
    _monitor("timeout_seconds", "integer", "Seconds one attempt may take."),
    _monitor("retries", "integer", "Attempts after a failed one, within the same check."),
    _monitor("retry_interval_seconds", "integer", "Seconds between attempts."),
    _monitor("expected_status", "string"),
    _monitor("follow_redirects", "boolean"),
    _monitor("request_headers", "headers", default={}),
    _monitor("request_body", "string"),
    _monitor("request_content_type", "string"),
    _monitor("auth_username", "string"),
    _monitor("auth_password", "string", "HTTP basic auth password (a secret).", secret=True),
    _monitor("keyword", "string"),
    _monitor("keyword_mode", "string", "present or absent: whether the keyword must be in the body."),
    _monitor("tls_expiry_warning_days", "integer"),
    Key("regions", "names", "Region slugs to check from (at least one).", default=REQUIRED),
    _monitor("quorum", "integer"),
    Key("parents", "names", "Names of monitors in the file this one depends on.", default=[]),
    _monitor("failures_before_down", "integer"),
    _monitor("successes_before_up", "integer"),
    Key("paused", "boolean", "A paused monitor is not checked.", default=False),
    Key(
        "channels",
        "names",
        "Names of channels in the file it alerts. Left out: a new monitor alerts the default "
        "channels, an existing one keeps its channels.",
        default=None,
    ),
)

CHANNEL_KEYS = (
    model_key(Channel, "name", "string", "The channel's key: unique among the file's channels."),
    model_key(Channel, "kind", "string", "webhook, email, slack or apprise.", default=REQUIRED),
    model_key(Channel, "url", "string", "Where a webhook or Slack channel posts."),
    model_key(Channel, "email", "string", "Where an email channel writes."),
    model_key(Channel, "apprise_url", "string", "An Apprise channel's URL (a secret).", secret=True),
    model_key(Channel, "is_default", "boolean"),
    model_key(Channel, "reminder_minutes", "integer"),
)

WINDOW_KEYS = (
    model_key(MaintenanceWindow, "name", "string", "The window's key: unique among the file's windows."),
    Key("monitors", "names", "Names of monitors in the file it covers (at least one)."),
    model_key(MaintenanceWindow, "starts_at", "datetime", "ISO 8601, with a time zone (Z for UTC)."),
    model_key(MaintenanceWindow, "ends_at", "datetime", "ISO 8601, after starts_at."),
    model_key(MaintenanceWindow, "recurrence", "string", "none (once) or weekly."),
)

COMPONENT_KEYS = (
    Key("monitor", "string", "The name of a monitor in the file."),
    model_key(Component, "name", "string", "The name shown; the monitor's name if left out.", default=None),
)
SECTION_KEYS = (
    model_key(Section, "name", "string", "The section's heading (may be empty)."),
    Key("components", "components", "The monitors shown in this section, in order.", default=[]),
)
PAGE_KEYS = (
    model_key(
        StatusPage, "slug", "string", "The page's key and address, /status/<slug>/.", pattern=r"^[-a-zA-Z0-9_]+$"
    ),
    model_key(StatusPage, "title", "string", "The page's title."),
    model_key(StatusPage, "description", "string", "Text under the title."),
    model_key(StatusPage, "show_regions", "boolean", "Show the region names to visitors."),
    model_key(StatusPage, "domain", "string", "A host name the page also answers on, or null.", default=None),
    Key("sections", "sections", "Named groups of components, in order.", default=[]),
)

# Section name: (its items' keys, the key naming an item).
SECTIONS: dict[str, tuple[tuple[Key, ...], str]] = {
    "channels": (CHANNEL_KEYS, "name"),
    "monitors": (MONITOR_KEYS, "name"),
    "maintenance_windows": (WINDOW_KEYS, "name"),
    "status_pages": (PAGE_KEYS, "slug"),
}
# What `defaults.monitor` may set: anything but the key.
MONITOR_DEFAULT_KEYS = tuple(key for key in MONITOR_KEYS if key.name != "name")
TOP_LEVEL_KEYS = ("version", "defaults", *SECTIONS)


def keys_by_name(keys: tuple[Key, ...]) -> dict[str, Key]:
    return {key.name: key for key in keys}


# --- errors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigError:
    """One problem, located: `item` is like `monitors[2] "Shop"` (an index from 0), `field`
    the key (or a path under the item), `line` the file's line when there is one."""

    item: str
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = " ".join(part for part in (self.item, self.field) if part)
        return f"{where}{f' (line {self.line})' if self.line else ''}: {self.message}"

    def as_dict(self) -> dict:
        return {"item": self.item, "field": self.field, "line": self.line, "message": self.message}


class ConfigInvalid(Exception):
    """The file cannot be applied: every error found, nothing written."""

    def __init__(self, errors: list[ConfigError]):
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


@dataclass
class Lines:
    """Where each value of a YAML file was: {("monitors", 2, "url"): 31}. Empty for a
    document that came as JSON or from code."""

    at: dict[tuple, int] = field(default_factory=dict)

    def line(self, *path) -> int | None:
        # The value's own line, else its nearest enclosing one (a missing key: its item's).
        for end in range(len(path), 0, -1):
            if (found := self.at.get(tuple(path[:end]))) is not None:
                return found
        return None


def item_label(section: str, index: int, name: Any) -> str:
    return f'{section}[{index}] "{name}"' if isinstance(name, str) and name else f"{section}[{index}]"
