"""Our own connectivity: a region's canary rounds. A region's workers reach for its canary
targets (settings.CANARY_TARGETS) every CANARY_INTERVAL_SECONDS and whenever a site's check
fails there. While a region cannot reach more than half of them it is impaired: its
network is failing, not the sites, and the outcome writer keeps its failed checks out of
the ticks and the verdicts (checks/state/impairments.py).

Each round is published in Redis, where the writer, health and /metrics read the latest;
processes of one region share rounds through it, so a mass outage of sites, failing
thousands of checks at once, costs one round, not one per check.
"""

import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from urllib.parse import urlsplit

import redis
from django.conf import settings

from probe.check import probe
from probe.target import ProbeTarget
from uptime.redis_clients import shared_client

logger = logging.getLogger(__name__)

ROUNDS_KEY = "uptime:canaries"  # a hash: region slug -> its latest round (JSON)
# A round at most this old judges a failed check instead of a new one.
REUSE_SECONDS = 5
# A round older than this many canary intervals says nothing of now.
STALE_INTERVALS = 3
# Any answer at all means the network reached the canary: a 503 from it is not our outage.
ANY_STATUS = ((100, 599),)

# The round's times that may be None, as encoded.
_TIMES = ("impaired_at", "impaired_since")


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


@dataclass(frozen=True)
class CanaryRound:
    """What one round of a region's canaries found."""

    region: str
    at: datetime  # when it began
    reached: int
    of: int
    # The canaries not reached, each as "host: why", for the operator.
    failing: tuple[str, ...] = ()
    # The latest round of the region that was impaired, this one or one before: a check
    # that failed while the network was failing may end after it is back.
    impaired_at: datetime | None = None
    # While impaired: the first round of this impairment (what the region checked since
    # then, it checked through the failing network).
    impaired_since: datetime | None = None

    @property
    def impaired(self) -> bool:
        return self.of > 0 and 2 * (self.of - self.reached) > self.of

    def describe(self) -> str:
        return f"{self.of - self.reached} of {self.of} canaries unreachable: " + "; ".join(self.failing)

    def age_seconds(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - self.at).total_seconds()

    def encode(self) -> str:
        return json.dumps(
            {"at": self.at.isoformat(), "reached": self.reached, "of": self.of, "failing": self.failing}
            | {name: _iso(getattr(self, name)) for name in _TIMES}
        )

    @classmethod
    def decode(cls, region: str, raw: bytes | str) -> "CanaryRound":
        data = json.loads(raw)
        at, since = (datetime.fromisoformat(data[name]) if data.get(name) else None for name in _TIMES)
        return cls(
            region, datetime.fromisoformat(data["at"]), data["reached"], data["of"], tuple(data["failing"]), at, since
        )


def says_something_of_now(found: CanaryRound, now: datetime) -> bool:
    """Whether a round is recent enough to tell of the region now: an older one means no
    worker of the region runs rounds (gone: the watchdog's gaps and health say so)."""
    return found.age_seconds(now) <= STALE_INTERVALS * settings.CANARY_INTERVAL_SECONDS


def canary_targets(region: str) -> list[str]:
    return settings.CANARY_TARGETS_BY_REGION.get(region, settings.CANARY_TARGETS)


def latest_rounds(client: redis.Redis) -> dict[str, CanaryRound]:
    """Every region's latest published round, by slug (one round trip)."""
    return decode_rounds(client.hgetall(ROUNDS_KEY))


def decode_rounds(published: dict) -> dict[str, CanaryRound]:
    """The rounds of ROUNDS_KEY's hash, as read; an unreadable one is left out."""
    rounds = {}
    for slug, raw in published.items():
        region = slug.decode() if isinstance(slug, bytes) else slug
        try:
            rounds[region] = CanaryRound.decode(region, raw)
        except (ValueError, KeyError, TypeError):
            logger.warning("ignoring an unreadable canary round of %s", region)
    return rounds


def _why_not_reached(region: str, url: str) -> str | None:
    """None when the canary answered; else why not. Operator-set targets: the address guard,
    which keeps users' URLs out of our network, does not apply (the default set includes
    this installation's own address)."""
    result = probe(
        ProbeTarget(
            url=url,
            # No body to read: the answer's status line is all a canary is asked for.
            method="HEAD",
            timeout_seconds=settings.CANARY_TIMEOUT_SECONDS,
            expected_status=ANY_STATUS,
            max_redirects=0,
            user_agent=f"{settings.PROBE_USER_AGENT} region/{region}",  # as the region's checks say
            ca_bundle=settings.PROBE_CA_BUNDLE,
            allow_private=True,
        )
    )
    return None if result.is_up else f"{urlsplit(url).netloc}: {result.error or 'no answer'}"


def run_round(region: str, targets: list[str], before: CanaryRound | None = None) -> CanaryRound:
    """Reach for every target at once (a round lasts one timeout at most) and publish what
    was found (with when the region was last impaired, from the round `before` it)."""
    at = datetime.now(UTC)
    with ThreadPoolExecutor(len(targets), thread_name_prefix="canary") as pool:
        failing = tuple(why for why in pool.map(partial(_why_not_reached, region), targets) if why is not None)
    found = CanaryRound(region, at, len(targets) - len(failing), len(targets), failing)
    if found.impaired:
        since = before.impaired_since if before is not None and before.impaired else None
        found = replace(found, impaired_at=at, impaired_since=since or at)
    elif before is not None:
        found = replace(found, impaired_at=before.impaired_at)
    if found.impaired:
        logger.warning("region %s is impaired: %s", region, found.describe())
    try:
        shared_client().hset(ROUNDS_KEY, region, found.encode())
    except redis.RedisError as exc:
        logger.warning("canary round of %s not published: %s", region, exc)
    return found


class _Rounds:
    """A process's rounds: one at a time per region, the others waiting for it."""

    def __init__(self):
        self._guard = threading.Lock()
        self._pid: int | None = None
        self._locks: dict[str, threading.Lock] = {}
        self._latest: dict[str, CanaryRound] = {}

    def _lock(self, region: str) -> threading.Lock:
        with self._guard:
            if self._pid != os.getpid():
                # A forked pool child: locks held by the parent's threads at the fork stay
                # held in the copy; start afresh.
                self._pid, self._locks, self._latest = os.getpid(), {}, {}
            return self._locks.setdefault(region, threading.Lock())

    def fresh(self, region: str, within_seconds: float) -> CanaryRound | None:
        """The region's round begun within `within_seconds`, or, once that is over, a new
        one; None when the region has no canaries."""
        targets = canary_targets(region)
        if not targets:
            return None
        with self._lock(region):
            latest = self._latest.get(region)
            if latest is None or latest.age_seconds() > within_seconds:
                latest = self._published(region) or latest
            if latest is None or latest.age_seconds() > within_seconds:
                latest = run_round(region, targets, before=latest)
            self._latest[region] = latest
            return latest

    @staticmethod
    def _published(region: str) -> CanaryRound | None:
        """Another process's round of the region, from Redis."""
        try:
            raw = shared_client().hget(ROUNDS_KEY, region)
        except redis.RedisError:
            return None
        try:
            return CanaryRound.decode(region, raw) if raw else None
        except (ValueError, KeyError, TypeError):
            return None


rounds = _Rounds()


def impairment_of_failure(region: str, check_started_at: datetime) -> str:
    """For a check begun at `check_started_at` that failed in `region`: why the region, not
    the site, is to blame ("3 of 4 canaries unreachable: ..."), or "" when the region
    reached its canaries (or has none) all the while and the failure is the site's."""
    found = rounds.fresh(region, REUSE_SECONDS)
    if found is None:
        return ""
    if found.impaired:
        return found.describe()
    if found.impaired_at is not None and found.impaired_at >= check_started_at:
        # The network came back before the check ended: its failure may still be the network's.
        return f"the region could not reach its canaries at {found.impaired_at:%H:%M:%S} UTC, during the check"
    return ""


def watch_canaries(regions: list[str], stopping: threading.Event) -> None:
    """Run the regions' rounds every CANARY_INTERVAL_SECONDS until `stopping` (a worker's
    thread: checks/worker/steps.py), so an impairment and its end are known even while no
    check fails."""
    interval = settings.CANARY_INTERVAL_SECONDS
    while not stopping.is_set():
        for region in regions:
            try:
                # Less than an interval: a round another worker of the region ran lately
                # counts, so a region with many workers still runs about one per interval.
                rounds.fresh(region, interval / 2)
            except Exception:  # a thread that must outlive any one round's surprise
                logger.exception("canary round of %s failed", region)
        stopping.wait(interval)
