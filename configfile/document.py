"""Reading a config file: YAML (or JSON) to a document with the line of every value, the
types of every key checked against format.py, and secrets read from the environment."""

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import yaml
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ParseError

from monitors.validation import number_messages
from notifications.validation import REMINDER_MINUTES_MESSAGE
from uptime.parsers import TOO_DEEP, refuse_too_deep_or_not_unicode

from .format import (
    MONITOR_DEFAULT_KEYS,
    SECTIONS,
    TOP_LEVEL_KEYS,
    VERSION,
    ConfigError,
    ConfigInvalid,
    Key,
    Lines,
    item_label,
    keys_by_name,
)

# libyaml when the wheel has it (it does on the usual platforms): parsing is most of a
# large file's plan otherwise.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SECRET_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Where secrets may stand: (section, key).
SECRET_KEYS = [(section, key.name) for section, (keys, _) in SECTIONS.items() for key in keys if key.secret]


def _whole_number_message(key: str) -> str:
    # Made when asked: the interval's range follows the settings (MONITOR_MIN_INTERVAL_SECONDS).
    return {**number_messages(), "reminder_minutes": REMINDER_MINUTES_MESSAGE}.get(key, "Give a whole number.")


def load(text: str, *, as_json: bool = False) -> tuple[Any, Lines]:
    """The document and where its values were (YAML only). Syntax errors raise ConfigInvalid."""
    if as_json:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigInvalid([ConfigError("", "", f"Not valid JSON: {exc}")]) from None
        except RecursionError:
            # Thousands of levels: the decoder gives up before the walk below could count them.
            raise ConfigInvalid([ConfigError("", "", TOO_DEEP)]) from None
        lines = Lines()
    else:
        data, lines = _load_yaml(text)
    try:
        refuse_too_deep_or_not_unicode(data)
    except ParseError as exc:
        raise ConfigInvalid([ConfigError("", "", str(exc.detail))]) from None
    return data, lines


def _load_yaml(text: str) -> tuple[Any, Lines]:
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines = Lines()
        if node is not None:
            _record_lines(node, lines.at)
        return (loader.construct_document(node) if node is not None else None), lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigInvalid([ConfigError("", "", f"Not valid YAML: {exc.problem or exc.context}", line)]) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise ConfigInvalid([ConfigError("", "", f"Not valid YAML: {exc}")]) from None
    finally:
        loader.dispose()


class _Alias(Exception):
    def __init__(self, line: int):
        self.line = line


def _record_lines(root: yaml.Node, at: dict[tuple, int]) -> None:
    """The line of every key and list item, without recursion. An anchor used again (`*x`)
    is refused: the same node would be walked once per use, which a crafted file makes
    exponential; `defaults` is this format's way to share values."""
    seen: set[int] = set()
    pending: list[tuple[yaml.Node, tuple]] = [(root, ())]
    scalar = yaml.ScalarNode
    while pending:
        node, path = pending.pop()
        if id(node) in seen:
            line = node.start_mark.line + 1
            raise ConfigInvalid([ConfigError("", "", "Anchors used again (*name) are not read; use defaults.", line)])
        seen.add(id(node))
        # Scalars are recorded where they stand and not walked: most of a file's nodes.
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = (*path, key_node.value)
                at[key] = key_node.start_mark.line + 1
                if not isinstance(value_node, scalar):
                    pending.append((value_node, key))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                at[(*path, index)] = item.start_mark.line + 1
                if not isinstance(item, scalar):
                    pending.append((item, (*path, index)))


# --- types -----------------------------------------------------------------------------------


def check_types(data: Any, lines: Lines) -> tuple[list[ConfigError], set[tuple[str, int]]]:
    """Every key of the document checked against the format: (errors, the items that have
    one, which the rules of the plan then leave alone)."""
    errors: list[ConfigError] = []
    bad_items: set[tuple[str, int]] = set()
    if not isinstance(data, dict):
        return [ConfigError("", "", "The file must be a mapping with version, channels, monitors, ...")], bad_items
    for name in data:
        if name not in TOP_LEVEL_KEYS:
            errors.append(
                ConfigError(str(name), "", f"Unknown key; the file has {', '.join(TOP_LEVEL_KEYS)}.", lines.line(name))
            )
    if data.get("version") != VERSION:
        errors.append(ConfigError("version", "", f"Give version: {VERSION}.", lines.line("version")))
    defaults = data.get("defaults")
    if defaults is not None:
        if not isinstance(defaults, dict) or set(defaults) - {"monitor"}:
            errors.append(ConfigError("defaults", "", "defaults has one key, monitor.", lines.line("defaults")))
        elif defaults.get("monitor") is not None:
            found = _check_object(
                defaults["monitor"],
                keys_by_name(MONITOR_DEFAULT_KEYS),
                ("defaults", "monitor"),
                lines,
                "defaults.monitor",
                required=False,
            )
            if found:
                errors += found
                bad_items.add(("defaults", -1))
    for section, (keys, key_name) in SECTIONS.items():
        items = data.get(section)
        if items is None:
            continue
        if not isinstance(items, list):
            errors.append(ConfigError(section, "", "Give a list of items.", lines.line(section)))
            continue
        known = keys_by_name(keys)
        first: dict[Any, int] = {}
        for index, item in enumerate(items):
            label = item_label(section, index, item.get(key_name) if isinstance(item, dict) else None)
            found = _check_object(item, known, (section, index), lines, label)
            if not found and item[key_name] in first:
                other = first[item[key_name]]
                message = f"Also the {key_name} of {section}[{other}]: each {key_name} is given once."
                found.append(ConfigError(label, key_name, message, lines.line(section, index, key_name)))
            if found:
                errors += found
                bad_items.add((section, index))
            else:
                first.setdefault(item[key_name], index)
    return errors, bad_items


def _check_object(
    item: Any, known: dict[str, Key], path: tuple, lines: Lines, label: str, required: bool = True
) -> list[ConfigError]:
    if not isinstance(item, dict):
        return [ConfigError(label, "", "Give a mapping of keys and values.", lines.line(*path))]
    errors = []
    for name, value in item.items():
        key = known.get(name)
        if key is None:
            unknown = f"Unknown key; known keys: {', '.join(known)}."
            errors.append(ConfigError(label, str(name), unknown, lines.line(*path, name)))
        elif (message := _type_error(key, value, (*path, name), lines, label, errors)) is not None:
            errors.append(ConfigError(label, name, message, lines.line(*path, name)))
    if required:
        for key in known.values():
            if key.required and key.name not in item and key.name != "regions":
                errors.append(ConfigError(label, key.name, "Required.", lines.line(*path)))
    return errors


def _type_error(key: Key, value: Any, path: tuple, lines: Lines, label: str, errors: list) -> str | None:
    """What is wrong with the value's type (or, for a datetime, makes it one in place)."""
    if value is None:
        return None if key.nullable else "Give a value (null is not one here)."
    if key.type == "string":
        if not isinstance(value, str):
            return "Give a string (quote it)."
        return _string_error(key, value)
    if key.type == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return _whole_number_message(key.name)
        return None
    if key.type == "boolean":
        return None if isinstance(value, bool) else "Give true or false."
    if key.type == "headers":
        return None if isinstance(value, dict) else 'Give the headers as a mapping, {"name": "value"}.'
    if key.type == "names":
        if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
            return "Give a list of names."
        if len(set(value)) != len(value):
            return "A name is given twice."
        return None
    if key.type == "datetime":
        return _datetime_error(value)
    if key.type in ("sections", "components"):
        if not isinstance(value, list):
            return "Give a list."
        from .format import COMPONENT_KEYS, SECTION_KEYS

        nested = keys_by_name(SECTION_KEYS if key.type == "sections" else COMPONENT_KEYS)
        for index, item in enumerate(value):
            where = f"{path[-1]}[{index}]"
            errors += [
                ConfigError(label, f"{where}.{error.field}" if error.field else where, error.message, error.line)
                for error in _check_object(item, nested, (*path, index), lines, label)
            ]
        return None
    raise ValueError(f"unknown key type {key.type}")


def _string_error(key: Key, value: str) -> str | None:
    if "\x00" in value:
        return "Null characters are not allowed."
    if key.max_length is not None and len(value) > key.max_length:
        return f"At most {key.max_length} characters."
    if key.choices and value not in key.choices:
        return f"One of: {', '.join(key.choices)}."
    if key.pattern and not re.match(key.pattern, value):
        return "Letters, digits, hyphens and underscores only."
    return None


def _datetime_error(value: Any) -> str | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, str) and "\x00" not in value and parse_datetime(value) is not None:
        return None
    if isinstance(value, date):
        return "Give a date and a time, like 2026-12-08T02:00:00Z."
    return "Give a date and time in ISO 8601, like 2026-12-08T02:00:00Z."


def as_datetime(value: datetime | str) -> datetime:
    """A checked datetime value, timezone-aware (one without a zone is UTC, as in the API)."""
    parsed = value if isinstance(value, datetime) else parse_datetime(value)
    assert parsed is not None  # check_types refused it otherwise
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# --- secrets ---------------------------------------------------------------------------------


def read_secrets(data: dict, lines: Lines, environ: Mapping[str, str] | None) -> list[ConfigError]:
    """Put each ${NAME} in a secret key's value in place from `environ` (the CLI's
    environment); with none (the API), a ${...} is an error: values are given as they are."""
    errors = []
    places: list[tuple[dict, str, str, tuple]] = []
    default = (data.get("defaults") or {}).get("monitor")
    if isinstance(default, dict) and isinstance(default.get("auth_password"), str):
        places.append((default, "auth_password", "defaults.monitor", ("defaults", "monitor", "auth_password")))
    for section, name in SECRET_KEYS:
        for index, item in enumerate(data.get(section) or []):
            if isinstance(item, dict) and isinstance(item.get(name), str):
                places.append((item, name, item_label(section, index, item.get("name")), (section, index, name)))
    for item, name, label, path in places:
        value = item[name]
        if "${" not in value:
            continue
        if environ is None:
            message = "${...} is read from the environment by the command line only; give the value itself."
            errors.append(ConfigError(label, name, message, lines.line(*path)))
            continue
        missing = [ref for ref in SECRET_REFERENCE.findall(value) if ref not in environ]
        if missing:
            message = f"The environment variable {', '.join(missing)} is not set."
            errors.append(ConfigError(label, name, message, lines.line(*path)))
            continue
        item[name] = SECRET_REFERENCE.sub(lambda match: environ[match[1]], value)
    return errors
