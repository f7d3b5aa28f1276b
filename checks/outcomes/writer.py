"""The outcome writer: a thread in every worker that moves checks' outcomes from the spool
(checks/outcomes/spool.py) into PostgreSQL, a batch at a time (checks/outcomes/recording.py).

Batches grow with the load by themselves: the writer takes whatever has arrived (up to
BATCH_SIZE) since its last batch, at most every GATHER_SECONDS, so a check is written
within about a second, and at hundreds of checks a second a batch's few statements serve
hundreds of ticks. An entry is acknowledged only once its batch has committed. While PostgreSQL is
away the entries wait in Redis and the writer tries again every RETRY_SECONDS.
"""

import logging
import os
import socket
import threading
import time

import redis
from celery import bootsteps
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections, connection

from checks.outcomes import spool
from uptime.redis_clients import shared_client

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
# How long a read waits for outcomes when there are none.
WAIT_MS = 500
# After a batch smaller than BATCH_SIZE, let the next one gather this long: fewer, larger
# batches under load (fixed costs per batch are most of a small one), and still written
# within about a second.
GATHER_SECONDS = 0.5
RETRY_SECONDS = 1.0
# Entries another writer has held unwritten this long are taken over: it died, or it
# cannot reach the database while this one can.
CLAIM_AFTER_MS = 60_000
CLAIM_EVERY_SECONDS = 15

OUTAGE_ERRORS = (OperationalError, InterfaceError)


def consumer_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class OutcomeWriter:
    def __init__(self, redis_client: redis.Redis, consumer: str, batch_size: int = BATCH_SIZE):
        # Imported here: the worker step is installed before Django's models can be.
        from checks.outcomes.recording import record_outcomes

        self.record_outcomes = record_outcomes
        self.redis = redis_client
        self.consumer = consumer
        self.batch_size = batch_size
        self.claimed_at = 0.0

    def write_batch(self, wait_ms: int | None = WAIT_MS) -> int:
        """Take a batch from the spool, record it, acknowledge it; how many entries.

        Raises what the database or Redis raised when either is away: the entries stay
        pending, and the next call takes them again.
        """
        if time.monotonic() - self.claimed_at >= CLAIM_EVERY_SECONDS:
            self.claimed_at = time.monotonic()
            spool.claim_stalled(self.redis, self.consumer, CLAIM_AFTER_MS)
        entries = spool.take(self.redis, self.consumer, self.batch_size, wait_ms)
        if not entries:
            return 0
        readable = [entry for entry in entries if entry.slot is not None]
        if len(readable) < len(entries):
            logger.error("dropping %s unreadable outcome(s)", len(entries) - len(readable))
        try:
            self.record_outcomes([entry.slot for entry in readable if entry.slot is not None])  # all are: narrows
        except OUTAGE_ERRORS:
            raise
        except DatabaseError:
            # Not an outage: some outcome the database refuses. Write them one by one so
            # one bad entry cannot hold up the rest; the bad ones are logged and dropped.
            self._record_one_by_one(readable)
        spool.done(self.redis, [entry.entry_id for entry in entries])
        return len(entries)

    def _record_one_by_one(self, entries) -> None:
        for entry in entries:
            try:
                self.record_outcomes([entry.slot])
            except OUTAGE_ERRORS:
                raise
            except DatabaseError:
                logger.exception("dropping outcome %s, which cannot be recorded: %s", entry.entry_id, entry.slot)

    def run(self, stopping: threading.Event) -> None:
        spool.ensure_group(self.redis)
        while not stopping.is_set():
            try:
                written = self.write_batch()
            except (*OUTAGE_ERRORS, redis.RedisError) as exc:
                logger.warning("outcomes not written yet, retrying in %.0f s: %s", RETRY_SECONDS, exc)
                # A connection the outage broke is replaced on the next use.
                close_old_connections()
                if connection.connection is not None and not connection.is_usable():
                    connection.close()
                stopping.wait(RETRY_SECONDS)
                continue
            if 0 < written < self.batch_size:
                stopping.wait(GATHER_SECONDS)


def write_spooled(batch_size: int = BATCH_SIZE) -> int:
    """Write everything spooled now, in this thread, `batch_size` entries at a time; how
    many entries (for tests, commands and benchmarks: workers write continuously)."""
    writer = OutcomeWriter(shared_client(), consumer_name(), batch_size)
    spool.ensure_group(writer.redis)
    total = 0
    while written := writer.write_batch(wait_ms=None):
        total += written
    return total


class OutcomeWriterStep(bootsteps.StartStopStep):
    """Runs an OutcomeWriter beside the worker's pool. On the way out it writes what is
    spooled; outcomes of checks that finish after that are written by another worker
    (any writer takes entries nobody has read).

    `celery worker --without-outcome-writer` leaves it out: a region worker that only
    checks gives its whole process to the checks, and the writers elsewhere (the
    housekeeping worker) get larger batches, which cost less per tick."""

    requires = {"celery.worker.components:Pool"}

    def __init__(self, worker, without_outcome_writer: bool = False, **kwargs):
        super().__init__(worker, **kwargs)
        self.enabled = not without_outcome_writer
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()

    def start(self, worker):
        writer = OutcomeWriter(shared_client(), consumer_name())
        self.thread = threading.Thread(target=writer.run, args=(self.stopping,), name="outcome-writer", daemon=True)
        self.thread.start()

    def stop(self, worker):
        if self.thread is None:
            return
        self.stopping.set()
        self.thread.join(timeout=10)
        try:
            write_spooled()
            # Nothing is pending for this consumer any more: it need not be remembered.
            shared_client().xgroup_delconsumer(spool.STREAM_KEY, spool.GROUP, consumer_name())
        except (*OUTAGE_ERRORS, redis.RedisError) as exc:
            # Left in the spool: another worker's writer (or this one's next run) writes them.
            logger.warning("outcomes left in the spool at shutdown: %s", exc)
