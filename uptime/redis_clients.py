"""Redis clients for what processes share besides Celery's own broker connection: the
outcome spool, reclaim notes, heartbeats, beat's lease and the health report. One place
says how they connect, so a Redis outage costs each caller a timeout, never a hang."""

import redis
from django.conf import settings

# Besides the pool's threads and as many check threads (checks/worker/run_checks.py): the
# outcome writer, the reclaim notes and the heartbeat.
SPARE_CONNECTIONS = 16

_shared: redis.Redis | None = None


def redis_client(timeout_seconds: float = 2, url: str | None = None, **options) -> redis.Redis:
    """A new client of REDIS_URL (or `url`) that gives up after `timeout_seconds`."""
    return redis.Redis.from_url(
        url or settings.REDIS_URL, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds, **options
    )


def shared_client() -> redis.Redis:
    """The process's one client for its threads: redis-py's client is thread-safe."""
    global _shared
    if _shared is None:
        # redis-py allows 100 connections unless told; every thread of a busy worker may
        # hold one at once (and gets "Too many connections" past the limit).
        _shared = redis_client(5, max_connections=2 * settings.CELERY_WORKER_CONCURRENCY + SPARE_CONNECTIONS)
    return _shared
