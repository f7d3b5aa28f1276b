"""A worker bootstep that records, per queue it consumes, that the worker is alive, and
returns the checks of workers that died to their queues (checks/worker/reclaim.py).

The health endpoint reads these to show a region whose checks pile up with no worker.
Kept in Redis (a hash per queue: worker name -> Unix time) since workers share nothing else.
"""

import contextlib
import logging
import threading
import time

import redis
from celery import bootsteps

from checks.worker import reclaim

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "uptime:heartbeat:{queue}"


def heartbeat_key(queue: str) -> str:
    return HEARTBEAT_KEY.format(queue=queue)


def consumed_queues(worker) -> list[str]:
    """The queues a worker takes checks from: its regions (or housekeeping's queues)."""
    return sorted(worker.app.amqp.queues.consume_from or {})


class HeartbeatStep(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None
        self.client = None

    def start(self, worker):
        from django.conf import settings

        self.client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
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
        while True:
            with contextlib.suppress(redis.RedisError):
                reclaim.mark_alive(self.client, hostname, self.interval)
            time.sleep(self.interval)

    def beat(self, worker):
        try:
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
