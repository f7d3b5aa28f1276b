"""The outcome spool: what checks found, waiting in a Redis stream to be written to
PostgreSQL in batches by the outcome writer (checks/outcomes/writer.py).

A check's worker thread only probes and appends here, then its message is acknowledged:
the database costs it nothing, and a PostgreSQL outage delays the writing of results
instead of losing the checks. The stream is as durable as the queues the checks came
from (the same Redis, with AOF). Writers read it as a consumer group, so each outcome is
handed to one writer and stays pending until that writer has committed it; a writer that
dies leaves its entries pending, and another claims them (`claim_stalled`). Writing is
idempotent (one tick per slot), so an entry written twice counts once.
"""

import json
from dataclasses import dataclass
from datetime import datetime

import redis

from probe.target import CheckOutcome, ProbeResult

STREAM_KEY = "uptime:outcomes"
GROUP = "writers"
# Set with the outcome: a redelivered message for a slot already checked is not checked
# again (a worker that died after spooling, before acknowledging, has its message back).
CHECKED_KEY = "uptime:checked:{monitor}:{region}:{slot}"


@dataclass(frozen=True)
class SlotOutcome:
    """What one slot's check in one region found."""

    monitor_id: int
    region_slug: str
    scheduled_at: datetime
    outcome: CheckOutcome
    # Set when the check failed while its region could not reach its canaries (why:
    # checks/worker/canaries.py): the region's outage, not the site's; not a tick.
    region_impaired: str = ""


@dataclass(frozen=True)
class SpooledOutcome:
    entry_id: str
    slot: SlotOutcome | None  # None: an entry that could not be read (kept out of the batch)


def _checked_key(monitor_id: int, region_slug: str, scheduled_at: datetime) -> str:
    return CHECKED_KEY.format(monitor=monitor_id, region=region_slug, slot=scheduled_at.timestamp())


def checked_already(client: redis.Redis, region_slug: str, slots: list[tuple[int, datetime]]) -> list[bool]:
    """For each (monitor, slot) checked from the region: was its outcome spooled already?
    One round trip for a whole bundle."""
    if not slots:
        return []
    with client.pipeline(transaction=False) as pipe:
        for monitor_id, scheduled_at in slots:
            pipe.exists(_checked_key(monitor_id, region_slug, scheduled_at))
        return [bool(found) for found in pipe.execute()]


def spool(client: redis.Redis, outcomes: list[tuple[SlotOutcome, int]]) -> None:
    """Append the outcomes, and remember each slot as checked for its number of seconds,
    in one round trip. (Not a MULTI: should Redis lose a note, a redelivered message checks
    again and the unique slot still keeps one tick.)"""
    if not outcomes:
        return
    with client.pipeline(transaction=False) as pipe:
        for slot, remember_seconds in outcomes:
            pipe.xadd(STREAM_KEY, {"outcome": encode(slot)})
            pipe.set(_checked_key(slot.monitor_id, slot.region_slug, slot.scheduled_at), 1, ex=remember_seconds)
        pipe.execute()


def encode(slot: SlotOutcome) -> str:
    result, outcome = slot.outcome.result, slot.outcome
    return json.dumps(
        {
            "monitor": slot.monitor_id,
            "region": slot.region_slug,
            "slot": slot.scheduled_at.isoformat(),
            "attempts": outcome.attempts,
            "checked_at": outcome.started_at.isoformat(),
            "up": result.is_up,
            "started_at": result.started_at.isoformat(),
            "status_code": result.status_code,
            "response_time_ms": result.response_time_ms,
            "error": result.error,
            "tls_expires_at": result.tls_expires_at.isoformat() if result.tls_expires_at else None,
            "impaired": slot.region_impaired,
        }
    )


def decode(raw: bytes | str) -> SlotOutcome:
    data = json.loads(raw)
    tls = data["tls_expires_at"]
    result = ProbeResult(
        is_up=data["up"],
        started_at=datetime.fromisoformat(data["started_at"]),
        status_code=data["status_code"],
        response_time_ms=data["response_time_ms"],
        error=data["error"],
        tls_expires_at=datetime.fromisoformat(tls) if tls else None,
    )
    return SlotOutcome(
        monitor_id=data["monitor"],
        region_slug=data["region"],
        scheduled_at=datetime.fromisoformat(data["slot"]),
        outcome=CheckOutcome(result, data["attempts"], datetime.fromisoformat(data["checked_at"])),
        region_impaired=data.get("impaired", ""),  # absent from entries spooled before canaries
    )


def ensure_group(client: redis.Redis) -> None:
    try:
        client.xgroup_create(STREAM_KEY, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def take(client: redis.Redis, consumer: str, count: int, block_ms: int | None) -> list[SpooledOutcome]:
    """The consumer's own pending entries first (ones it failed to write, or claimed), else
    up to `count` new ones, waiting at most `block_ms` for some to arrive."""
    try:
        entries = _read(client, consumer, "0", count, None) or _read(client, consumer, ">", count, block_ms)
    except redis.ResponseError as exc:
        if "NOGROUP" not in str(exc):
            raise
        ensure_group(client)  # the stream was deleted (a flushed or replaced Redis)
        return []
    return entries


def _read(client, consumer: str, start: str, count: int, block_ms: int | None) -> list[SpooledOutcome]:
    answer = client.xreadgroup(GROUP, consumer, {STREAM_KEY: start}, count=count, block=block_ms)
    entries = []
    for _, messages in answer or []:
        for entry_id, fields in messages:
            raw = (fields or {}).get(b"outcome")
            try:
                slot = decode(raw) if raw is not None else None
            except (ValueError, KeyError, TypeError):
                slot = None
            entries.append(SpooledOutcome(entry_id.decode(), slot))
    return entries


def claim_stalled(client: redis.Redis, consumer: str, min_idle_ms: int, count: int = 1000) -> int:
    """Take over entries another writer has held unwritten for `min_idle_ms` (it died, or
    cannot reach the database); they are then this consumer's pending ones. How many."""
    claimed = client.xautoclaim(STREAM_KEY, GROUP, consumer, min_idle_ms, start_id="0-0", count=count)
    return len(claimed[1]) if claimed else 0


def done(client: redis.Redis, entry_ids: list[str]) -> None:
    """Acknowledge written entries and drop them from the stream."""
    if not entry_ids:
        return
    with client.pipeline(transaction=False) as pipe:
        pipe.xack(STREAM_KEY, GROUP, *entry_ids)
        pipe.xdel(STREAM_KEY, *entry_ids)
        pipe.execute()


def backlog(client: redis.Redis) -> int:
    """Outcomes waiting to be written (for health and metrics)."""
    return client.xlen(STREAM_KEY)


def active_writers(client: redis.Redis, within_seconds: float) -> int:
    """Writers that read the spool within the last `within_seconds` (for health and
    metrics): a running writer reads at least every second, idle or not. Writers that
    stopped cleanly are gone from the group; one that died stays, and ages."""
    try:
        consumers = client.xinfo_consumers(STREAM_KEY, GROUP)
    except redis.ResponseError:  # no stream or group: no writer has started yet
        return 0
    return sum(1 for consumer in consumers if consumer["idle"] < within_seconds * 1000)
