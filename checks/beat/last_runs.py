"""Beat's sent entries' last runs, written to the database by a thread of its own, so a save
(a round trip and a commit, long at 100,000 entries) never holds up a send
(docs/benchmarks.md, "Measured costs behind the code").

Django gives each thread its own connection: the saver's is not beat's loop's.
"""

import logging
import threading
import time
from datetime import datetime

from django.db import DatabaseError, InterfaceError, close_old_connections, connection
from django_celery_beat.models import PeriodicTask

logger = logging.getLogger(__name__)

# Beat hands its sent entries' last run times to the saver's thread at most
# this far apart. A beat killed before they are saved sends the same slots again when it (or
# a standby) starts; the worker writes one tick per slot, so that costs a message, not a tick.
SAVE_EVERY_SECONDS = 0.5
# How long a read of the whole schedule, or a clean stop, waits for those saves.
SAVE_WAIT_SECONDS = 10.0

SAVE_BATCH_ROWS = 5000
# How long the saver waits before trying again after the database failed a save.
RETRY_SECONDS = 5.0
# A saver with nothing to save for this long lets its connection go (a standby beat, or a
# leader with nothing due, holds none).
IDLE_SECONDS = 30.0

# The table name is the model's, not input.
SAVE_SQL = (
    f"UPDATE {PeriodicTask._meta.db_table} AS task"  # noqa: S608
    # Never backwards: an edit that restarted the clock (resume) may have saved a later one,
    # and batches may land out of order.
    " SET last_run_at = GREATEST(task.last_run_at, sent.last_run_at), total_run_count = sent.total_run_count"
    " FROM unnest(%s::integer[], %s::timestamptz[], %s::integer[]) AS sent(id, last_run_at, total_run_count)"
    " WHERE task.id = sent.id"
)


def save_last_runs(rows: list[tuple[int, datetime, int]]) -> None:
    """(row id, last run, run count) for each row, in one statement per batch."""
    close_old_connections()
    with connection.cursor() as cursor:
        for start in range(0, len(rows), SAVE_BATCH_ROWS):
            batch = rows[start : start + SAVE_BATCH_ROWS]
            cursor.execute(SAVE_SQL, [list(column) for column in zip(*batch, strict=True)])


class LastRunSaver:
    """Takes sent entries' last runs from beat's loop and saves them in the background.

    A row waiting to be saved keeps only its latest last run. What a failed save held is
    kept and tried again (with whatever came since) until it is saved: forgetting it would
    let a beat reading the schedule after an outage send the same slots again.
    """

    def __init__(self, retry_seconds: float = RETRY_SECONDS):
        self.retry_seconds = retry_seconds
        self._changed = threading.Condition()
        self._waiting: dict[int, tuple[datetime, int]] = {}
        self._saving = 0
        self._failures = 0
        self._retry_now = False
        self._closing = False
        self._thread: threading.Thread | None = None

    @property
    def unsaved(self) -> int:
        with self._changed:
            return len(self._waiting) + self._saving

    def submit(self, rows: list[tuple[int, datetime, int]]) -> None:
        if not rows:
            return
        with self._changed:
            for model_id, last_run_at, run_count in rows:
                waiting = self._waiting.get(model_id)
                if waiting is None or last_run_at >= waiting[0]:
                    self._waiting[model_id] = (last_run_at, run_count)
            self._changed.notify_all()
            if self._thread is None and not self._closing:
                self._thread = threading.Thread(target=self._run, name="beat last-run saver", daemon=True)
                self._thread.start()

    def flush(self, timeout_seconds: float) -> bool:
        """Save what is waiting now rather than after a retry pause; True once all of it
        is saved, False if a save fails or the time runs out first."""
        deadline = time.monotonic() + timeout_seconds
        with self._changed:
            failures = self._failures
            self._retry_now = True
            self._changed.notify_all()
            while self._waiting or self._saving:
                remaining = deadline - time.monotonic()
                if self._failures != failures or remaining <= 0 or self._thread is None:
                    return False
                self._changed.wait(remaining)
            return True

    def close(self, timeout_seconds: float) -> bool:
        """Save what is waiting, then stop the thread; True if nothing was left unsaved."""
        saved = self.flush(timeout_seconds) if self._thread is not None else not self._waiting
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout_seconds)
        if not saved:
            logger.warning("beat: %s sent entries' last runs not saved; their slots may be sent again", self.unsaved)
        return saved

    def _run(self) -> None:
        try:
            while True:
                with self._changed:
                    while not self._waiting and not self._closing:
                        if not self._changed.wait(IDLE_SECONDS):
                            connection.close()
                    if self._closing:
                        return
                    batch, self._waiting = self._waiting, {}
                    self._saving = len(batch)
                    self._retry_now = False
                saved = self._save(batch)
                with self._changed:
                    self._saving = 0
                    if not saved:
                        self._failures += 1
                        for model_id, value in batch.items():
                            waiting = self._waiting.get(model_id)
                            if waiting is None or waiting[0] < value[0]:
                                self._waiting[model_id] = value
                    self._changed.notify_all()
                    if not saved:
                        self._changed.wait_for(lambda: self._retry_now or self._closing, self.retry_seconds)
        finally:
            connection.close()

    def _save(self, batch: dict[int, tuple[datetime, int]]) -> bool:
        rows = [(model_id, last_run_at, run_count) for model_id, (last_run_at, run_count) in batch.items()]
        try:
            save_last_runs(rows)
        except (DatabaseError, InterfaceError) as exc:
            logger.warning("beat: cannot save %s entries' last runs yet (%s)", len(rows), exc)
            return False
        return True
