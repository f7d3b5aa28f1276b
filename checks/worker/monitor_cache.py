"""What a worker checks and how, kept in its memory: the settings of the monitors of the
regions it serves, read once in bulk and then only the rows edited since.

A check then costs the database nothing before it is recorded, and a worker goes on
checking with what it knows while PostgreSQL is away (its results wait in the outcome
spool, checks/outcomes/spool.py). Edits reach it within MONITOR_REFRESH_SECONDS: every edit goes
through monitors.services.save_monitor, which bumps `updated_at` with its regions.
"""

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from monitors.models import Monitor
from probe.target import ProbeTarget, parse_status_ranges

logger = logging.getLogger(__name__)

# `updated_at` is stamped by the editing process's clock before its transaction commits,
# so an edit can become visible with a stamp a little older than the last read: look
# back this far. Reading a row twice is harmless.
CLOCK_MARGIN = timedelta(seconds=5)
# Rows deleted, paused or moved out of the regions, and edits missed despite the margin,
# are caught this often by a reconciliation: the ids and edit stamps of every active monitor
# of the regions, and a full read of only those whose stamp is not the one held.
FULL_READ_SECONDS = 300


@dataclass(frozen=True)
class Assignment:
    """One monitor as its checks need it."""

    monitor_id: int
    # The monitor's edit stamp when read: the reconciliation reads again what differs.
    updated_at: datetime
    interval_seconds: int
    retries: int
    retry_interval_seconds: int
    # What to check, per region the monitor is checked from (each names its region).
    targets: dict[str, ProbeTarget]


class MonitorCache:
    """The active monitors one worker process may be asked to check, by id."""

    def __init__(self):
        self._lock = threading.Lock()
        self._assignments: dict[int, Assignment] = {}
        self._read_at: datetime | None = None
        self._full_read_at = 0.0
        self._refreshed_at = 0.0
        # The regions this process checks from (its queues), learnt from the checks it is
        # asked for: only their monitors are kept.
        self._regions: frozenset[str] = frozenset()

    def warm(self, region_slugs) -> None:
        """Read the monitors of these regions now (a worker's queues, at its start), so
        its first checks do not wait for the read."""
        with self._lock:
            self._regions |= frozenset(region_slugs)
            self._read_at = None
        self._refresh()

    def assignment(self, monitor_id: int, region_slug: str) -> Assignment | None:
        """The monitor's settings if it is active in the region, else None.

        Reads what changed when the last read is older than MONITOR_REFRESH_SECONDS; if
        the database is away, answers from what it read before (and raises only when it
        never read anything).
        """
        if region_slug not in self._regions:
            with self._lock:
                # A region new to this process: read all of it, with the others, at once.
                self._regions |= {region_slug}
                self._read_at = None
        if self._read_at is None or time.monotonic() - self._refreshed_at >= settings.MONITOR_REFRESH_SECONDS:
            self._refresh()
        found = self._assignments.get(monitor_id)
        if found is None or region_slug not in found.targets:
            # Not held, or not for this region: a monitor created, resumed or given this
            # region since the last read (its first check is sent at once, within the
            # refresh period), or one no longer active here. Only its row can tell which.
            found = self._read_one(monitor_id)
        return found if found is not None and region_slug in found.targets else None

    def _read_one(self, monitor_id: int) -> Assignment | None:
        try:
            found = self._read(Monitor.objects.filter(pk=monitor_id)).get(monitor_id)
        except DatabaseError as exc:
            logger.warning("monitor %s not held and its settings could not be read: %s", monitor_id, exc)
            return None
        with self._lock:  # not while a refresh builds its new dictionary from this one
            if found is None:
                self._assignments.pop(monitor_id, None)
            else:
                self._assignments[monitor_id] = found
        return found

    def _refresh(self) -> None:
        # One thread reads; the others go on with the current dictionary meanwhile.
        if not self._lock.acquire(blocking=self._read_at is None):
            return
        try:
            first = self._read_at is None
            reconcile = not first and time.monotonic() - self._full_read_at >= FULL_READ_SECONDS
            started = timezone.now()
            try:
                if self._read_at is None:  # first
                    rows = self._read(self._active_in(self._regions))
                elif reconcile:
                    rows = self._reconcile()
                else:
                    rows = self._read(Monitor.objects.filter(updated_at__gte=self._read_at - CLOCK_MARGIN))
            except DatabaseError as exc:
                if first:
                    raise
                logger.warning("monitor settings not refreshed, checking with those read before: %s", exc)
                self._refreshed_at = time.monotonic()
                return
            assignments = {} if first else dict(self._assignments)
            for monitor_id, assignment in rows.items():
                if assignment is None:
                    assignments.pop(monitor_id, None)
                else:
                    assignments[monitor_id] = assignment
            self._assignments = assignments
            self._read_at = started
            self._refreshed_at = time.monotonic()
            if first or reconcile:
                self._full_read_at = self._refreshed_at
        finally:
            self._lock.release()

    @staticmethod
    def _active_in(regions: frozenset[str]):
        return Monitor.objects.filter(is_active=True, regions__slug__in=regions).distinct()

    def _reconcile(self) -> dict[int, Assignment | None]:
        """What a full read would change, for the price of reading ids and stamps: the
        monitors active here whose stamp differs from the one held, read again, and None
        for those held that are no longer active here. Reading every monitor in full costs a
        worker far more CPU at many thousands of monitors, all its checks waiting meanwhile
        (docs/benchmarks.md, "Measured costs behind the code")."""
        stamps = dict(self._active_in(self._regions).values_list("pk", "updated_at"))
        stale = [
            monitor_id
            for monitor_id, stamp in stamps.items()
            if (held := self._assignments.get(monitor_id)) is None or held.updated_at != stamp
        ]
        rows = self._read(Monitor.objects.filter(pk__any=stale)) if stale else {}
        rows.update({monitor_id: None for monitor_id in self._assignments if monitor_id not in stamps})
        return rows

    def _read(self, monitors) -> dict[int, Assignment | None]:
        """An Assignment for each of `monitors` active in one of this process's regions,
        None for the others."""
        found: dict[int, Assignment | None] = {}
        for monitor in monitors.prefetch_related("regions").iterator(chunk_size=2000):
            targets = {
                region.slug: probe_target(monitor, region.slug)
                for region in monitor.regions.all()
                if region.slug in self._regions
            }
            found[monitor.pk] = (
                Assignment(
                    monitor_id=monitor.pk,
                    updated_at=monitor.updated_at,
                    interval_seconds=monitor.interval_seconds,
                    retries=monitor.retries,
                    retry_interval_seconds=monitor.retry_interval_seconds,
                    targets=targets,
                )
                if monitor.is_active and targets
                else None
            )
        return found


def probe_target(monitor: Monitor, region_slug: str = "") -> ProbeTarget:
    """What to check and how, from the monitor's settings. The User-Agent names the region,
    so a site's owner can tell our vantage points apart in their logs."""
    if monitor.kind == Monitor.Kind.TCP:
        return ProbeTarget(
            url=monitor.url, timeout_seconds=monitor.timeout_seconds, allow_private=settings.ALLOW_PRIVATE_TARGETS
        )
    return ProbeTarget(
        url=monitor.url,
        method=monitor.method,
        timeout_seconds=monitor.timeout_seconds,
        expected_status=parse_status_ranges(monitor.expected_status),
        max_redirects=settings.PROBE_MAX_REDIRECTS if monitor.follow_redirects else 0,
        max_body_bytes=settings.PROBE_MAX_BODY_BYTES,
        user_agent=f"{settings.PROBE_USER_AGENT} region/{region_slug}" if region_slug else settings.PROBE_USER_AGENT,
        headers=tuple(monitor.request_headers.items()),
        body=monitor.request_body.encode(),
        content_type=monitor.request_content_type,
        basic_auth=(monitor.auth_username, monitor.auth_password) if monitor.auth_username else None,
        keyword=monitor.keyword,
        keyword_absent=monitor.keyword_mode == Monitor.KeywordMode.ABSENT,
        ca_bundle=settings.PROBE_CA_BUNDLE,
        allow_private=settings.ALLOW_PRIVATE_TARGETS,
    )


monitor_cache = MonitorCache()
