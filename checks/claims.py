"""Handing back the checks a dead worker held, within seconds rather than after the broker's
visibility timeout.

With late acknowledgement a worker's checks stay unacknowledged in Redis until it finishes
them. If the worker process dies (SIGKILL, OOM, a lost machine), kombu puts them back only
once the visibility timeout (CHECK_MAX_SECONDS + 60 s) has passed, and by then each has
expired (a check expires after one interval): the slot would be lost, and since the next
slot's tick arrives on time, not even flagged as a gap.

So each worker claims what it receives (Redis hash: delivery tag -> "node pid claimed-at
queue"),
and a worker hands back to the queue the unacknowledged checks claimed by a worker that is
gone: at start, those of an earlier life of its own node name (a supervisor's restart), and
every heartbeat period, those of a node whose heartbeat has stopped. A check handed back
while its first run was in fact still going is harmless: the slot's tick is written once.
"""

import logging
import os
import time

import redis
from celery import bootsteps
from celery.signals import task_received

from .heartbeat import heartbeat_key

logger = logging.getLogger(__name__)

CLAIMS_KEY = "uptime:claims"
# A node is gone once this many heartbeat periods pass without one (as the health report says).
MISSED_HEARTBEATS_FOR_GONE = 3

_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        from django.conf import settings

        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    return _client


@task_received.connect
def claim(sender=None, request=None, **kwargs) -> None:
    """Record that this worker holds the message (runs in the worker's main process)."""
    tag = getattr(request.message, "delivery_tag", None) if request is not None else None
    if not tag:
        return
    # Checks are routed with their queue's name as routing key.
    queue = request.delivery_info.get("routing_key") or "-"
    try:
        _redis().hset(CLAIMS_KEY, tag, f"{sender.hostname} {os.getpid()} {time.time():.3f} {queue}")
    except redis.RedisError as exc:
        # Without a claim the check still comes back, after the visibility timeout.
        logger.warning("could not claim %s: %s", tag, exc)


def alive_nodes(client: redis.Redis, queues: list[str], now: float, period: float) -> set[tuple[str, str]]:
    """(node, queue) for every node with a heartbeat on one of `queues` in the last
    MISSED_HEARTBEATS_FOR_GONE periods."""
    alive_after = now - MISSED_HEARTBEATS_FOR_GONE * period
    alive = set()
    for queue in queues:
        for name, at in client.hgetall(heartbeat_key(queue)).items():
            if float(at) >= alive_after:
                alive.add((name.decode(), queue))
    return alive


def hand_back(channel, client: redis.Redis, is_gone) -> int:
    """Put back on their queues the unacknowledged messages whose claim `is_gone(node, pid,
    claimed_at, queue)` says is held by nobody; forget the claims of messages since acknowledged.
    Returns how many were handed back."""
    claims = client.hgetall(CLAIMS_KEY)
    if not claims:
        return 0
    tags = list(claims)
    with client.pipeline(transaction=False) as pipe:
        for tag in tags:
            pipe.hexists(channel.unacked_key, tag)
        unacked = pipe.execute()
    handed_back = 0
    for tag, still_unacked in zip(tags, unacked, strict=True):
        node, pid, claimed_at, queue = claims[tag].decode().split(" ")
        if not still_unacked:
            client.hdel(CLAIMS_KEY, tag)
        elif is_gone(node, int(pid), float(claimed_at), queue):
            channel.qos.restore_by_tag(tag.decode())
            client.hdel(CLAIMS_KEY, tag)
            handed_back += 1
    return handed_back


class HandBackStep(bootsteps.StartStopStep):
    """At start and every heartbeat period, hand back the checks of workers that are gone."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None

    def start(self, worker):
        from django.conf import settings

        period = settings.CELERY_WORKER_HEARTBEAT_SECONDS
        own_pid = os.getpid()
        # An earlier life of this node name is over: this process has taken its name.
        self.sweep(worker, lambda node, pid, at, queue: node == worker.hostname and pid != own_pid)
        self.tref = worker.timer.call_repeatedly(period, self.sweep_gone, (worker, period), priority=10)

    def stop(self, worker):
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    def sweep_gone(self, worker, period: float) -> None:
        # Only the queues this worker consumes: their heartbeats are the ones it can read
        # to tell a gone node from one busy elsewhere.
        queues = list(worker.app.amqp.queues.consume_from or {})
        now = time.time()
        try:
            alive = alive_nodes(_redis(), queues, now, period)
        except redis.RedisError as exc:
            logger.warning("cannot look for the checks of gone workers: %s", exc)
            return
        # Claimed so recently that the node's first heartbeat may still be on its way: wait.
        settled = now - MISSED_HEARTBEATS_FOR_GONE * period

        def is_gone(node, pid, at, queue):
            return queue in queues and (node, queue) not in alive and node != worker.hostname and at < settled

        self.sweep(worker, is_gone)

    def sweep(self, worker, is_gone) -> None:
        try:
            with worker.app.connection_for_write() as connection:
                count = hand_back(connection.default_channel, _redis(), is_gone)
        except Exception as exc:  # the broker is away: the next sweep tries again
            logger.warning("cannot hand back the checks of gone workers: %s", exc)
            return
        if count:
            logger.warning("handed back %s checks held by workers that are gone", count)
