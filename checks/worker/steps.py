"""The worker's bootsteps (installed by uptime/celery.py): its heartbeat, which also hands
back the checks of workers that died, the monitor cache read as it starts, and its
regions' canary rounds."""

import contextlib
import gc
import logging
import threading
import time

import redis
from celery import bootsteps

from checks.worker import reclaim
from checks.worker.liveness import consumed_queues, heartbeat_key
from uptime.redis_clients import redis_client

logger = logging.getLogger(__name__)


class HeartbeatStep(bootsteps.StartStopStep):
    """Records, per queue the worker consumes, that it is alive (checks/worker/liveness.py),
    and returns the checks of workers that died to their queues (checks/worker/reclaim.py)."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None
        self.client: redis.Redis | None = None

    def start(self, worker):
        from django.conf import settings

        self.client = redis_client(5)
        self.interval = settings.CELERY_WORKER_HEARTBEAT_SECONDS
        self.connection = worker.app.connection_for_write()
        self.beat(worker)
        try:
            # Whatever an earlier run under this name had taken died with it.
            reclaim.reclaim_worker(self.client, self._qos(), worker.hostname)
        except redis.RedisError as exc:
            logger.warning("could not reclaim an earlier run's checks: %s", exc)
        self.tref = worker.timer.call_repeatedly(self.interval, self.beat, (worker,), priority=10)

    def stop(self, worker):
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
            # The worker may go on finishing running checks for a while after this step
            # stops: stay alive to the others until the process ends, so they do not
            # reclaim (and run twice) what it is still running.
            threading.Thread(target=self._stay_alive, args=(worker.hostname,), daemon=True).start()
        if self.client is not None:
            try:
                for queue in consumed_queues(worker):
                    self.client.hdel(heartbeat_key(queue), worker.hostname)
            except redis.RedisError:
                pass

    def _qos(self):
        return self.connection.default_channel.qos

    def _stay_alive(self, hostname: str) -> None:
        assert self.client is not None  # started by stop(), after start()
        while True:
            with contextlib.suppress(redis.RedisError):
                reclaim.mark_alive(self.client, hostname, self.interval)
            time.sleep(self.interval)

    def beat(self, worker):
        try:
            assert self.client is not None  # set by start()
            now = time.time()
            with self.client.pipeline(transaction=False) as pipe:
                for queue in consumed_queues(worker):
                    pipe.hset(heartbeat_key(queue), worker.hostname, now)
                pipe.execute()
            reclaim.mark_alive(self.client, worker.hostname, self.interval)
            reclaim.reclaim_dead_workers(self.client, self._qos(), worker.hostname)
        except Exception as exc:  # noqa: BLE001 - broker away or its connection broken: keep beating
            # The worker itself reconnects. Say so, keep beating.
            logger.warning("heartbeat not recorded: %s", exc)


class MonitorCacheStep(bootsteps.StartStopStep):
    """Reads the monitors of the worker's regions (its queues) as it starts, so its first
    checks do not wait for that read (checks/worker/monitor_cache.py)."""

    def start(self, worker):
        queues = consumed_queues(worker)
        threading.Thread(target=self._warm, args=(queues,), name="monitor-cache", daemon=True).start()

    @staticmethod
    def _warm(queues: list[str]) -> None:
        # Imported here: the step is installed before Django's models can be.
        from django.db import DatabaseError, connection

        from checks.worker.monitor_cache import monitor_cache

        try:
            monitor_cache.warm(queues)
        except DatabaseError as exc:
            logger.warning("monitor settings not read at start (read at the first check): %s", exc)
            return
        finally:
            # This thread ends here; its connection would stay open, idle, for the worker's life.
            connection.close()
        # What is alive now (the modules, and the monitors just read) lives as long as the
        # worker: keep the collector from walking it on every full collection, each a
        # pause for every check thread that grows with the monitors held
        # (docs/benchmarks.md, "Measured costs behind the code").
        gc.freeze()


class CanaryStep(bootsteps.StartStopStep):
    """Runs the canary rounds of the worker's regions (checks/worker/canaries.py) in a
    thread of its own: a round waits on the network, which the timer's thread (the
    heartbeat's) must never do."""

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, worker):
        from django.conf import settings

        from checks.worker.canaries import watch_canaries

        not_regions = {settings.HOUSEKEEPING_QUEUE, settings.NOTIFICATIONS_QUEUE}
        regions = [queue for queue in consumed_queues(worker) if queue not in not_regions]
        if regions:
            self.thread = threading.Thread(
                target=watch_canaries, args=(regions, self.stopping), name="canaries", daemon=True
            )
            self.thread.start()

    def stop(self, worker):
        self.stopping.set()
