"""Export: an account written in the file's format, so that applying it to an empty account
makes the same account. Keys at their default are left out; secrets are written as
${UPTIME_...} placeholders, listed at the top, unless asked for (the CLI only)."""

import re
from datetime import datetime

import yaml

from monitors.services import EDITABLE_FIELDS as MONITOR_FIELDS

from .account import Account, read_account
from .format import (
    CHANNEL_KEYS,
    MONITOR_KEYS,
    PAGE_KEYS,
    REQUIRED,
    SECTIONS,
    VERSION,
    WINDOW_KEYS,
    ConfigError,
    ConfigInvalid,
    Key,
)

SafeDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
# Always written, default or not: they say what the item is.
ALWAYS = {"kind", "url", "regions", "channels", "monitors", "starts_at", "ends_at", "title"}


def hide_secrets(document: dict) -> list[tuple[str, str]]:
    """Replace the document's secrets (channels' Apprise URLs, monitors' passwords) by
    ${UPTIME_...} placeholders, in place; the placeholders written:
    [(variable, "monitors \"Shop\" auth_password")]."""
    placeholders: list[tuple[str, str]] = []
    used: set[str] = set()
    for section, kind, key in (("channels", "CHANNEL", "apprise_url"), ("monitors", "MONITOR", "auth_password")):
        for item in document.get(section, ()):
            if not item.get(key):
                continue
            stem = re.sub(r"[^A-Z0-9]+", "_", f"UPTIME_{kind}_{item['name']}_{key}".upper()).strip("_")
            variable, n = stem, 1
            while variable in used:
                n += 1
                variable = f"{stem}_{n}"
            used.add(variable)
            placeholders.append((variable, f'{section} "{item["name"]}" {key}'))
            item[key] = f"${{{variable}}}"
    return placeholders


def export_document(organization, *, with_secrets: bool = False) -> tuple[dict, list[tuple[str, str]]]:
    """The account as a document, and the placeholders written for its secrets (none
    `with_secrets`)."""
    account = read_account(organization)
    _refuse_duplicates(account)
    channel_names = {pk: row["name"] for pk, row in account.channels.items()}
    monitor_names = {pk: row["name"] for pk, row in account.monitors.items()}
    channels = []
    for row in account.channels.values():
        channels.append(_keep(CHANNEL_KEYS, row))
    monitors = []
    for row in account.monitors.values():
        values = {name: row[name] for name in MONITOR_FIELDS if name != "is_active"}
        values.update(
            paused=not row["is_active"],
            regions=sorted(account.region_slugs[pk] for pk in row["regions"]),
            parents=sorted(monitor_names[pk] for pk in row["parents"]),
            channels=sorted(channel_names[pk] for pk in row["channels"]),
        )
        monitors.append(_keep(MONITOR_KEYS, values))
    windows = []
    for row in account.windows.values():
        values = {**row, "monitors": sorted(monitor_names[pk] for pk in row["monitors"])}
        values.update(starts_at=_time(row["starts_at"]), ends_at=_time(row["ends_at"]))
        windows.append(_keep(WINDOW_KEYS, values))
    pages = []
    for row in account.pages.values():
        sections = []
        for section in row["sections"]:
            components = []
            for component in section["components"]:
                monitor = monitor_names[component["monitor"]]
                # The monitor's name is the default: left out, it follows the monitor.
                components.append(
                    {"monitor": monitor} | ({"name": component["name"]} if component["name"] != monitor else {})
                )
            sections.append(({"name": section["name"]} if section["name"] else {}) | {"components": components})
        pages.append(_keep(PAGE_KEYS, {**row, "sections": sections}))
    document: dict = {"version": VERSION}
    for section, items in (
        ("channels", channels),
        ("monitors", monitors),
        ("maintenance_windows", windows),
        ("status_pages", pages),
    ):
        if items:
            document[section] = items
    return document, [] if with_secrets else hide_secrets(document)


def _keep(keys: tuple[Key, ...], values: dict) -> dict:
    """The item's keys in the format's order, leaving out those at their default."""
    return {
        key.name: values[key.name]
        for key in keys
        if key.default is REQUIRED or key.name in ALWAYS or values[key.name] != key.default
    }


def _time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _refuse_duplicates(account: Account) -> None:
    """A file refers to objects by name: two of one kind with the same name cannot be written."""
    errors = []
    for section, (_, key) in SECTIONS.items():
        for name, ids in account.by_key(section).items():
            if len(ids) > 1:
                listed = ", ".join(str(pk) for pk in sorted(ids))
                message = f'{len(ids)} have the {key} "{name}" (ids {listed}); rename all but one to export.'
                errors.append(ConfigError(section, key, message))
    if errors:
        raise ConfigInvalid(errors)


class _Dumper(SafeDumper):  # type: ignore[misc, valid-type]  # a class chosen at import
    def ignore_aliases(self, data) -> bool:
        # A list shared by several items (one regions list for every monitor imported) is
        # written out each time: the file's reader refuses anchors used again.
        return True


def _list(dumper: yaml.SafeDumper, items: list) -> yaml.Node:
    # Lists of names on one line ([india, usa]); lists of items one per line.
    flow = all(isinstance(item, str) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)


_Dumper.add_representer(list, _list)


def dump(document: dict, placeholders: list[tuple[str, str]] = ()) -> str:  # type: ignore[assignment]
    """The document as YAML, headed by the environment variables its placeholders need."""
    header = [
        "# Uptime config file (docs/config-file.md). Apply: python manage.py uptime apply -f FILE --organization SLUG"
    ]
    if placeholders:
        header.append("# Secrets are not written. Set these environment variables before applying:")
        width = max(len(variable) for variable, _ in placeholders)
        header += [f"#   {variable.ljust(width)}  {where}" for variable, where in placeholders]
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    return "\n".join(header) + "\n" + body


def export_text(organization, *, with_secrets: bool = False) -> str:
    document, placeholders = export_document(organization, with_secrets=with_secrets)
    return dump(document, placeholders)
