"""The rules a monitor's settings must meet, shared by the API and the admin.

Each rule reports per field, so a client is told every problem at once.
"""

from typing import cast

from django.conf import settings
from django.db.models import Field

from probe.target import parse_status_ranges
from probe.urls import url_error as probe_url_error

from .models import Monitor
from .request_validation import HTTP_ONLY_FIELDS, MAX_TLS_EXPIRY_WARNING_DAYS, http_request_errors

MAX_INTERVAL_SECONDS = 24 * 60 * 60
MAX_TIMEOUT_SECONDS = 60
MAX_RETRIES = 5
MAX_RETRY_INTERVAL_SECONDS = 300
MAX_CONFIRMATIONS = 10
# A monitor's parents, and the longest chain of parents above and children below it.
MAX_PARENTS = 20
MAX_DEPENDENCY_DEPTH = 5

# Every setting monitor_errors reads; a caller passes them all (quorum and region_count too,
# when it knows them).
RULE_FIELDS = (
    "kind",
    "url",
    "interval_seconds",
    "timeout_seconds",
    "retries",
    "retry_interval_seconds",
    "failures_before_down",
    "successes_before_up",
    *HTTP_ONLY_FIELDS,
)


def url_error(url: str, kind: str = Monitor.Kind.HTTP) -> str | None:
    return probe_url_error(url, tcp=kind == Monitor.Kind.TCP, allow_private=settings.ALLOW_PRIVATE_TARGETS)


def check_budget_seconds(timeout_seconds: int, retries: int, retry_interval_seconds: int) -> int:
    """The longest one slot's check can take: every attempt timing out, with the pauses."""
    return (retries + 1) * timeout_seconds + retries * retry_interval_seconds


def range_rules() -> dict[str, tuple[int, int]]:
    """The range each numeric setting must lie in (quorum's, 1 to the number of regions, is
    checked apart). The API and the OpenAPI document take them from here, not from the
    database columns."""
    return {
        "interval_seconds": (settings.MONITOR_MIN_INTERVAL_SECONDS, MAX_INTERVAL_SECONDS),
        "timeout_seconds": (1, MAX_TIMEOUT_SECONDS),
        "retries": (0, MAX_RETRIES),
        "retry_interval_seconds": (1, MAX_RETRY_INTERVAL_SECONDS),
        "tls_expiry_warning_days": (0, MAX_TLS_EXPIRY_WARNING_DAYS),
        "failures_before_down": (1, MAX_CONFIRMATIONS),
        "successes_before_up": (1, MAX_CONFIRMATIONS),
    }


RANGE_MESSAGES = {
    "interval_seconds": "Interval must be a whole number of seconds from {minimum} to {maximum}.",
    "timeout_seconds": "Timeout must be a whole number of seconds from {minimum} to {maximum}.",
    "retries": "Retries must be a whole number from {minimum} to {maximum}.",
    "retry_interval_seconds": "Retry interval must be a whole number of seconds from {minimum} to {maximum}.",
    # The words of request_validation's rule, which checks this range.
    "tls_expiry_warning_days": "Give {minimum} (no warning) to {maximum} days.",
    "failures_before_down": "Failures before down must be a whole number from {minimum} to {maximum}.",
    "successes_before_up": "Successes before up must be a whole number from {minimum} to {maximum}.",
}


def number_messages(region_count: int | None = None) -> dict[str, str]:
    """The one message of each numeric setting, for a value out of its range and for one
    that is not a whole number alike."""
    messages = {
        name: RANGE_MESSAGES[name].format(minimum=minimum, maximum=maximum)
        for name, (minimum, maximum) in range_rules().items()
    }
    regions = "the number of regions" + (f" ({region_count})" if region_count is not None else "")
    messages["quorum"] = f"Quorum must be a whole number from 1 to {regions}, or empty."
    return messages


def stored_values(monitor_id: int | None) -> dict | None:
    """A stored monitor's settings as monitor_errors reads them (None for a new monitor)."""
    if monitor_id is None:
        return None
    return Monitor.objects.filter(pk=monitor_id).values(*RULE_FIELDS).first()


def monitor_errors(values: dict, stored: dict | None = None) -> dict[str, str]:
    """Return {field: message} for every rule the given (complete) settings break.

    `quorum` is checked against `region_count` when both are given. For an edit, `stored`
    holds the monitor's stored settings: the rules that depend on the deployment rather than
    on the monitor (private targets and DNS, MONITOR_MIN_INTERVAL_SECONDS, CHECK_MAX_SECONDS)
    judge only what the edit changes. A value they would refuse today was accepted when it
    was entered; refusing every edit for it would leave the monitor impossible even to pause.
    """

    def changed(*names: str) -> bool:
        return stored is None or any(values[name] != stored[name] for name in names)

    errors: dict[str, str] = {}
    messages = number_messages(values.get("region_count"))
    if changed("url", "kind") and (message := url_error(values["url"] or "", values["kind"])) is not None:
        errors["url"] = message

    interval = values["interval_seconds"]
    minimum = settings.MONITOR_MIN_INTERVAL_SECONDS
    if changed("interval_seconds") and not minimum <= interval <= MAX_INTERVAL_SECONDS:
        errors["interval_seconds"] = messages["interval_seconds"]

    timeout = values["timeout_seconds"]
    if not 1 <= timeout <= MAX_TIMEOUT_SECONDS:
        errors["timeout_seconds"] = messages["timeout_seconds"]
    elif timeout >= interval:
        errors["timeout_seconds"] = "Timeout must be shorter than the interval."

    retries = values["retries"]
    if not 0 <= retries <= MAX_RETRIES:
        errors["retries"] = messages["retries"]

    retry_interval = values["retry_interval_seconds"]
    if not 1 <= retry_interval <= MAX_RETRY_INTERVAL_SECONDS:
        errors["retry_interval_seconds"] = messages["retry_interval_seconds"]

    budget_fields = ("timeout_seconds", "retries", "retry_interval_seconds")
    if not errors.keys() & set(budget_fields) and changed(*budget_fields):
        budget = check_budget_seconds(timeout, retries, retry_interval)
        if budget > settings.CHECK_MAX_SECONDS:
            errors["retries"] = (
                f"Retries x (timeout + retry interval) + timeout is {budget} s; "
                f"it must be at most {settings.CHECK_MAX_SECONDS} s."
            )

    for name in ("failures_before_down", "successes_before_up"):
        if not 1 <= values[name] <= MAX_CONFIRMATIONS:
            errors[name] = messages[name]

    quorum, region_count = values.get("quorum"), values.get("region_count")
    if quorum is not None and region_count is not None and not 1 <= quorum <= region_count:
        errors["quorum"] = messages["quorum"]

    try:
        parse_status_ranges(values["expected_status"] or "")
    except ValueError as exc:
        errors["expected_status"] = str(exc)

    if values["kind"] == Monitor.Kind.TCP:
        errors.update(_http_fields_on_tcp_errors(values))
    else:
        errors.update(http_request_errors(values))
    return errors


def parent_errors(monitor_id: int | None, organization_id: int | None, parents: list[Monitor]) -> dict[str, str]:
    """{"parents": message} when the monitor `monitor_id` (None: a new one) of `organization_id`
    may not depend on `parents`: another organization's monitor, itself, a cycle, more than
    MAX_PARENTS, or a chain of dependencies deeper than MAX_DEPENDENCY_DEPTH.

    The API never gets this far with another user's monitor: its field refuses that id as
    it refuses an unknown one."""
    if not parents:
        return {}
    if len(parents) > MAX_PARENTS:
        return {"parents": f"Give at most {MAX_PARENTS} parent monitors."}
    foreign = sorted(str(parent) for parent in parents if parent.organization_id != organization_id)
    if foreign:
        return {"parents": f"Parent monitors must be the same organization's: not {', '.join(foreign)}."}
    if monitor_id is not None and any(parent.pk == monitor_id for parent in parents):
        return {"parents": "A monitor cannot depend on itself."}
    above = _chain(Monitor.parents.through, [parent.pk for parent in parents], "from_monitor_id", "to_monitor_id")
    below = _chain(Monitor.parents.through, [monitor_id], "to_monitor_id", "from_monitor_id") if monitor_id else []
    if monitor_id is not None and any(monitor_id in level for level in above):
        return {"parents": "That would make a cycle: a parent monitor depends on this one."}
    # Levels: the parents' ancestors, the parents, this monitor, and its descendants.
    if len(above) + 1 + 1 + len(below) > MAX_DEPENDENCY_DEPTH + 1:
        return {"parents": f"Dependencies may be at most {MAX_DEPENDENCY_DEPTH} levels deep."}
    return {}


def _chain(links, start: list, from_column: str, to_column: str) -> list[set[int]]:
    """The monitors `start` lead to through `links`, level by level (a level's monitors
    are those one more link away), read a level at a time; stops past the depth limit, so
    a cycle stored anyway ends too."""
    levels: list[set[int]] = []
    current = set(start)
    while current and len(levels) <= MAX_DEPENDENCY_DEPTH + 1:
        current = set(links.objects.filter(**{f"{from_column}__in": current}).values_list(to_column, flat=True))
        if current:
            levels.append(current)
    return levels


def _http_fields_on_tcp_errors(values: dict) -> dict[str, str]:
    """A TCP monitor leaves every HTTP-only setting at its default: one set anyway would
    look as if it were used, and it is not."""
    return {
        name: "Only HTTP monitors use this setting; leave it at its default for a TCP monitor."
        for name in HTTP_ONLY_FIELDS
        if values[name] != cast(Field, Monitor._meta.get_field(name)).get_default()  # a field, not a relation
    }
