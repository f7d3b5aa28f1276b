"""A worker step that reads the monitors of the worker's regions (its queues) as it
starts, so its first checks do not wait for that read (checks/worker/monitor_cache.py)."""

import gc
import logging
import threading

from celery import bootsteps

from checks.worker.liveness import consumed_queues

logger = logging.getLogger(__name__)


class DirectoryStep(bootsteps.StartStopStep):
    def start(self, worker):
        queues = consumed_queues(worker)
        threading.Thread(target=self._warm, args=(queues,), name="monitor-directory", daemon=True).start()

    @staticmethod
    def _warm(queues: list[str]) -> None:
        # Imported here: the step is installed before Django's models can be.
        from django.db import DatabaseError

        from checks.worker.monitor_cache import directory

        try:
            directory.warm(queues)
        except DatabaseError as exc:
            logger.warning("monitor settings not read at start (read at the first check): %s", exc)
            return
        # What is alive now (the modules, and the monitors just read) lives as long as the
        # worker: keep the collector from walking it on every full collection, each a
        # pause of about 0.1 s for every check thread at 25,000 monitors.
        gc.freeze()
