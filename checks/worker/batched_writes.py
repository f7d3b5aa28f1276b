"""`BatchedWrites`: many threads hand their Redis writes (reclaim notes, spooled outcomes) to
one thread that makes them a batch per round trip."""

import contextlib
import os
import threading
import time
from collections.abc import Callable
from queue import Empty, SimpleQueue


class BatchedWrites:
    """Items handed over by many threads, written a batch at a time by one thread of its
    own per process (a forked child starts its own): one round trip for many writes, and
    no thread waits on Redis but the writer. (A round trip each through the shared client
    made the threads contend for the client's connection pool and held up the event loop
    that takes checks off the queue; docs/benchmarks.md, "Measured costs behind the code".)"""

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
        assert self._queue is not None  # made above, for this process
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
