"""A worker bootstep that records, per queue it consumes, that the worker is alive.

The health endpoint reads these to show a region whose checks pile up with no worker.
Kept in Redis (a hash per queue: worker name -> Unix time) since workers share nothing else.
"""

import logging
import time

import redis
from celery import bootsteps

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "uptime:heartbeat:{queue}"


def heartbeat_key(queue: str) -> str:
    return HEARTBEAT_KEY.format(queue=queue)


class HeartbeatStep(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None
        self.client = None

    def start(self, worker):
        from django.conf import settings

        self.client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
        interval = settings.CELERY_WORKER_HEARTBEAT_SECONDS
        self.beat(worker)
        self.tref = worker.timer.call_repeatedly(interval, self.beat, (worker,), priority=10)

    def stop(self, worker):
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
        if self.client is not None:
            try:
                for queue in self._queues(worker):
                    self.client.hdel(heartbeat_key(queue), worker.hostname)
            except redis.RedisError:
                pass

    def _queues(self, worker) -> list[str]:
        return sorted(worker.app.amqp.queues.consume_from or {})

    def beat(self, worker):
        try:
            now = time.time()
            with self.client.pipeline(transaction=False) as pipe:
                for queue in self._queues(worker):
                    pipe.hset(heartbeat_key(queue), worker.hostname, now)
                pipe.execute()
        except redis.RedisError as exc:
            # The broker is away; the worker itself reconnects. Say so, keep beating.
            logger.warning("heartbeat not recorded: %s", exc)
