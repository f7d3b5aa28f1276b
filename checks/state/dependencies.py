"""Dependencies: a monitor may name parent monitors (a load balancer, a database host, a
provider). While a parent is down, a child that fails is `unreachable`: a status change is
written, but no incident opens and nobody is paged; the parent's incident lists it.

Monitors keep their own phases, so a child behind a failing parent usually fails a few
seconds before the parent is checked. A child whose down is confirmed is therefore *held*
(its status kept, `held_since` set) until every active parent has a settled verdict from a
check that started at or after the child's failing one, for at most `hold_limit_seconds`
(the parents' failures before down × interval + a check's worst case + 5 s); the parents
are asked for a check at once to shorten it. Then a parent down (or itself unreachable)
makes the child unreachable; parents all up make it down as usual. A paused parent says
nothing about its children.

When the parent recovers, an unreachable child waits for a check of its own started after
that: still failing, its own incident opens then (and alerts); passing, it goes to up
without an alert.

Run inside the outcome writer's transaction (checks/state/transitions.py apply_ticks), the
children it re-decides locked with the rest of the batch (checks/outcomes/recording.py).
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple, cast

import redis
from django.db.models import Q
from django.utils import timezone

from checks.dispatch import dispatch_checks
from checks.models import Incident, StatusChange
from checks.state.verdicts import DEGRADED, DOWN, UNREACHABLE
from monitors.models import Monitor
from monitors.validation import check_budget_seconds
from uptime.redis_clients import shared_client

logger = logging.getLogger(__name__)

HOLD = "hold"
# Added to a hold's bound: the outcome writer's lag, and the regions' results of one slot
# arriving a moment apart.
HOLD_SLACK_SECONDS = 5
# A parent is asked for a check on a child's behalf at most once per its interval.
ASKED_KEY = "uptime:parent-check:{}"

LINKS = Monitor.parents.through
# What deciding a child reads of each of its parents.
PARENT_FIELDS = (
    "id",
    "is_active",
    "status",
    "status_changed_at",
    "last_checked_at",
    "failure_streak",
    "held_since",
    "failures_before_down",
    "interval_seconds",
    "timeout_seconds",
    "retries",
    "retry_interval_seconds",
)


class Parent(NamedTuple):
    """What a child's decision needs of one parent, as decided in this batch if it is in it."""

    pk: int
    is_active: bool
    status: str
    status_changed_at: datetime | None
    last_checked_at: datetime | None
    failing_unconfirmed: bool
    held: bool
    hold_seconds: float

    @classmethod
    def of(cls, monitor: Monitor, status: str | None = None, changed_at: datetime | None = None) -> "Parent":
        budget = check_budget_seconds(monitor.timeout_seconds, monitor.retries, monitor.retry_interval_seconds)
        return cls(
            pk=monitor.pk,
            is_active=monitor.is_active,
            status=status or monitor.status,
            status_changed_at=changed_at or monitor.status_changed_at,
            last_checked_at=monitor.last_checked_at,
            failing_unconfirmed=monitor.failure_streak > 0 and (status or monitor.status) != DOWN,
            held=monitor.held_since is not None,
            hold_seconds=monitor.failures_before_down * monitor.interval_seconds + budget,
        )

    def settled_since(self, at: datetime) -> bool:
        """Whether its status says what it was at `at`: a check started then or later, and
        nothing pending (a failure not yet confirmed, a region seeing it down, a hold of
        its own)."""
        checked = self.last_checked_at is not None and self.last_checked_at >= at
        return checked and not (self.failing_unconfirmed or self.held or self.status == DEGRADED)


def hold_limit_seconds(parents: Iterable[Parent]) -> float:
    """The longest a child waits for its parents: the slowest one's confirmed down (its
    failures before down x interval, plus a check's worst case with its retries), and
    HOLD_SLACK_SECONDS."""
    return max((parent.hold_seconds for parent in parents), default=0) + HOLD_SLACK_SECONDS


def decide(current: str, failing_at: datetime, as_of: datetime, parents: list[Parent]) -> tuple[str, list[Parent]]:
    """What a child whose down is confirmed becomes: DOWN, UNREACHABLE or HOLD (keep its
    status for now), with the parents it waits for when HOLD. `failing_at`: when its failing
    check started (the first one, while held); `as_of`: the newest result the writer has."""
    active = [parent for parent in parents if parent.is_active]
    if any(parent.status in (DOWN, UNREACHABLE) for parent in active):
        return UNREACHABLE, []
    if current == UNREACHABLE:
        # A parent recovered after this child's latest check: that check says nothing
        # about the child without the parent in the way. Its next one decides.
        recovered = [p.status_changed_at for p in active if p.status_changed_at and p.status_changed_at > failing_at]
        if recovered:
            return UNREACHABLE, []
    waiting = [parent for parent in active if not parent.settled_since(failing_at)]
    if waiting and (as_of - failing_at).total_seconds() < hold_limit_seconds(waiting):
        return HOLD, waiting
    return DOWN, []


def parents_of(monitor_ids: Iterable[int]) -> dict[int, list[int]]:
    """Each monitor's parents' ids (monitors without parents left out), in one query."""
    parents: dict[int, list[int]] = defaultdict(list)
    ids = list(monitor_ids)
    if ids:
        for child, parent in LINKS.objects.filter(from_monitor_id__in=ids).values_list(
            "from_monitor_id", "to_monitor_id"
        ):
            parents[child].append(parent)
    return parents


def stored_parents(ids: Iterable[int]) -> dict[int, Monitor]:
    """Parents outside the batch, as committed (not locked: only read)."""
    ids = list(ids)
    return Monitor.objects.only(*PARENT_FIELDS).in_bulk(ids) if ids else {}


def waiting_children(monitor_ids: Iterable[int]) -> list[int]:
    """The children of these monitors that their results may decide: held, or unreachable.
    The outcome writer locks them with the batch's monitors."""
    ids = list(monitor_ids)
    if not ids:
        return []
    waiting = Q(from_monitor__held_since__isnull=False) | Q(from_monitor__status=UNREACHABLE)
    return list(LINKS.objects.filter(waiting, to_monitor_id__in=ids).values_list("from_monitor_id", flat=True))


def ask_for_checks(monitor_ids: Iterable[int]) -> None:
    """Check these parents now, each at most once per its interval, so the children
    waiting for them are decided sooner. Called after the writer's commit: no row lock is
    held over Redis, and a batch rolled back marks no parent as asked. Best effort: without
    Redis the children wait for the parents' scheduled checks."""
    now = timezone.now()
    client = shared_client()
    for monitor in Monitor.objects.filter(pk__in=list(monitor_ids), is_active=True).only("id", "interval_seconds"):
        try:
            asked = client.set(ASKED_KEY.format(monitor.pk), "1", nx=True, ex=max(1, monitor.interval_seconds))
        except redis.RedisError as exc:
            logger.warning("parent %s not checked at once: %s", monitor.pk, exc)
            return
        if asked:
            dispatch_checks(monitor, now)


def moved_at(at: datetime, parents: list[Parent]) -> datetime:
    """When a child's change to unreachable (or back to down) counts from: its own failing
    check, or the parents' latest change if later, so it falls inside the parent's incident."""
    changes = [parent.status_changed_at for parent in parents if parent.is_active and parent.status_changed_at]
    return max([at, *changes])


def unreachable_children(incidents: list[Incident]) -> dict[int, list[dict[str, Any]]]:
    """For each incident (by id), the children of its monitor that became unreachable while
    it was open, each once, by name: {"id", "name", "url"}. One query for all of them."""
    if not incidents:
        return {}
    rows = (
        StatusChange.objects.filter(
            to_status=UNREACHABLE,
            monitor__parents__in={incident.monitor_id for incident in incidents},
            changed_at__gte=min(incident.started_at for incident in incidents),
        )
        .values_list("monitor__parents", "changed_at", "monitor_id", "monitor__name", "monitor__url")
        .order_by("monitor__name", "monitor_id")
    )
    children: dict[int, dict[int, dict[str, Any]]] = {incident.pk: {} for incident in incidents}
    for parent_id, changed_at, child_id, name, url in rows:
        for incident in incidents:
            ended = incident.resolved_at is None or changed_at <= incident.resolved_at
            if incident.monitor_id == cast(int, parent_id) and incident.started_at <= changed_at and ended:
                children[incident.pk].setdefault(child_id, {"id": child_id, "name": name, "url": url})
    return {pk: list(listed.values()) for pk, listed in children.items()}
