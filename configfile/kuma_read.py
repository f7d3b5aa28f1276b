"""Reading an Uptime Kuma database (1.23 or 2.x SQLite) or a Kuma 1.x JSON backup into plain
records keyed by Kuma's column names, so the conversion (configfile.kuma) reads one shape.

Kuma's schema is read from its public repository: the 1.x template `db/kuma.db` with the
`db/patch-*.sql` files (moved to `db/old_migrations/` in 2.x), and the 2.x
`db/knex_migrations/*.js`. Only the tables and columns the conversion needs are read."""

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SQLITE_MAGIC = b"SQLite format 3\x00"
# Columns a 1.23 database has and an older one lacks (patch-add-timeout-monitor.sql came
# with 1.23): an older Kuma converts its own database when upgraded, so we ask for that.
REQUIRED_MONITOR_COLUMNS = {"id", "name", "type", "url", "interval", "active", "method", "timeout"}

# The JSON backup's monitor keys (Monitor.toJSON in server/model/monitor.js) that differ
# from the database's column names.
BACKUP_MONITOR_KEYS = {
    "retryInterval": "retry_interval",
    "resendInterval": "resend_interval",
    "invertKeyword": "invert_keyword",
    "ignoreTls": "ignore_tls",
    "upsideDown": "upside_down",
    "authMethod": "auth_method",
    "httpBodyEncoding": "http_body_encoding",
    "expiryNotification": "expiry_notification",
    "proxyId": "proxy_id",
}


class KumaImportError(Exception):
    """The path cannot be imported; the message is one line, fit to print as it is."""


class NotCarried(Exception):
    """One Kuma item cannot be carried over; the message says why."""


@dataclass
class KumaData:
    source: str  # "Uptime Kuma 1.x database", ...
    monitors: list[dict[str, Any]]
    notifications: list[dict[str, Any]]  # id, name, is_default, config (a dict, or None if unreadable)
    # (monitor id, notification id), as in monitor_notification.
    links: list[tuple[Any, Any]]
    # Maintenance rows, each with "monitor_ids" (from monitor_maintenance).
    maintenances: list[dict[str, Any]] = field(default_factory=list)
    tags: dict[Any, list[str]] = field(default_factory=dict)  # monitor id: "name" or "name:value"
    server_timezone: str | None = None  # Kuma's setting "serverTimezone"
    has_maintenance: bool = True  # a JSON backup holds none


def read_kuma(path: str | Path) -> KumaData:
    """Read the Kuma database or JSON backup at `path`, told apart by content."""
    path = Path(path)
    if not path.is_file():
        raise KumaImportError(f"{path}: no such file")
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise KumaImportError(f"{path}: cannot be read ({exc.strerror})") from None
    if head == SQLITE_MAGIC:
        return _read_database(path)
    return _read_backup(path)


def _read_database(path: Path) -> KumaData:
    try:
        # Read-only: the file may be a running Kuma's own database.
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise KumaImportError(f"{path}: cannot be opened as SQLite ({exc})") from None
    connection.row_factory = sqlite3.Row
    try:
        return _read_tables(connection, path)
    except sqlite3.DatabaseError as exc:
        raise KumaImportError(f"{path}: cannot be read as an Uptime Kuma database ({exc})") from None
    finally:
        connection.close()


def _read_tables(connection: sqlite3.Connection, path: Path) -> KumaData:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"monitor", "notification", "monitor_notification"} <= tables:
        raise KumaImportError(f"{path}: not an Uptime Kuma database (no monitor and notification tables)")
    columns = {row[1] for row in connection.execute("PRAGMA table_info(monitor)")}
    if missing := REQUIRED_MONITOR_COLUMNS - columns:
        raise KumaImportError(
            f"{path}: an Uptime Kuma database older than 1.23 (no monitor.{sorted(missing)[0]} column);"
            " start it once with Kuma 1.23 or later, which upgrades it, then import it"
        )
    # 2.x keeps its schema version in knex's own table (db/knex_migrations).
    major = "2.x" if "knex_migrations" in tables else "1.x"

    def rows(sql: str) -> list[dict[str, Any]]:
        return [dict(row) for row in connection.execute(sql)]

    notifications = [
        {"id": row["id"], "name": row["name"], "is_default": bool(row["is_default"]), "config": _json(row["config"])}
        for row in rows("SELECT * FROM notification ORDER BY id")
    ]
    links = [(row["monitor_id"], row["notification_id"]) for row in rows("SELECT * FROM monitor_notification")]
    maintenances: list[dict[str, Any]] = []
    if {"maintenance", "monitor_maintenance"} <= tables:
        maintenances = rows("SELECT * FROM maintenance ORDER BY id")
        covered: dict[int, list[int]] = {}
        for row in rows("SELECT monitor_id, maintenance_id FROM monitor_maintenance ORDER BY monitor_id"):
            covered.setdefault(row["maintenance_id"], []).append(row["monitor_id"])
        for maintenance in maintenances:
            maintenance["monitor_ids"] = covered.get(maintenance["id"], [])
    tags: dict[Any, list[str]] = {}
    if {"tag", "monitor_tag"} <= tables:
        sql = "SELECT monitor_tag.monitor_id, tag.name, monitor_tag.value FROM monitor_tag JOIN tag ON tag.id = tag_id"
        for row in rows(sql + " ORDER BY monitor_tag.id"):
            tags.setdefault(row["monitor_id"], []).append(_tag(row["name"], row["value"]))
    timezone = None
    if "setting" in tables:
        found = connection.execute("SELECT value FROM setting WHERE key = 'serverTimezone'").fetchone()
        timezone = found[0] if found else None
    return KumaData(
        source=f"Uptime Kuma {major} database",
        monitors=rows("SELECT * FROM monitor ORDER BY id"),
        notifications=notifications,
        links=links,
        maintenances=maintenances,
        tags=tags,
        server_timezone=timezone,
    )


def _read_backup(path: Path) -> KumaData:
    """The JSON backup of Kuma 1.x (Settings > Backup > Export: version, notificationList,
    monitorList); 2.0 removed it."""
    try:
        backup = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError):
        raise KumaImportError(f"{path}: neither an SQLite database nor a JSON file") from None
    if not isinstance(backup, dict) or not isinstance(backup.get("monitorList"), list):
        raise KumaImportError(f"{path}: not an Uptime Kuma backup (no monitorList)")
    version = str(backup.get("version") or "")
    if not version.startswith("1."):
        raise KumaImportError(
            f"{path}: a Kuma backup of version {version or 'unknown'}; only 1.x backups are read"
            " (for Kuma 2.x, import its database file, kuma.db)"
        )
    monitors: list[dict[str, Any]] = []
    links: list[tuple[Any, Any]] = []
    tags: dict[Any, list[str]] = {}
    for item in backup["monitorList"]:
        if not isinstance(item, dict):
            continue
        monitor: dict[str, Any] = {BACKUP_MONITOR_KEYS.get(str(key), str(key)): value for key, value in item.items()}
        monitor["accepted_statuscodes_json"] = json.dumps(item.get("accepted_statuscodes") or ["200-299"])
        monitors.append(monitor)
        for notification_id, linked in (item.get("notificationIDList") or {}).items():
            # Keys are ids written as strings ({"3": true}); the notifications' own are numbers.
            if linked and str(notification_id).isdigit():
                links.append((monitor.get("id"), int(notification_id)))
        tags[monitor.get("id")] = [
            _tag(tag.get("name"), tag.get("value")) for tag in item.get("tags") or [] if isinstance(tag, dict)
        ]
    notifications = []
    for item in backup.get("notificationList") or []:
        if not isinstance(item, dict):
            continue
        config = item["config"] if isinstance(item.get("config"), dict) else _json(item.get("config"))
        is_default = item.get("is_default", item.get("isDefault", False))
        notifications.append(
            {"id": item.get("id"), "name": item.get("name"), "is_default": bool(is_default), "config": config}
        )
    return KumaData(
        source=f"Uptime Kuma {version} JSON backup",
        monitors=sorted(monitors, key=lambda monitor: monitor.get("id") or 0),
        notifications=notifications,
        links=links,
        tags=tags,
        has_maintenance=False,
    )


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _tag(name: Any, value: Any) -> str:
    return f"{name}:{value}" if value else str(name)
