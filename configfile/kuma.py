"""Moving over from Uptime Kuma: its database (1.23 or 2.x) or 1.x JSON backup as a config
document, the same one `uptime plan` / `apply` take, and the list of what did not come over.

Reading is configfile.kuma_read; one monitor, notification and maintenance each are
kuma_monitors, kuma_channels and kuma_maintenance. Every item is held to the same rules the
API applies (monitor_errors, channel_errors, window_errors) here, so one Kuma monitor we
would refuse is listed rather than stopping the whole plan."""

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from django.db.models import Field
from django.utils import timezone

from monitors.maintenance import window_errors
from monitors.models import Monitor, Region
from monitors.validation import RULE_FIELDS, monitor_errors
from notifications.validation import channel_errors

from .kuma_channels import convert_notification
from .kuma_maintenance import convert_maintenance
from .kuma_monitors import convert_monitor
from .kuma_read import KumaData, KumaImportError, NotCarried, read_kuma

__all__ = ["KumaImport", "KumaImportError", "document_from_kuma"]

MAX_NAME_LENGTH = 200  # Monitor, Channel and MaintenanceWindow names alike


@dataclass
class KumaImport:
    document: dict  # a config document, version 1
    # One line per Kuma item (or setting of one) not carried over as it was, with the reason:
    # 'monitor "DNS check" (dns): this kind of monitor is not supported'.
    not_carried: list[str] = field(default_factory=list)
    source: str = ""  # what was read, e.g. "Uptime Kuma 2.x database"


def document_from_kuma(path: str | Path) -> KumaImport:
    """Read the Kuma SQLite database or JSON backup at `path` (told apart by content) and
    convert it. KumaImportError (one line) when it is no Kuma database or backup we read."""
    data = read_kuma(path)
    regions = list(Region.objects.order_by("slug").values_list("slug", flat=True))
    if not regions:
        raise KumaImportError("there is no region to check from yet: add one in the admin first")
    report: list[str] = []
    channels, channels_of_notification = _channels(data, report)
    monitors, monitor_names = _monitors(data, regions, channels_of_notification, report)
    windows = _windows(data, monitor_names, timezone.now(), report)
    document = {"version": 1, "channels": channels, "monitors": monitors, "maintenance_windows": windows}
    return KumaImport(document=document, not_carried=report, source=data.source)


class _Names:
    """Unique names within one section of the document (compared ignoring case)."""

    def __init__(self, noun: str):
        self.noun = noun
        self.taken: set[str] = set()

    def claim(self, wanted: str, notes: list[str]) -> str:
        wanted = wanted[:MAX_NAME_LENGTH]
        name, number = wanted, 1
        while name.lower() in self.taken:
            number += 1
            suffix = f" ({number})"
            name = wanted[: MAX_NAME_LENGTH - len(suffix)] + suffix
        self.taken.add(name.lower())
        if name != wanted:
            notes.append(f'named "{name}" here: another {self.noun} has its name')
        return name


def _errors_text(errors: dict[str, Any]) -> str:
    return "; ".join(
        f"{name}: {' '.join(message) if isinstance(message, list) else message}" for name, message in errors.items()
    )


def _channels(data: KumaData, report: list[str]) -> tuple[list[dict], dict[Any, list[str]]]:
    names = _Names("channel")
    channels: list[dict] = []
    of_notification: dict[Any, list[str]] = {}
    for notification in data.notifications:
        config = notification["config"]
        kind = config.get("type") if isinstance(config, dict) else None
        name = str(notification["name"] or "").strip() or f"Kuma notification {notification['id']}"
        label = f'notification "{name}" ({kind or "unknown"})'
        notes: list[str] = []
        try:
            if not isinstance(config, dict):
                raise NotCarried("its settings (notification.config) cannot be read")
            converted = convert_notification(config, notes)
        except NotCarried as exc:
            report.append(f"{label}: {exc}")
            continue
        for channel in converted:
            wanted = name if len(converted) == 1 else f"{name} ({channel.get('email')})"
            values = {"url": "", "email": "", "apprise_url": "", "reminder_minutes": 0, **channel}
            if errors := channel_errors(values):
                report.append(f"{label}: not carried, refused here: {_errors_text(errors)}")
                continue
            channel = {"name": names.claim(wanted, notes), **channel, "is_default": notification["is_default"]}
            channels.append(channel)
            of_notification.setdefault(notification["id"], []).append(channel["name"])
        report.extend(f"{label}: {note}" for note in notes)
    return channels, of_notification


def _defaults() -> dict[str, Any]:
    names = (*RULE_FIELDS, "expected_status", "failures_before_down", "successes_before_up")
    return {name: cast(Field, Monitor._meta.get_field(name)).get_default() for name in names}


def _monitors(
    data: KumaData, regions: list[str], channels_of_notification: dict[Any, list[str]], report: list[str]
) -> tuple[list[dict], dict[Any, str]]:
    """The monitors carried over, and their names here by Kuma id."""
    names = _Names("monitor")
    defaults = _defaults()
    by_id = {row.get("id"): row for row in data.monitors}
    linked: dict[Any, list[Any]] = {}
    for monitor_id, notification_id in sorted(data.links, key=lambda link: (link[0] or 0, link[1] or 0)):
        linked.setdefault(monitor_id, []).append(notification_id)
    monitors: list[dict] = []
    carried: dict[Any, str] = {}
    for row in data.monitors:
        name = str(row.get("name") or "").strip() or f"Kuma monitor {row.get('id')}"
        label = f'monitor "{name}" ({row.get("type") or "unknown"})'
        notes: list[str] = []
        try:
            monitor = convert_monitor(row, regions, notes)
        except NotCarried as exc:
            report.append(f"{label}: {exc}")
            continue
        values = defaults | {key: value for key, value in monitor.items() if key in defaults}
        if errors := monitor_errors(values | {"region_count": len(regions), "quorum": None}):
            report.append(f"{label}: not carried, refused here: {_errors_text(errors)}")
            continue
        if (parent := by_id.get(row.get("parent"))) is not None:
            notes.append(f'its place in group "{parent.get("name")}" is not carried: a group is not a dependency here')
        if tags := data.tags.get(row.get("id")):
            notes.append(f"its tags ({', '.join(tags)}) are not carried")
        channel_names: list[str] = []
        for notification_id in linked.get(row.get("id"), []):
            channel_names += [n for n in channels_of_notification.get(notification_id, []) if n not in channel_names]
        carried[row.get("id")] = names.claim(name, notes)
        monitors.append({"name": carried[row.get("id")], **monitor, "channels": channel_names})
        report.extend(f"{label}: {note}" for note in notes)
    return monitors, carried


def _windows(data: KumaData, monitor_names: dict[Any, str], now: datetime, report: list[str]) -> list[dict]:
    names = _Names("maintenance window")
    windows: list[dict] = []
    for row in data.maintenances:
        title = str(row.get("title") or "").strip() or f"Kuma maintenance {row.get('id')}"
        label = f'maintenance "{title}" ({row.get("strategy") or "unknown"})'
        notes: list[str] = []
        try:
            converted = convert_maintenance(row, data.server_timezone, now, notes)
            monitors = [monitor_names[i] for i in row.get("monitor_ids", []) if i in monitor_names]
            if not monitors:
                raise NotCarried("none of its monitors is carried over")
        except NotCarried as exc:
            report.append(f"{label}: {exc}")
            continue
        for window in converted:
            starts, ends = (datetime.fromisoformat(window[key]) for key in ("starts_at", "ends_at"))
            if errors := window_errors(starts, ends, window["recurrence"]):
                report.append(f"{label}: not carried, refused here: {_errors_text(errors)}")
                continue
            times = {key: window[key] for key in ("starts_at", "ends_at", "recurrence")}
            windows.append({"name": names.claim(window["name"], notes), "monitors": monitors, **times})
        report.extend(f"{label}: {note}" for note in notes)
    return windows
