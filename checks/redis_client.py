"""The worker's own Redis client (besides Celery's broker connection) for what workers
share: reclaim notes and the outcome spool. One per process; redis-py's client is
thread-safe, so the pool's threads share it."""

import redis
from django.conf import settings

_client: redis.Redis | None = None


def client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
    return _client
