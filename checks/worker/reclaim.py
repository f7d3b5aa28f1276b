"""Reclaiming the checks of a worker that died: what it had taken from its queue goes back
at once, instead of after the broker's visibility timeout (minutes, longer than most
monitors' interval, so the slot would be lost).

Each worker notes the messages it takes (task id -> delivery tag, in a Redis hash of its
own, and tag -> itself in a shared owner hash; its name in the set of noting workers) and
forgets each when its task has run, and keeps a short-lived "alive" key fresh with its
heartbeat. A worker that finds another's
notes without its alive key returns those messages to the front of their queues, but only
a message still unacknowledged and still owned by the dead worker: one acknowledged,
restored already, or taken since by another worker (a redelivered message keeps its
delivery tag) is left alone.
"""

import json
import logging
from typing import cast

import redis
from celery.signals import task_postrun, task_received, task_revoked

from checks.worker.batched_writes import BatchedWrites
from checks.worker.liveness import DEAD_AFTER_HEARTBEATS
from uptime.redis_clients import shared_client

logger = logging.getLogger(__name__)

INFLIGHT_KEY = "uptime:inflight:{worker}"
OWNER_KEY = "uptime:owner"
# The workers that have notes, so a heartbeat looks at a handful of names instead of
# scanning the keyspace, which holds a slot key per recent check and so grows with the
# monitors.
NOTING_WORKERS_KEY = "uptime:noting-workers"
ALIVE_KEY = "uptime:alive:{worker}"

# Forget a task's note, and its message's owner if that is still this worker.
FORGET = """
local tag = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
if tag and redis.call('HGET', KEYS[2], tag) == ARGV[2] then
    redis.call('HDEL', KEYS[2], tag)
end
"""


def _write_notes(notes) -> None:
    try:
        with shared_client().pipeline(transaction=False) as pipe:
            for note in notes:
                note(pipe)
            pipe.execute()
    except redis.RedisError as exc:
        logger.warning("could not write %s note(s) of taken checks: %s", len(notes), exc)


# Written from a thread of their own, in order, as many per round trip as have come: the
# worker's event loop, which takes every check off the queue, must not wait on Redis for
# them (waiting there limits how fast a busy worker takes checks; docs/benchmarks.md,
# "Measured costs behind the code"). A note is written within a moment of its check
# being taken; a worker killed in that moment leaves the check to the broker's
# visibility timeout instead.
_notes = BatchedWrites(_write_notes, "reclaim-notes")


@task_received.connect
def note_taken(sender=None, request=None, **kwargs):
    tag, worker, task_id = request.message.delivery_tag, request.hostname, request.id

    def note(pipe):
        pipe.hset(INFLIGHT_KEY.format(worker=worker), task_id, tag)
        pipe.hset(OWNER_KEY, tag, worker)
        pipe.sadd(NOTING_WORKERS_KEY, worker)

    _notes.add(note)


@task_postrun.connect
def note_done(sender=None, task_id=None, task=None, **kwargs):
    _forget(task.request.hostname, task_id)


@task_revoked.connect
def note_dropped(sender=None, request=None, **kwargs):
    # An expired check (it waited longer than its interval) is dropped without running.
    _forget(request.hostname, request.id)


def _forget(worker: str, task_id: str) -> None:
    _notes.add(lambda pipe: pipe.eval(FORGET, 2, INFLIGHT_KEY.format(worker=worker), OWNER_KEY, task_id, worker))


def mark_alive(redis_client: redis.Redis, worker: str, heartbeat_seconds: float) -> None:
    redis_client.set(ALIVE_KEY.format(worker=worker), 1, ex=max(1, round(DEAD_AFTER_HEARTBEATS * heartbeat_seconds)))


def forget_alive(redis_client: redis.Redis, worker: str) -> None:
    redis_client.delete(ALIVE_KEY.format(worker=worker))


def reclaim_worker(redis_client: redis.Redis, qos, worker: str) -> int:
    """Return the messages `worker` had taken, and still holds, to the front of their
    queues; how many moved."""
    key = INFLIGHT_KEY.format(worker=worker)
    tags = cast(list[bytes], redis_client.hvals(key))  # the client does not decode responses
    restored = sum(_restore_if_held(redis_client, qos, tag.decode(), worker) for tag in tags)
    redis_client.delete(key)
    if restored:
        logger.warning("returned %s checks taken by %s, which is gone, to their queues", restored, worker)
    return restored


def _restore_if_held(redis_client: redis.Redis, qos, tag: str, worker: str) -> bool:
    """kombu's QoS.restore_by_tag, plus the owner check, in one optimistic transaction:
    if the message is acknowledged or taken by another worker meanwhile, it retries and
    then leaves it alone."""
    moved = False

    def restore(pipe):
        nonlocal moved
        owner = pipe.hget(OWNER_KEY, tag)
        raw = pipe.hget(qos.unacked_key, tag)
        pipe.multi()
        moved = False
        if owner is None or owner.decode() != worker:
            return
        pipe.hdel(OWNER_KEY, tag)
        if raw:
            qos._remove_from_indices(tag, pipe)
            message, exchange, routing_key = json.loads(raw)
            qos.channel._do_restore_message(message, exchange, routing_key, pipe)
            moved = True

    redis_client.transaction(restore, qos.unacked_key, OWNER_KEY)
    return moved


def reclaim_dead_workers(redis_client: redis.Redis, qos, me: str) -> int:
    """Reclaim from every worker that has notes and no alive key (dead, or never back)."""
    restored = 0
    for name in cast(set[bytes], redis_client.smembers(NOTING_WORKERS_KEY)):  # not decoded: bytes
        worker = name.decode()
        if worker != me and not redis_client.exists(ALIVE_KEY.format(worker=worker)):
            restored += reclaim_worker(redis_client, qos, worker)
            # A worker that was only slow to show it is alive names itself again with its
            # next note.
            redis_client.srem(NOTING_WORKERS_KEY, worker)
    return restored
