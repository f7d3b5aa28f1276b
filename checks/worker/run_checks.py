"""Running scheduled slots' checks: the work behind the check tasks. Outcomes go to the
spool (checks/outcomes/spool.py); the outcome writer records them (checks/outcomes/recording.py)."""

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections
from redis import RedisError

from checks.outcomes.recording import record_outcomes
from checks.outcomes.spool import SlotOutcome, checked_already, spool
from checks.worker.batched_writes import BatchedWrites
from checks.worker.canaries import impairment_of_failure
from checks.worker.monitor_cache import Assignment, monitor_cache
from probe.check import check
from uptime.redis_clients import shared_client

logger = logging.getLogger(__name__)

# How long a worker remembers that it checked a slot, in intervals: long enough for a
# redelivered message (it expires one interval after its send) to find the note.
REMEMBER_CHECKED_INTERVALS = 2


class _CheckThreads:
    """The threads that run the checks of a bundle side by side, one pool per process
    (a prefork child makes its own). A bundle's task waits for all of its checks, so its
    message is acknowledged only once every outcome is spooled."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pid: int | None = None

    def pool(self) -> ThreadPoolExecutor:
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._pool = ThreadPoolExecutor(settings.CELERY_WORKER_CONCURRENCY, thread_name_prefix="check")
                    self._pid = os.getpid()
        assert self._pool is not None  # made above, for this process
        return self._pool


_check_threads = _CheckThreads()


def run_slot(monitor_id: int, region_slug: str, scheduled_at: datetime) -> SlotOutcome | None:
    """Check one monitor from one region for one slot, and spool the outcome.

    Returns None, checking nothing, when there is nothing to do: the monitor was deleted,
    paused or moved out of the region since the message was sent, or the slot was
    checked already (a redelivered message).
    """
    return run_slots(region_slug, [(monitor_id, scheduled_at)])[0]


def run_slots(region_slug: str, slots: list[tuple[int, datetime]]) -> list[SlotOutcome | None]:
    """Check each (monitor, slot) of a bundle from one region, side by side, and spool
    each outcome as it comes; the outcomes (None where run_slot's would be) in the
    bundle's order. Returns once every outcome is spooled. Should some fail for want of
    Redis and PostgreSQL both, that error is raised once the others have ended (the task
    is retried; the slots spooled are not checked again)."""
    to_check = _slots_to_check(shared_client(), region_slug, slots)
    bundle = _Bundle(len(to_check))
    for assignment, at in to_check[:-1]:
        _check_threads.pool().submit(_check_and_spool, assignment, at, region_slug, bundle)
    if to_check:  # the last one in the task's own thread: a bundle of one costs no hand-over
        _check_and_spool(*to_check[-1], region_slug, bundle)
    bundle.wait()
    if bundle.failure is not None:
        raise bundle.failure
    return [bundle.outcomes.get(key) for key in slots]


class _Bundle:
    """What a bundle's task waits for: each of its checks spooled (or failed)."""

    def __init__(self, size: int):
        self.outcomes: dict[tuple[int, datetime], SlotOutcome] = {}
        self.failure: BaseException | None = None
        self._left = size
        self._lock = threading.Lock()
        self._all_spooled = threading.Event()
        if not size:
            self._all_spooled.set()

    def ended(self, failure: BaseException | None = None) -> None:
        with self._lock:
            self.failure = self.failure or failure
            self._left -= 1
            if self._left == 0:
                self._all_spooled.set()

    def wait(self) -> None:
        self._all_spooled.wait()


def _check_and_spool(assignment: Assignment, scheduled_at: datetime, region_slug: str, bundle: _Bundle) -> None:
    try:
        slot, remember_seconds = _check(assignment, scheduled_at, region_slug)
    except Exception as exc:  # not the site's failure (that is an outcome): ours
        logger.exception("check of monitor %s in %s failed", assignment.monitor_id, region_slug)
        bundle.ended(exc)
        return
    bundle.outcomes[(slot.monitor_id, slot.scheduled_at)] = slot
    _spooling.add((slot, remember_seconds), bundle.ended)


def _slots_to_check(redis, region_slug: str, slots: list[tuple[int, datetime]]) -> list[tuple[Assignment, datetime]]:
    """The bundle's slots less those with nothing to do: the monitor is no longer active in
    the region, or the slot's outcome is spooled already (one round trip for all)."""
    assignments = [monitor_cache.assignment(monitor_id, region_slug) for monitor_id, _ in slots]
    for (monitor_id, _), assignment in zip(slots, assignments, strict=True):
        if assignment is None:
            logger.info("skipping monitor %s in %s: not active there any more", monitor_id, region_slug)
    wanted = [(monitor_id, at) for (monitor_id, at), found in zip(slots, assignments, strict=True) if found]
    done = dict(zip(wanted, checked_already(redis, region_slug, wanted), strict=True))
    to_check = []
    for (monitor_id, at), assignment in zip(slots, assignments, strict=True):
        if assignment is not None and done[(monitor_id, at)]:
            logger.info("skipping monitor %s in %s at %s: already checked", monitor_id, region_slug, at)
        elif assignment is not None:
            to_check.append((assignment, at))
            done[(monitor_id, at)] = True  # a slot twice in one bundle is checked once
    return to_check


def _check(assignment: Assignment, scheduled_at: datetime, region_slug: str) -> tuple[SlotOutcome, int]:
    """Check the slot: its outcome, and how long to remember the slot as checked."""
    # The next slot begins one interval after this one; retries must be over by then.
    deadline = (scheduled_at + timedelta(seconds=assignment.interval_seconds)).timestamp()
    outcome = check(assignment.targets[region_slug], assignment.retries, assignment.retry_interval_seconds, deadline)
    # A failure is the site's only if the region reaches its canaries: one round per few
    # seconds and region, shared by every check failing meanwhile.
    impaired = "" if outcome.result.is_up else impairment_of_failure(region_slug, outcome.started_at)
    slot = SlotOutcome(assignment.monitor_id, region_slug, scheduled_at, outcome, impaired)
    return slot, REMEMBER_CHECKED_INTERVALS * assignment.interval_seconds


def _spool(outcomes: list[tuple[SlotOutcome, int]]) -> None:
    try:
        spool(shared_client(), outcomes)
    except RedisError as exc:
        # Redis went away during the checks: record them straight away instead of checking
        # again later (if PostgreSQL is away too, the task is retried).
        logger.warning("%s outcome(s) not spooled, recording them now: %s", len(outcomes), exc)
        try:
            record_outcomes([slot for slot, _ in outcomes])
        except Exception:
            close_old_connections()  # a connection the outage broke is replaced next time
            raise


# The check threads' outcomes, appended by one thread per worker, a batch every 10 ms.
_spooling = BatchedWrites(_spool, "spool", gather_seconds=0.01, max_batch=1000)
