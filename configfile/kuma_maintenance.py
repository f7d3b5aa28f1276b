"""One Uptime Kuma maintenance as config file maintenance windows: a single window once, a
schedule on days of the week as one weekly window per day; other schedules are listed.

Kuma stores a maintenance's dates and times as wall-clock time in its time zone (the
`timezone` column, or the server's own for SAME_AS_SERVER: server/model/maintenance.js);
our windows are in UTC."""

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .kuma_read import NotCarried

WEEKDAY_NAMES = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")  # Kuma's and cron's 0 to 6
# A weekly window's first start when Kuma gives no date range: fixed, so that importing the
# same database again gives the same windows (any past start repeats the same way).
WEEKLY_REFERENCE = date(2024, 1, 1)


def convert_maintenance(
    row: dict[str, Any], server_timezone: str | None, now: datetime, notes: list[str]
) -> list[dict[str, Any]]:
    """The windows (name, starts_at, ends_at, recurrence; no monitors) for the Kuma
    maintenance `row`; NotCarried if its schedule has no counterpart here."""
    if not row.get("active", 1):
        raise NotCarried("it is switched off in Kuma")
    strategy = row.get("strategy") or ""
    title = (row.get("title") or "").strip() or f"Kuma maintenance {row.get('id')}"
    zone = _zone(row.get("timezone"), server_timezone, notes)
    if strategy == "manual":
        raise NotCarried("manual maintenance has no times: it lasts until switched off by hand")
    if strategy == "single":
        starts, ends = _moment(row.get("start_date"), zone), _moment(row.get("end_date"), zone)
        if starts is None or ends is None:
            raise NotCarried("it has no start or no end")
        if ends <= now:
            raise NotCarried(f"it ended at {_iso(ends)}")
        return [{"name": title, "starts_at": _iso(starts), "ends_at": _iso(ends), "recurrence": "none"}]
    if strategy == "recurring-weekday":
        weekdays = _weekdays(row.get("weekdays"))
        start_time, duration = _times(row)
    elif strategy == "recurring-interval":
        if _int(row.get("interval_day")) != 1:
            raise NotCarried(f"every {row.get('interval_day')} days has no weekly equivalent here")
        weekdays, (start_time, duration) = list(range(7)), _times(row)
    elif strategy == "cron":
        weekdays, start_time = _cron(row.get("cron") or "")
        duration = timedelta(seconds=_int(row.get("duration")))
    else:
        raise NotCarried(f"its schedule ({strategy}) has no weekly equivalent here")
    if not weekdays or duration <= timedelta(0):
        raise NotCarried("its schedule has no day or no duration")
    return _weekly(row, title, weekdays, start_time, duration, zone, now, notes)


def _zone(name: Any, server_timezone: str | None, notes: list[str]) -> ZoneInfo:
    if not name or name == "SAME_AS_SERVER":
        if not server_timezone:
            notes.append("Kuma's server time zone is not in its database: its times are read as UTC")
        name = server_timezone or "UTC"
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise NotCarried(f"its time zone {name} is unknown") from None


def _moment(value: Any, zone: ZoneInfo) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise NotCarried(f"its date {value} cannot be read") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _weekdays(value: Any) -> list[int]:
    try:
        days = json.loads(value) if isinstance(value, str) else value or []
        return sorted({int(day) % 7 for day in days})
    except (TypeError, ValueError):
        raise NotCarried(f"its days of the week {value} cannot be read") from None


def _times(row: dict[str, Any]) -> tuple[time, timedelta]:
    """The daily start time and the duration, from start_time to end_time (past midnight
    when the end is earlier, as Kuma's calcDuration reads them)."""
    try:
        start = time.fromisoformat(str(row.get("start_time")))
        end = time.fromisoformat(str(row.get("end_time")))
    except ValueError:
        raise NotCarried("its start or end time cannot be read") from None
    day = date(2000, 1, 1)
    duration = datetime.combine(day, end) - datetime.combine(day, start)
    return start, duration + timedelta(days=1) if duration < timedelta(0) else duration


def _cron(expression: str) -> tuple[list[int], time]:
    """The days of the week and the time of a cron schedule "M H * * D[,D...]" (D also a
    range, or * for every day); NotCarried for any other schedule."""
    fields = expression.split()
    unsupported = NotCarried(f'its cron schedule "{expression}" has no weekly equivalent here')
    if len(fields) != 5 or fields[2] not in ("*", "?", "*/1") or fields[3] not in ("*", "*/1"):
        raise unsupported
    try:
        at = time(int(fields[1]), int(fields[0]))
        days: set[int] = set()
        for part in fields[4].split(","):
            if part in ("*", "?"):
                days.update(range(7))
            elif "-" in part:
                first, last = (int(end) for end in part.split("-"))
                days.update(day % 7 for day in range(first, last + 1))
            else:
                days.add(int(part) % 7)
    except ValueError:
        raise unsupported from None
    return sorted(days), at


def _weekly(
    row: dict[str, Any],
    title: str,
    weekdays: list[int],
    start_time: time,
    duration: timedelta,
    zone: ZoneInfo,
    now: datetime,
    notes: list[str],
) -> list[dict[str, Any]]:
    first = _moment(row.get("start_date"), zone)
    last = _moment(row.get("end_date"), zone)
    if last is not None and last <= now:
        raise NotCarried(f"its date range ended at {_iso(last)}")
    if last is not None:
        notes.append(f"it ends at {_iso(last)} in Kuma; a weekly window here repeats with no end")
    reference = first.astimezone(zone).date() if first else WEEKLY_REFERENCE
    july, january = (datetime(reference.year, month, 1, tzinfo=zone).utcoffset() for month in (7, 1))
    if july != january:
        notes.append(
            f"its weekly times stay the same in UTC here: an hour off {zone.key} time for part of the year"
            " (daylight saving time)"
        )
    windows = []
    for weekday in weekdays:
        # Kuma counts from Sunday (0), Python from Monday.
        day = reference + timedelta(days=(weekday - 1 - reference.weekday()) % 7)
        starts = datetime.combine(day, start_time, tzinfo=zone).astimezone(UTC)
        if first is not None and starts < first:
            starts += timedelta(days=7)
        name = title if len(weekdays) == 1 else f"{title} ({WEEKDAY_NAMES[weekday]})"
        windows.append(
            {"name": name, "starts_at": _iso(starts), "ends_at": _iso(starts + duration), "recurrence": "weekly"}
        )
    return windows
