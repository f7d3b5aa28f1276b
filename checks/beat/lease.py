"""Beat's leader lease in Redis: however many beats are started, one sends checks and the
others wait as standbys, taking over within seconds of the leader's death.

The lease is a key holding its holder's token with an expiry. Only the holder renews it
(compare-and-renew in one server-side script), so a standby can take it only once it has
lapsed. The holder stops sending a margin before its lease could lapse, so two leaders
never overlap even if the holder cannot reach Redis to find out it lost the lease.
"""

import logging
import os
import socket
import time
import uuid
from typing import cast

import redis

logger = logging.getLogger(__name__)

LEASE_KEY = "uptime:beat:leader"

# Renew when held by us (2), take when free (1), else leave it (0): one atomic step.
ACQUIRE_OR_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 2
end
if not holder then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class Lease:
    def __init__(self, client: redis.Redis, ttl_seconds: float, key: str = LEASE_KEY, clock=time.monotonic):
        self.client = client
        self.key = key
        self.ttl_seconds = ttl_seconds
        # Stop trusting the lease this long before it could lapse: covers the round trip
        # and the clock drift between us and Redis.
        self.margin_seconds = max(1.0, ttl_seconds / 5)
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.clock = clock
        self._valid_until = 0.0
        self._renewed_at = float("-inf")
        # Whether Redis answered the last attempt to take or renew the lease, and whether
        # that attempt found the key still ours: then no other beat can have led since.
        self.reachable = True
        self.kept = False

    @property
    def held(self) -> bool:
        return self.clock() < self._valid_until

    def hold(self) -> bool:
        """Take or renew the lease if due; True while it is safely ours."""
        now = self.clock()
        # Renewing at most every third of the lease keeps Redis traffic to a trickle.
        if self.held and now - self._renewed_at < self.ttl_seconds / 3:
            return True
        was_held = self.held
        try:
            outcome = self.client.eval(ACQUIRE_OR_RENEW, 1, self.key, self.token, int(self.ttl_seconds * 1000))
        except redis.RedisError as exc:
            self.reachable, self.kept = False, False
            # Keep what we have until it could lapse; a standby cannot take it before then.
            logger.warning("beat lease: cannot reach Redis (%s); %s", exc, "holding" if self.held else "standing by")
            return self.held
        self.reachable = True
        won, self.kept = bool(outcome), outcome == 2
        if won:
            self._valid_until = now + self.ttl_seconds - self.margin_seconds
            self._renewed_at = now
            if not was_held and not self.kept:
                logger.warning("beat lease: %s is now the active beat", self.token)
        else:
            if was_held:
                logger.warning("beat lease: lost to %s; standing by", self.holder())
            self._valid_until = 0.0
        return won

    def holder(self) -> str | None:
        # bytes: the client does not decode responses (redis-py's types cannot tell).
        value = cast(bytes | None, self.client.get(self.key))
        return value.decode() if value else None

    def release(self) -> None:
        """Hand the lease back at once (a clean shutdown), so a standby need not wait it out."""
        if not self.held:
            return
        self._valid_until = 0.0
        try:
            self.client.eval(RELEASE, 1, self.key, self.token)
        except redis.RedisError as exc:
            logger.warning("beat lease: could not release (%s); it lapses by itself", exc)


def lease_status(client: redis.Redis) -> dict:
    """Who holds the lease and for how much longer (the health report's view of beat)."""
    with client.pipeline(transaction=False) as pipe:
        pipe.get(LEASE_KEY)
        pipe.pttl(LEASE_KEY)
        holder, ttl_ms = pipe.execute()
    return {
        "active": holder is not None,
        "holder": holder.decode() if holder else None,
        "lease_expires_in_seconds": round(ttl_ms / 1000, 1) if holder and ttl_ms > 0 else None,
    }
