"""The system's own health: database, broker, and per region its queue and its workers."""

import logging
import time
from datetime import UTC, datetime
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Count

from checks.beat.lease import lease_status
from checks.models import Gap
from checks.outcomes import spool
from checks.worker.canaries import ROUNDS_KEY, CanaryRound, decode_rounds, says_something_of_now
from checks.worker.liveness import DEAD_AFTER_HEARTBEATS, heartbeat_key
from monitors.models import Region
from notifications.dead_letter import dead_letter_health
from uptime.redis_clients import redis_client

logger = logging.getLogger(__name__)

# An outcome writer not seen reading the spool for this long is counted as gone (a running
# one reads at least every second; a long batch or a database outage is well within this).
WRITER_SEEN_WITHIN_SECONDS = 30
# Heartbeats of workers gone for a day are dropped from the report (and from Redis).
FORGET_WORKER_AFTER_SECONDS = 24 * 60 * 60


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, ""
    except DatabaseError as exc:
        return False, _unreachable("database", exc)


def region_report(client: redis.Redis, slugs: list[str], now: float) -> dict[str, dict[str, Any]]:
    alive_after = now - DEAD_AFTER_HEARTBEATS * settings.CELERY_WORKER_HEARTBEAT_SECONDS
    with client.pipeline(transaction=False) as pipe:
        for slug in slugs:
            pipe.llen(slug)
            pipe.hgetall(heartbeat_key(slug))
        pipe.hgetall(ROUNDS_KEY)
        replies = pipe.execute()
    rounds = decode_rounds(replies.pop())
    now_utc = datetime.fromtimestamp(now, UTC)
    report = {}
    for index, slug in enumerate(slugs):
        depth, beats = replies[2 * index], replies[2 * index + 1]
        seen = {name.decode(): float(value) for name, value in beats.items()}
        stale = [name for name, at in seen.items() if at < now - FORGET_WORKER_AFTER_SECONDS]
        if stale:
            client.hdel(heartbeat_key(slug), *stale)
        last = max(seen.values(), default=None)
        workers = sum(1 for at in seen.values() if at >= alive_after)
        report[slug] = {
            "queue_depth": depth,
            "workers": workers,
            "last_heartbeat": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(last)) if last else None,
            "last_heartbeat_age_seconds": round(now - last, 1) if last else None,
            # Checks are queued here and nobody is taking them.
            "stalled": workers == 0 and depth > 0,
            # Monitors whose checks stopped arriving here (the watchdog's open gaps).
            "late_monitors": 0,
            **_canary_report(rounds.get(slug), now_utc),
        }
    return report


def _canary_report(found: CanaryRound | None, now: datetime) -> dict[str, Any]:
    """A region's latest canary round (checks/worker/canaries.py): counts only, since the
    targets are the operator's business. Impaired: it cannot reach most of its canaries,
    and its failed checks are not counted against the sites."""
    current = found is not None and says_something_of_now(found, now)
    return {
        "impaired": bool(current and found and found.impaired),
        "canaries_reached": found.reached if found else None,
        "canaries": found.of if found else None,
        "canaries_checked_at": found.at.strftime("%Y-%m-%dT%H:%M:%SZ") if found else None,
    }


def outcome_report(client: redis.Redis) -> dict[str, Any]:
    """Checks done and not yet written to PostgreSQL (growing: the database is away, or no
    writer runs), the writers seen lately, and whether outcomes wait with none."""
    waiting = spool.backlog(client)
    writers = spool.active_writers(client, WRITER_SEEN_WITHIN_SECONDS)
    return {"outcomes_waiting": waiting, "outcome_writers": writers, "writing_stalled": waiting > 0 and writers == 0}


def late_monitors_by_region() -> dict[str, int]:
    open_gaps = Gap.objects.filter(ends_at__isnull=True).values_list("region__slug")
    return dict(open_gaps.annotate(late=Count("id")).values_list("region__slug", "late"))


def _unreachable(service: str, exc: Exception) -> str:
    """What the report says of a failure: its kind only. The report needs no token, and the
    error's own text names hosts, ports and users; that goes to the log for the operator."""
    logger.warning("health: the %s does not answer: %s", service, exc)
    return f"{type(exc).__name__} (details in the web process's log)"


def health_report() -> tuple[bool, dict[str, Any]]:
    """Return (healthy, report). Healthy means the database and the broker both answer;
    a healthy system whose alerts die on several channels at once is "degraded" (still
    healthy: restarting the web process would not bring one alert through)."""
    database_ok, database_error = _database_ok()
    report: dict[str, Any] = {"database": {"ok": database_ok}, "broker": {"ok": False}, "regions": {}}
    if database_error:
        report["database"]["error"] = database_error

    client = redis_client()
    try:
        client.ping()
        report["broker"]["ok"] = True
        slugs = list(Region.objects.values_list("slug", flat=True)) if database_ok else []
        report["regions"] = region_report(client, slugs, time.time())
        report["beat"] = lease_status(client)
        report.update(outcome_report(client))
        for slug, late in late_monitors_by_region().items():
            report["regions"][slug]["late_monitors"] = late
    except redis.RedisError as exc:
        report["broker"]["error"] = _unreachable("broker", exc)
    finally:
        client.close()

    if database_ok:
        report["deliveries"] = dead_letter_health()
    healthy = database_ok and report["broker"]["ok"]
    report["status"] = "unavailable"
    if healthy:
        impaired = any(region["impaired"] for region in report["regions"].values())
        report["status"] = "degraded" if report["deliveries"]["degraded"] or impaired else "ok"
    return healthy, report
