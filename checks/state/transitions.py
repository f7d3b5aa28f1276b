"""Moving a monitor's stored status, which is the truth: every change is written with a
StatusChange row, and opens or resolves the monitor's incident, in the same transaction."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from checks.models import Incident, StatusChange, Tick
from checks.outcomes.batch_rows import rows_json
from checks.state import dependencies
from checks.state.confirmations import confirmed, count_verdict, forget_verdicts
from checks.state.verdicts import DOWN, UNREACHABLE, verdict
from monitors.models import Monitor, Region
from notifications.messages import INCIDENT_OPENED, INCIDENT_RESOLVED
from notifications.services import notify_incidents

# A region's latest result counts only while this many intervals old at most: a region whose
# workers stopped, or results from before a pause, say nothing about the site now.
FRESH_INTERVALS = 3


class LatestResult(NamedTuple):
    """What a region's latest tick says, as the verdict needs it (read without building
    model instances: the writer reads one per monitor and region of every batch)."""

    status: str
    in_maintenance: bool
    scheduled_at: datetime
    checked_at: datetime
    error: str


# For each of the monitors' regions, its latest tick since the monitor's `fresh_since`: one
# backward probe of the tick table's unique (monitor, region, scheduled_at) index per pair.
# Table names are the models', not input.
_LATEST_RESULTS_SQL = f"""
SELECT judged.id, region.slug, tick.status, tick.in_maintenance, tick.scheduled_at, tick.checked_at, tick.error
FROM json_to_recordset(%s::json) AS judged(id bigint, fresh_since timestamptz)
JOIN {Monitor.regions.through._meta.db_table} AS assigned ON assigned.monitor_id = judged.id
JOIN {Region._meta.db_table} AS region ON region.id = assigned.region_id
LEFT JOIN LATERAL (
    SELECT status, in_maintenance, scheduled_at, checked_at, error FROM {Tick._meta.db_table}
    WHERE monitor_id = judged.id AND region_id = assigned.region_id AND scheduled_at >= judged.fresh_since
    ORDER BY scheduled_at DESC LIMIT 1
) AS tick ON true
"""  # noqa: S608


def latest_results(monitors: list[Monitor], as_of: dict[int, datetime]) -> dict[int, dict[str, LatestResult | None]]:
    """Each monitor's regions' latest tick still fresh at `as_of[monitor id]` (None where
    there is none), for a batch of monitors in one query."""
    judged = [
        {"id": m.pk, "fresh_since": as_of[m.pk] - timedelta(seconds=FRESH_INTERVALS * m.interval_seconds)}
        for m in monitors
    ]
    latest: dict[int, dict[str, LatestResult | None]] = {m.pk: {} for m in monitors}
    if not judged:
        return latest
    with connection.cursor() as cursor:
        cursor.execute(_LATEST_RESULTS_SQL, [rows_json(judged)])
        for monitor_id, slug, status, *fields in cursor.fetchall():
            latest[monitor_id][slug] = LatestResult(status, *fields) if status is not None else None
    return latest


@dataclass
class Judgement:
    """What a monitor's results make of it in this batch, before its dependencies are heard."""

    status: str
    at: datetime
    reason_regions: dict[str, LatestResult]


def apply_ticks(
    monitors: dict[int, Monitor], ticks: list[Tick], impaired: Mapping[str, datetime] | None = None
) -> None:
    """Re-decide the status of the monitors `ticks` (just recorded) are of. Call inside the
    ticks' transaction with `monitors` (by id) locked, so writers deciding the same monitor
    take turns. Held or unreachable children among `monitors` without ticks here (the
    recorder locks them along with their parents) are decided again too, for their
    parents' new results.

    Each monitor is judged as of its newest tick here, not of the clock: results written
    late (after a database outage) are judged as they were when checked. The `impaired`
    regions (their network failing since the time given: checks/state/impairments.py)
    have no say but for an up result checked since then: a monitor is judged by its other
    regions, and not at all while it has nothing else.
    """
    newest: dict[int, Tick] = {}
    for tick in ticks:
        if tick.monitor_id not in newest or tick.checked_at > newest[tick.monitor_id].checked_at:
            newest[tick.monitor_id] = tick
    # Paused meanwhile: the ticks are kept, the status stays paused.
    judged = [monitors[monitor_id] for monitor_id in newest if monitors[monitor_id].is_active]
    waiting = [
        monitor
        for monitor in monitors.values()
        if monitor.pk not in newest
        and monitor.is_active
        and monitor.last_checked_at is not None
        and (monitor.held_since is not None or monitor.status == UNREACHABLE)
    ]
    as_of = {m.pk: newest[m.pk].checked_at for m in judged}
    as_of.update((m.pk, m.last_checked_at) for m in waiting if m.last_checked_at is not None)
    latest_of = latest_results(judged + waiting, as_of)
    judgements: dict[int, Judgement] = {}
    for monitor in judged + waiting:
        new_tick, latest = newest.get(monitor.pk), latest_of[monitor.pk]
        if impaired and latest.keys() & impaired.keys():  # None or empty: no region impaired
            latest = {slug: t for slug, t in latest.items() if slug not in impaired or _reached(t, impaired[slug])}
            if not latest:
                continue
        down = {slug: t for slug, t in latest.items() if t and t.status == DOWN}
        if _newest_in_maintenance(latest):
            # No verdict during maintenance, so no incident: the first check after the window
            # judges the site again, and an outage still going on opens its incident then.
            forget_verdicts(monitor)
            new_status: str = Monitor.Status.MAINTENANCE
        else:
            found = verdict({slug: t.status if t else None for slug, t in latest.items()}, monitor.quorum)
            if new_tick is not None:
                count_verdict(monitor, new_tick.scheduled_at, found == DOWN)
            new_status = confirmed(monitor, found)
        if new_tick is not None and (monitor.last_checked_at is None or new_tick.checked_at > monitor.last_checked_at):
            monitor.last_checked_at = new_tick.checked_at
        judgements[monitor.pk] = Judgement(new_status, as_of[monitor.pk], down)
    batch_as_of = max((tick.checked_at for tick in ticks), default=None)
    _hear_parents(monitors, judgements, batch_as_of)
    still_down, moves = [], []
    for monitor_id, judgement in judgements.items():
        monitor, new_status, down = monitors[monitor_id], judgement.status, judgement.reason_regions
        if new_status != monitor.status:
            # Moving into maintenance resolves an open incident (its resolution: "maintenance").
            if new_status == Monitor.Status.MAINTENANCE:
                reason = "maintenance window"
            else:
                reason = min(down.values(), key=lambda t: t.checked_at).error if down else ""
            moves.append(StatusMove(monitor, new_status, judgement.at, reason, sorted(down)))
        elif new_status == DOWN:
            still_down.append((monitor, sorted(down)))
    change_statuses(moves)
    _widen_open_incidents(still_down)
    save_statuses(judged + waiting)


def _hear_parents(monitors: dict[int, Monitor], judgements: dict[int, Judgement], as_of: datetime | None) -> None:
    """Turn the confirmed downs of monitors with parents into holds or unreachable as their
    parents' verdicts say (checks/state/dependencies.py), parents in the batch first."""
    candidates = {pk for pk, j in judgements.items() if j.status == DOWN and monitors[pk].status != DOWN}
    for pk in judgements.keys() - candidates:
        monitors[pk].held_since = None
    links = dependencies.parents_of(candidates) if candidates else {}
    outside = dependencies.stored_parents({p for ps in links.values() for p in ps} - judgements.keys())
    done: set[int] = set()
    to_ask: set[int] = set()

    def parent(pk: int) -> dependencies.Parent | None:
        if pk in judgements:
            decide(pk)
            judgement, monitor = judgements[pk], monitors[pk]
            moving = judgement.status != monitor.status
            return dependencies.Parent.of(monitor, judgement.status, judgement.at if moving else None)
        return dependencies.Parent.of(outside[pk]) if pk in outside else None  # None: deleted

    def decide(pk: int) -> None:
        if pk in done:
            return
        done.add(pk)  # before the parents: a cycle stored despite the rules still ends
        monitor, judgement = monitors[pk], judgements[pk]
        if pk not in candidates:
            return
        parents = [view for parent_id in links.get(pk, ()) if (view := parent(parent_id)) is not None]
        if not parents:
            monitor.held_since = None
            return
        failing_at = monitor.held_since or judgement.at
        outcome, waited_for = dependencies.decide(
            monitor.status, failing_at, max(as_of or judgement.at, judgement.at), parents
        )
        if outcome == dependencies.HOLD:
            if monitor.held_since is None:
                monitor.held_since = failing_at
                to_ask.update(p.pk for p in waited_for if p.last_checked_at is None or p.last_checked_at < failing_at)
            judgement.status = monitor.status
            return
        monitor.held_since = None
        if outcome == UNREACHABLE or monitor.status == UNREACHABLE:
            judgement.at = dependencies.moved_at(judgement.at, parents)
        judgement.status = outcome

    for pk in candidates:
        decide(pk)
    if to_ask:
        transaction.on_commit(partial(dependencies.ask_for_checks, sorted(to_ask)))


def _reached(result: LatestResult | None, impaired_since: datetime) -> bool:
    """Whether an impaired region's latest result still tells of the site: it reached the
    site through its failing network (an earlier result is of before; a failure is the
    network's)."""
    return result is not None and result.status != DOWN and result.checked_at >= impaired_since


def save_statuses(monitors: list[Monitor]) -> None:
    """Write the monitors' status fields and verdict counters in one statement (an UPDATE
    leaves `updated_at`, which marks people's edits, alone)."""
    if not monitors:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE monitors_monitor AS m
            SET status = v.status, last_checked_at = v.last_checked_at, status_changed_at = v.status_changed_at,
                failure_streak = v.failure_streak, success_streak = v.success_streak,
                streak_slot = v.streak_slot, held_since = v.held_since
            FROM json_to_recordset(%s::json)
                AS v(id bigint, status varchar, last_checked_at timestamptz, status_changed_at timestamptz,
                     failure_streak smallint, success_streak smallint, streak_slot timestamptz,
                     held_since timestamptz)
            WHERE m.id = v.id""",
            [
                rows_json(
                    [
                        {
                            "id": m.pk,
                            "status": m.status,
                            "last_checked_at": m.last_checked_at,
                            "status_changed_at": m.status_changed_at,
                            "failure_streak": m.failure_streak,
                            "success_streak": m.success_streak,
                            "streak_slot": m.streak_slot,
                            "held_since": m.held_since,
                        }
                        for m in monitors
                    ]
                )
            ],
        )


def _newest_in_maintenance(latest: dict[str, LatestResult | None]) -> bool:
    """Whether the newest of the regions' latest results was checked in a maintenance window
    (the newest, so a slot from before a window, finishing late, does not end it)."""
    newest = max((t for t in latest.values() if t), key=lambda t: t.scheduled_at, default=None)
    return newest is not None and newest.in_maintenance


class StatusMove(NamedTuple):
    """A monitor (locked by the caller) moving to `new_status` at `at`."""

    monitor: Monitor
    new_status: str
    at: datetime
    reason: str
    down_regions: list[str]


def change_status(monitor: Monitor, new_status: str, at: datetime, reason: str, down_regions: list[str]) -> None:
    """Record the move of `monitor` (locked by the caller) to `new_status`, and open or
    resolve its incident. Sets the fields on `monitor`; the caller saves them."""
    change_statuses([StatusMove(monitor, new_status, at, reason, down_regions)])


def change_statuses(moves: list[StatusMove]) -> None:
    """Record each move (one per monitor) with its StatusChange row, open an incident for
    each monitor that becomes down and resolve the open one of each that no longer is, and
    queue their alerts. Sets the status fields on the monitors; the caller saves them.

    A handful of statements for the whole list, whatever its length: when a provider that
    many monitors share goes away, one of the outcome writer's batches moves hundreds of
    them, and row-by-row writing made each move cost the writer many times an unchanged tick
    (docs/benchmarks.md, "Measured costs behind the code").
    """
    moves = [move for move in moves if move.new_status != move.monitor.status]
    if not moves:
        return
    StatusChange.objects.bulk_create(
        StatusChange(
            monitor=move.monitor,
            changed_at=move.at,
            from_status=move.monitor.status,
            to_status=move.new_status,
            reason=move.reason[:500],
            down_regions=move.down_regions,
        )
        for move in moves
    )
    opened = Incident.objects.bulk_create(
        Incident(monitor=move.monitor, started_at=move.at, first_error=move.reason[:500], regions=move.down_regions)
        for move in moves
        if move.new_status == DOWN
    )
    resolved = _resolve_incidents([move for move in moves if move.monitor.status == DOWN])
    # Children made unreachable in this batch are recorded above, so the parent's alert
    # names them; one query for the batch (notifications/messages.py reads it).
    listed = dependencies.unreachable_children([*opened, *resolved])
    for incident in [*opened, *resolved]:
        incident.unreachable_children = listed[incident.pk]  # type: ignore[attr-defined]
    notify_incidents([(incident, INCIDENT_OPENED) for incident in opened] + [(i, INCIDENT_RESOLVED) for i in resolved])
    for move in moves:
        move.monitor.status = move.new_status
        move.monitor.status_changed_at = move.at


# Resolves the open incident of each monitor, as of the time of its move and with the status
# it moved to. Table names are the models', not input.
_RESOLVE_SQL = f"""
UPDATE {Incident._meta.db_table} AS incident SET resolved_at = ending.at, resolution = ending.status
FROM json_to_recordset(%s::json) AS ending(monitor_id bigint, at timestamptz, status varchar)
WHERE incident.monitor_id = ending.monitor_id AND incident.resolved_at IS NULL
RETURNING incident.id
"""  # noqa: S608


def _resolve_incidents(moves: list[StatusMove]) -> list[Incident]:
    """Resolve the open incidents of the monitors moving out of down; the incidents resolved.
    One UPDATE for all: Django's bulk_update builds a CASE per row and field, which costs the
    writer far more CPU for a batch of resolutions (docs/benchmarks.md, "Measured costs
    behind the code")."""
    if not moves:
        return []
    rows = [{"monitor_id": move.monitor.pk, "at": move.at, "status": move.new_status} for move in moves]
    with connection.cursor() as cursor:
        cursor.execute(_RESOLVE_SQL, [rows_json(rows)])
        ids = [pk for (pk,) in cursor.fetchall()]
    return list(Incident.objects.filter(pk__any=ids)) if ids else []


# Adds to each open incident the regions that now see its monitor down, where any is new,
# kept sorted as Python sorts (COLLATE "C": byte order, whatever the database's locale).
_WIDEN_SQL = f"""
UPDATE {Incident._meta.db_table} AS incident
SET regions = (
    SELECT jsonb_agg(region ORDER BY region COLLATE "C")
    FROM (SELECT DISTINCT jsonb_array_elements_text(incident.regions || still.regions) AS region) AS regions
)
FROM json_to_recordset(%s::json) AS still(monitor_id bigint, regions jsonb)
WHERE incident.monitor_id = still.monitor_id AND incident.resolved_at IS NULL
  AND NOT incident.regions @> still.regions
"""  # noqa: S608


def _widen_open_incidents(down: list[tuple[Monitor, list[str]]]) -> None:
    """Add regions that now see it down to each still-down monitor's open incident: one
    UPDATE for the batch, touching only the incidents that gain a region, rather than
    reading every still-down monitor's incident and saving each that gains one; where none
    gains one it costs no more (docs/benchmarks.md, "Measured costs behind the code")."""
    if down:
        rows = [{"monitor_id": monitor.pk, "regions": slugs} for monitor, slugs in down]
        with connection.cursor() as cursor:
            cursor.execute(_WIDEN_SQL, [rows_json(rows)])


@transaction.atomic
def set_active(monitor: Monitor, active: bool) -> None:
    """Pause (resolving an open incident) or resume (pending until checked) a monitor whose
    row the caller holds locked; either way its verdicts are counted afresh."""
    forget_verdicts(monitor)
    new_status = Monitor.Status.PENDING if active else Monitor.Status.PAUSED
    change_status(monitor, new_status, timezone.now(), "resumed" if active else "paused", [])
