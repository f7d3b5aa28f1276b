"""The worker's own Redis client (besides Celery's broker connection) for what workers
share: reclaim notes and the outcome spool. One per process; redis-py's client is
thread-safe, so the pool's threads share it. And `BatchedWrites`, which lets many threads
hand their writes to one that makes them a batch per round trip."""

import contextlib
import os
import threading
import time
from collections.abc import Callable
from queue import Empty, SimpleQueue

import redis
from django.conf import settings

# Besides the pool's threads and as many check threads (checks/worker/run_checks.py): the outcome
# writer, the reclaim notes and the heartbeat.
SPARE_CONNECTIONS = 16

_client: redis.Redis | None = None


def client() -> redis.Redis:
    global _client
    if _client is None:
        # redis-py allows 100 connections unless told; every thread of a busy worker may
        # hold one at once (and gets "Too many connections" past the limit).
        _client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=5,
            socket_connect_timeout=5,
            max_connections=2 * settings.CELERY_WORKER_CONCURRENCY + SPARE_CONNECTIONS,
        )
    return _client


class BatchedWrites:
    """Items handed over by many threads, written a batch at a time by one thread of its
    own per process (a forked child starts its own): one round trip for many writes, and
    no thread waits on Redis but the writer. (A round trip each through the shared client
    cost a busy worker a good share of its CPU, much of it contention for the client's
    connection pool, and held up the event loop that takes checks off the queue.)"""

    def __init__(self, write: Callable[[list], None], name: str, gather_seconds: float = 0.0, max_batch: int = 500):
        self._write = write  # raises if the batch could not be written
        self._name = name
        self._gather_seconds = gather_seconds  # after the first item, wait this long for more
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._queue: SimpleQueue | None = None

    def add(self, item, written: Callable[[BaseException | None], None] | None = None) -> None:
        """Write the item soon; then `written(None)`, or `written(error)` if it failed."""
        if self._pid != os.getpid():  # the first in this process (or in a forked child)
            with self._lock:
                if self._pid != os.getpid():
                    self._queue = SimpleQueue()
                    threading.Thread(target=self._run, args=(self._queue,), name=self._name, daemon=True).start()
                    self._pid = os.getpid()
        self._queue.put((item, written))

    def _run(self, queue: SimpleQueue) -> None:
        while True:
            batch = [queue.get()]
            if self._gather_seconds:
                time.sleep(self._gather_seconds)
            with contextlib.suppress(Empty):
                while len(batch) < self._max_batch:
                    batch.append(queue.get_nowait())
            failure = None
            try:
                self._write([item for item, _ in batch])
            except Exception as exc:
                failure = exc
            for _, written in batch:
                if written is not None:
                    written(failure)
