"""The rules a monitor's settings must meet, shared by the API and the admin.

Each rule reports per field, so a client is told every problem at once.
"""

from typing import cast

from django.conf import settings
from django.db.models import Field

from probe.target import parse_status_ranges
from probe.urls import url_error as probe_url_error

from .models import Monitor
from .request_validation import HTTP_ONLY_FIELDS, http_request_errors

MAX_INTERVAL_SECONDS = 24 * 60 * 60
MAX_TIMEOUT_SECONDS = 60
MAX_RETRIES = 5
MAX_RETRY_INTERVAL_SECONDS = 300

# Every setting monitor_errors reads; a caller passes them all (quorum and region_count too,
# when it knows them).
RULE_FIELDS = (
    "kind",
    "url",
    "interval_seconds",
    "timeout_seconds",
    "retries",
    "retry_interval_seconds",
    *HTTP_ONLY_FIELDS,
)


def url_error(url: str, kind: str = Monitor.Kind.HTTP) -> str | None:
    return probe_url_error(url, tcp=kind == Monitor.Kind.TCP, allow_private=settings.ALLOW_PRIVATE_TARGETS)


def check_budget_seconds(timeout_seconds: int, retries: int, retry_interval_seconds: int) -> int:
    """The longest one slot's check can take: every attempt timing out, with the pauses."""
    return (retries + 1) * timeout_seconds + retries * retry_interval_seconds


def monitor_errors(values: dict) -> dict[str, str]:
    """Return {field: message} for every rule the given (complete) settings break.

    `quorum` is checked against `region_count` when both are given.
    """
    errors: dict[str, str] = {}
    if (message := url_error(values["url"] or "", values["kind"])) is not None:
        errors["url"] = message

    interval = values["interval_seconds"]
    minimum = settings.MONITOR_MIN_INTERVAL_SECONDS
    if not minimum <= interval <= MAX_INTERVAL_SECONDS:
        errors["interval_seconds"] = f"Interval must be between {minimum} and {MAX_INTERVAL_SECONDS} seconds."

    timeout = values["timeout_seconds"]
    if not 1 <= timeout <= MAX_TIMEOUT_SECONDS:
        errors["timeout_seconds"] = f"Timeout must be between 1 and {MAX_TIMEOUT_SECONDS} seconds."
    elif timeout >= interval:
        errors["timeout_seconds"] = "Timeout must be shorter than the interval."

    retries = values["retries"]
    if not 0 <= retries <= MAX_RETRIES:
        errors["retries"] = f"Retries must be between 0 and {MAX_RETRIES}."

    retry_interval = values["retry_interval_seconds"]
    if not 1 <= retry_interval <= MAX_RETRY_INTERVAL_SECONDS:
        errors["retry_interval_seconds"] = f"Retry interval must be between 1 and {MAX_RETRY_INTERVAL_SECONDS} seconds."

    if not errors.keys() & {"timeout_seconds", "retries", "retry_interval_seconds"}:
        budget = check_budget_seconds(timeout, retries, retry_interval)
        if budget > settings.CHECK_MAX_SECONDS:
            errors["retries"] = (
                f"Retries x (timeout + retry interval) + timeout is {budget} s; "
                f"it must be at most {settings.CHECK_MAX_SECONDS} s."
            )

    quorum, region_count = values.get("quorum"), values.get("region_count")
    if quorum is not None and region_count is not None and not 1 <= quorum <= region_count:
        errors["quorum"] = f"Quorum must be between 1 and the number of regions ({region_count}), or empty."

    try:
        parse_status_ranges(values["expected_status"] or "")
    except ValueError as exc:
        errors["expected_status"] = str(exc)

    if values["kind"] == Monitor.Kind.TCP:
        errors.update(_http_fields_on_tcp_errors(values))
    else:
        errors.update(http_request_errors(values))
    return errors


def _http_fields_on_tcp_errors(values: dict) -> dict[str, str]:
    """A TCP monitor leaves every HTTP-only setting at its default: one set anyway would
    look as if it were used, and it is not."""
    return {
        name: "Only HTTP monitors use this setting; leave it at its default for a TCP monitor."
        for name in HTTP_ONLY_FIELDS
        if values[name] != cast(Field, Monitor._meta.get_field(name)).get_default()  # a field, not a relation
    }
