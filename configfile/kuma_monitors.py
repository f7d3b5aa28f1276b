"""One Uptime Kuma monitor as a config file monitor: the kinds and settings that map, values
brought into our limits, and a note for everything left behind."""

import json
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from django.conf import settings

from monitors.request_validation import headers_error
from monitors.validation import check_budget_seconds, range_rules

from .kuma_read import NotCarried

# Kuma's monitor types that have a counterpart; every other type (group, push, ping, dns,
# docker, json-query, ...) is listed as not carried.
KINDS = {"http": "http", "keyword": "http", "port": "tcp"}
METHODS = ("GET", "HEAD", "POST")
# The body's content type as Kuma sets it from http_body_encoding (server/model/monitor.js).
BODY_CONTENT_TYPES = {
    "json": "application/json",
    "xml": "text/xml; charset=utf-8",
    "form": "application/x-www-form-urlencoded",
}


def convert_monitor(row: dict[str, Any], regions: list[str], notes: list[str]) -> dict[str, Any]:
    """The config monitor for the Kuma monitor `row` (its columns), without name and channels;
    NotCarried if it has no counterpart. What is changed or left behind is appended to
    `notes` (text without the monitor's label)."""
    kind = KINDS.get(row.get("type") or "")
    if kind is None:
        raise NotCarried("this kind of monitor is not supported")
    if _flag(row.get("upside_down")):
        raise NotCarried("upside down mode (up when the check fails) is not supported")
    monitor: dict[str, Any] = {"kind": kind, "url": _tcp_url(row) if kind == "tcp" else row.get("url") or ""}
    monitor.update(_timing(row, notes))
    if kind == "http":
        monitor.update(_http(row, monitor, notes))
    monitor["regions"] = list(regions)
    monitor["paused"] = not _flag(row.get("active"), default=True)
    _left_behind(row, notes)
    return monitor


def _flag(value: Any, default: bool = False) -> bool:
    # SQLite gives 0/1, a JSON backup true/false; either may be missing.
    return default if value is None else bool(value)


def _number(value: Any, default: float) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _tcp_url(row: dict[str, Any]) -> str:
    host, port = (row.get("hostname") or "").strip(), row.get("port")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    return f"tcp://{host}:{port}"


def _timing(row: dict[str, Any], notes: list[str]) -> dict[str, int]:
    """Interval, timeout, retries and retry interval, each brought into our range, and the
    four together into one check's time budget (CHECK_MAX_SECONDS)."""
    limits = range_rules()
    interval = _clamped("interval", round(_number(row.get("interval"), 60)), limits["interval_seconds"], notes)
    # Kuma times out at 80% of the interval when no timeout is set (patch-timeout.sql).
    kuma_timeout = _number(row.get("timeout"), 0) or _number(row.get("interval"), 60) * 0.8
    timeout_range = (limits["timeout_seconds"][0], min(limits["timeout_seconds"][1], max(interval - 1, 1)))
    timeout = _clamped("timeout", max(1, round(kuma_timeout)), timeout_range, notes)
    retries = _clamped("retries", round(_number(row.get("maxretries"), 0)), limits["retries"], notes)
    # Kuma retries at the interval when no retry interval is set (server/model/monitor.js).
    kuma_retry = round(_number(row.get("retry_interval"), 0)) or round(_number(row.get("interval"), 60))
    retry_interval = _clamped("retry interval", kuma_retry, limits["retry_interval_seconds"], notes)
    ceiling = settings.CHECK_MAX_SECONDS
    if check_budget_seconds(timeout, retries, retry_interval) > ceiling:
        before = (retries, retry_interval)
        # Shorter pauses first, fewer retries only if even 1 s pauses do not fit.
        while retries and check_budget_seconds(timeout, retries, 1) > ceiling:
            retries -= 1
        if retries:
            retry_interval = min(retry_interval, (ceiling - (retries + 1) * timeout) // retries)
        notes.append(
            f"{before[0]} retries {before[1]} s apart with a {timeout} s timeout take longer than one check"
            f" may here ({ceiling} s, CHECK_MAX_SECONDS): now {retries} retries {retry_interval} s apart"
        )
    return {
        "interval_seconds": interval,
        "timeout_seconds": timeout,
        "retries": retries,
        "retry_interval_seconds": retry_interval,
    }


def _clamped(what: str, value: int, bounds: tuple[int, int], notes: list[str]) -> int:
    low, high = bounds
    if low <= value <= high:
        return value
    clamped = min(max(value, low), high)
    unit = "" if what == "retries" else " s"
    reason = "the least" if value < low else "the most"
    notes.append(f"{what} {value}{unit} changed to {clamped}{unit}, {reason} allowed here")
    return clamped


def _http(row: dict[str, Any], monitor: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    method = (row.get("method") or "GET").upper()
    if method not in METHODS:
        raise NotCarried(f"method {method} is not supported (only GET, HEAD and POST)")
    fields: dict[str, Any] = {
        "method": method,
        "expected_status": _expected_status(row, notes),
        "follow_redirects": _number(row.get("maxredirects"), 10) != 0,
    }
    fields.update(_auth(row, monitor, notes))
    headers, header_content_type = _headers(row, notes, has_basic_auth=bool(fields["auth_username"]))
    body = str(row.get("body") or "")
    content_type = ""
    if header_content_type and not (body.strip() and method == "POST"):
        notes.append('request header "Content-Type" is not carried: it goes with a request body, and there is none')
    if body.strip() and method != "POST":
        notes.append(f"its request body is not carried: only POST requests send a body here, not {method}")
        body = ""
    elif body.strip():
        encoding = row.get("http_body_encoding") or "json"
        content_type = header_content_type or BODY_CONTENT_TYPES.get(encoding, "")
        if not content_type:
            raise NotCarried(f"body encoding {encoding} is not supported")
    else:
        body = ""
    fields.update(request_headers=headers, request_body=body, request_content_type=content_type)
    keyword_kind = row.get("type") == "keyword"
    fields["keyword"] = (row.get("keyword") or "") if keyword_kind else ""
    fields["keyword_mode"] = "absent" if keyword_kind and _flag(row.get("invert_keyword")) else "present"
    # Kuma warns of a certificate's expiry only when asked per monitor; ours warns by default.
    if row.get("expiry_notification") is not None and not _flag(row.get("expiry_notification")):
        fields["tls_expiry_warning_days"] = 0
    return fields


def _expected_status(row: dict[str, Any], notes: list[str]) -> str:
    try:
        codes = json.loads(row.get("accepted_statuscodes_json") or '["200-299"]')
        if not isinstance(codes, list) or not codes:
            raise ValueError
        return ",".join(str(code).strip() for code in codes)
    except ValueError:
        notes.append("its accepted status codes could not be read: 200-299 is used")
        return "200-299"


def _auth(row: dict[str, Any], monitor: dict[str, Any], notes: list[str]) -> dict[str, str]:
    method = row.get("auth_method") or ""
    user, password = row.get("basic_auth_user") or "", row.get("basic_auth_pass") or ""
    # Before 1.23 a username alone meant basic auth (patch-add-other-auth.sql).
    if method not in ("", "basic"):
        raise NotCarried(f"{method} authentication is not supported (only basic)")
    parts = urlsplit(monitor["url"])
    if (parts.username or parts.password) and not user:
        # Our URLs carry no credentials: the same ones go as basic auth.
        user, password = unquote(parts.username or ""), unquote(parts.password or "")
        monitor["url"] = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
        notes.append("the user and password in its URL are sent as basic auth instead")
    return {"auth_username": user, "auth_password": password}


def _headers(row: dict[str, Any], notes: list[str], has_basic_auth: bool) -> tuple[dict[str, str], str]:
    """The request headers we can send, and a Content-Type header's value (ours is a
    setting of its own). A header our rules refuse is left out on its own, with the rule's
    words, rather than costing the whole monitor."""
    text = row.get("headers")
    if not text or not str(text).strip():
        return {}, ""
    try:
        given = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        given = None
    if not isinstance(given, dict):
        notes.append("its request headers are not carried: they are not a JSON object")
        return {}, ""
    headers: dict[str, str] = {}
    content_type = ""
    for name, value in given.items():
        name, value = str(name), (value if isinstance(value, str) else json.dumps(value)).strip()
        if name.lower() == "content-type":
            content_type = value
        elif (message := headers_error({name: value}, has_basic_auth=has_basic_auth)) is not None:
            notes.append(f'request header "{name}" is not carried: {message}')
        else:
            headers[name] = value
    return headers, content_type


def _left_behind(row: dict[str, Any], notes: list[str]) -> None:
    """Settings of a carried monitor that have no counterpart here."""
    if _flag(row.get("ignore_tls")):
        notes.append("ignore TLS errors is not carried: checks here always verify certificates")
    if row.get("proxy_id"):
        notes.append("its proxy is not carried: checks here connect directly")
    if _number(row.get("resend_interval"), 0):
        notes.append("resend interval is not carried: reminders are a channel setting here (reminder_minutes)")
    if _flag(row.get("cache_bust")):
        notes.append("cache busting is not carried")
    if row.get("ip_family"):
        notes.append(f"IP family {row['ip_family']} is not carried: checks here use any address the name has")
    if (row.get("description") or "").strip():
        notes.append("its description is not carried")
