"""Impaired regions: those whose latest canary round (checks/worker/canaries.py) could not
reach most of their canaries. Their failed checks are not ticks and no verdict moves on
them (checks/outcomes/recording.py, checks/state/transitions.py); each impairment is kept
as a RegionImpairment row, opened at the first failing round and closed at the first
passing one, and each opening and closing is told to the operator's channel.

Run by the outcome writer with every batch and by the watchdog, so an impairment is
recorded even while no check is written."""

import logging
from datetime import UTC, datetime
from functools import partial

import redis
from django.db import connection, transaction

from checks.models import RegionImpairment
from checks.worker.canaries import CanaryRound, latest_rounds, says_something_of_now
from monitors.models import Region
from notifications.messages import REGION_IMPAIRED, REGION_RECOVERED, region_event_context
from notifications.services import notify_operators
from uptime.redis_clients import shared_client

logger = logging.getLogger(__name__)

# Impaired or not, per region, as this process last recorded it: only a change costs a
# statement, so the writer's batches pay one Redis read each and nothing more.
_recorded: dict[str, bool] = {}

_OPEN_SQL = f"""
INSERT INTO {RegionImpairment._meta.db_table} (region_id, started_at, detail)
SELECT id, %s, %s FROM {Region._meta.db_table} WHERE slug = %s
ON CONFLICT (region_id) WHERE ended_at IS NULL DO NOTHING
RETURNING id
"""  # noqa: S608 - table names from the models, values as parameters

_CLOSE_SQL = f"""
UPDATE {RegionImpairment._meta.db_table} SET ended_at = %s
WHERE region_id = (SELECT id FROM {Region._meta.db_table} WHERE slug = %s)
  AND ended_at IS NULL AND started_at <= %s
RETURNING started_at
"""  # noqa: S608


def current_rounds(now: datetime | None = None) -> dict[str, CanaryRound]:
    """The regions' latest rounds that still say something of now, by slug ({} while Redis
    is away: then only the checks' own marks say a region is impaired)."""
    now = now or datetime.now(UTC)
    try:
        found = latest_rounds(shared_client())
    except redis.RedisError as exc:
        logger.warning("canary rounds not read: %s", exc)
        return {}
    return {slug: found_round for slug, found_round in found.items() if says_something_of_now(found_round, now)}


def impaired_regions(rounds: dict[str, CanaryRound]) -> dict[str, datetime]:
    """The regions impaired now, each with the start of its impairment (what it checked
    since then, it checked through its failing network)."""
    return {slug: found.impaired_since or found.at for slug, found in rounds.items() if found.impaired}


def record_rounds(rounds: dict[str, CanaryRound]) -> None:
    """Open or close the regions' RegionImpairment rows as their rounds say, in the caller's
    transaction; tell the operator of each one opened or closed (two writers seeing the
    same round write it once: the statements are conditional)."""
    changed = {slug: found for slug, found in rounds.items() if _recorded.get(slug) != found.impaired}
    for slug, found in changed.items():
        with connection.cursor() as cursor:
            if found.impaired:
                cursor.execute(_OPEN_SQL, [found.at, found.describe()[:500], slug])
                if cursor.fetchone():
                    _tell_operator(REGION_IMPAIRED, slug, found, None)
            else:
                cursor.execute(_CLOSE_SQL, [found.at, slug, found.at])
                for (started_at,) in cursor.fetchall():
                    _tell_operator(REGION_RECOVERED, slug, found, started_at)
    if changed:
        # Only once written: a batch rolled back records them again with the next one.
        transaction.on_commit(partial(_recorded.update, {slug: found.impaired for slug, found in changed.items()}))


@transaction.atomic
def record_current_rounds() -> dict[str, datetime]:
    """Record what the regions' latest rounds say (the watchdog's runs: the writer does it
    with every batch); the regions impaired now."""
    rounds = current_rounds()
    record_rounds(rounds)
    return impaired_regions(rounds)


def _tell_operator(event: str, slug: str, found: CanaryRound, started_at: datetime | None) -> None:
    context = region_event_context(event, slug, found.at, found.reached, found.of, found.describe(), started_at)
    if not notify_operators(event, context):
        logger.warning("%s (no OPERATOR_CHANNEL_ID to tell)", context["title"])
