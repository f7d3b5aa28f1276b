"""The worker's own Redis client (besides Celery's broker connection) for what workers
share: reclaim notes and the outcome spool. One per process; redis-py's client is
thread-safe, so the pool's threads share it."""

import redis
from django.conf import settings

# Besides the pool's threads and as many check threads (checks/services.py): the outcome
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
