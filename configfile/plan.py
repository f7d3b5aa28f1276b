"""A plan: what applying a file would create, change (field by field, old → new; secrets
never shown) and delete (only with prune), worked out from one read of the account."""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitors.services import EDITABLE_FIELDS as MONITOR_FIELDS

from .account import CHANNEL_FIELDS, PAGE_FIELDS, WINDOW_FIELDS, Account, read_account
from .document import check_types, read_secrets
from .format import SECTIONS, ConfigInvalid, Lines
from .rules import Judged, Wanted, judge

KIND_NAMES = {
    "channels": ("channel", "channels"),
    "monitors": ("monitor", "monitors"),
    "maintenance_windows": ("maintenance window", "maintenance windows"),
    "status_pages": ("status page", "status pages"),
}
SECRET_FIELDS = {("monitors", "auth_password"), ("channels", "apprise_url")}
# Shown in place of a secret's value.
SECRET = "(secret)"


@dataclass
class Step:
    section: str
    key: str
    action: str  # create, change or delete
    id: int | None = None
    # Changed fields by their name in the file: (old, new), secrets as SECRET.
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def title(self) -> str:
        kind = KIND_NAMES[self.section][0]
        return f'{kind} "{self.key}"' + (f" (id {self.id})" if self.id else "")


@dataclass
class Plan:
    steps: list[Step]
    unmanaged: dict[str, int]  # by section: objects not in the file, left as they are
    prune: bool
    judged: Judged
    account: Account

    def of(self, action: str, section: str | None = None) -> list[Step]:
        return [s for s in self.steps if s.action == action and (section is None or s.section == section)]

    @property
    def has_changes(self) -> bool:
        return bool(self.steps)

    def summary(self) -> str:
        if not self.steps:
            said = "No changes: the account matches the file."
        else:
            said = ", ".join(f"{len(self.of(action))} to {action}" for action in ("create", "change", "delete")) + "."
        left = [f"{count} {KIND_NAMES[section][count != 1]}" for section, count in self.unmanaged.items() if count]
        if left:
            said += f" Not in the file, left as they are: {', '.join(left)} (prune deletes them)."
        return said

    def text_lines(self) -> list[str]:
        lines = []
        for step in self.steps:
            sign = {"create": "+", "change": "~", "delete": "-"}[step.action]
            lines.append(f"{sign} {step.action} {step.title()}")
            for name, (old, new) in step.fields.items():
                if new == SECRET:
                    lines.append(f"    {name}: changed (secret, not shown)")
                else:
                    lines.append(f"    {name}: {_shown(old)} → {_shown(new)}")
        return [*lines, self.summary()]

    def as_dict(self) -> dict:
        def steps(action: str) -> list[dict]:
            found = []
            for step in self.of(action):
                entry: dict[str, Any] = {"kind": KIND_NAMES[step.section][0], "name": step.key, "id": step.id}
                if action == "change":
                    entry["fields"] = {
                        name: {"secret": True} if new == SECRET else {"old": _json(old), "new": _json(new)}
                        for name, (old, new) in step.fields.items()
                    }
                found.append(entry)
            return found

        return {
            "changes": self.has_changes,
            "create": steps("create"),
            "change": steps("change"),
            "delete": steps("delete"),
            "unmanaged": {section: self.unmanaged.get(section, 0) for section in SECTIONS},
            "summary": self.summary(),
        }


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, set):
        return sorted(value)
    return value


def _shown(value: Any) -> str:
    return json.dumps(_json(value), ensure_ascii=False, default=str)


def make_plan(
    organization,
    document: Any,
    lines: Lines | None = None,
    *,
    prune: bool = False,
    environ: Mapping[str, str] | None = None,
    over_api: bool = False,
) -> Plan:
    """The plan for `document` (a dict in the file's format) in `organization`; raises
    ConfigInvalid with every error. Secrets: `environ` fills ${NAME} (the CLI); `over_api`
    refuses ${...}; otherwise values are taken as given (a document made by code)."""
    lines = lines or Lines()
    errors, bad_items = check_types(document, lines)
    if not isinstance(document, dict):
        raise ConfigInvalid(errors)
    if environ is not None or over_api:
        errors += read_secrets(document, lines, None if over_api else environ)
    account = read_account(organization)
    judged = judge(document, lines, bad_items, account, organization, prune)
    errors += judged.errors
    if errors:
        # In the file's order: a reader fixes them from the top.
        raise ConfigInvalid(sorted(errors, key=lambda error: (error.line is None, error.line or 0)))
    return _diff(judged, account, prune)


def _diff(judged: Judged, account: Account, prune: bool) -> Plan:
    steps: list[Step] = []
    unmanaged: dict[str, int] = {}
    channel_names = {pk: row["name"] for pk, row in account.channels.items()}
    monitor_names = {pk: row["name"] for pk, row in account.monitors.items()}
    stored_rows = {
        "channels": account.channels,
        "monitors": account.monitors,
        "maintenance_windows": account.windows,
        "status_pages": account.pages,
    }
    for section, items in judged.items.items():
        rows = stored_rows[section]
        for key, wanted in items.items():
            if wanted.existing_id is None:
                steps.append(Step(section, key, "create"))
                continue
            row = rows[wanted.existing_id]
            if section == "channels":
                changed = _fields(section, wanted, row, CHANNEL_FIELDS)
            elif section == "monitors":
                changed = _monitor_fields(wanted, row, account, channel_names, monitor_names)
            elif section == "maintenance_windows":
                changed = _fields(section, wanted, row, WINDOW_FIELDS)
                _set_field(changed, "monitors", {monitor_names[pk] for pk in row["monitors"]}, wanted.refs["monitors"])
            else:
                changed = _fields(section, wanted, row, PAGE_FIELDS)
                stored_sections = [
                    {"name": s["name"], "components": [_component(c, monitor_names) for c in s["components"]]}
                    for s in row["sections"]
                ]
                wanted_sections = [
                    {
                        "name": s["name"],
                        "components": [
                            {"monitor": c["monitor"], "name": c["name"] or c["monitor"]} for c in s["components"]
                        ],
                    }
                    for s in wanted.refs["sections"]
                ]
                if stored_sections != wanted_sections:
                    changed["sections"] = (stored_sections, wanted_sections)
            if changed:
                steps.append(Step(section, key, "change", wanted.existing_id, changed))
        key_name = SECTIONS[section][1]
        kept = {wanted.existing_id for wanted in items.values()}
        left = [(pk, row) for pk, row in rows.items() if pk not in kept]
        if prune:
            steps += [Step(section, row[key_name], "delete", pk) for pk, row in left]
        else:
            unmanaged[section] = len(left)
    return Plan(steps, unmanaged, prune, judged, account)


def _component(component: dict, monitor_names: dict[int, str]) -> dict:
    return {"monitor": monitor_names[component["monitor"]], "name": component["name"]}


def _fields(section: str, wanted: Wanted, row: dict, names: tuple[str, ...]) -> dict[str, tuple[Any, Any]]:
    changed = {}
    for name in names:
        old, new = row[name], wanted.values[name]
        if old != new:
            changed[name] = (SECRET, SECRET) if (section, name) in SECRET_FIELDS else (old, new)
    return changed


def _set_field(changed: dict, name: str, old: set, new: list | set) -> None:
    if old != set(new):
        changed[name] = (sorted(old), sorted(new))


def _monitor_fields(
    wanted: Wanted, row: dict, account: Account, channel_names: dict[int, str], monitor_names: dict[int, str]
) -> dict[str, tuple[Any, Any]]:
    changed = _fields("monitors", wanted, row, tuple(name for name in MONITOR_FIELDS if name != "is_active"))
    if row["is_active"] != wanted.values["is_active"]:
        changed["paused"] = (not row["is_active"], not wanted.values["is_active"])
    _set_field(changed, "regions", {account.region_slugs[pk] for pk in row["regions"]}, wanted.refs["regions"])
    if wanted.refs["channels"] is not None:
        _set_field(changed, "channels", {channel_names[pk] for pk in row["channels"]}, wanted.refs["channels"])
    _set_field(changed, "parents", {monitor_names[pk] for pk in row["parents"]}, wanted.refs["parents"])
    return changed
