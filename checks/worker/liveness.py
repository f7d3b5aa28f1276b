"""A worker's liveness in Redis: a hash per queue it consumes (worker name -> Unix time of
its last heartbeat), which the health endpoint reads to show a region whose checks pile up
with no worker, and the one rule for when a silent worker counts as dead."""

HEARTBEAT_KEY = "uptime:heartbeat:{queue}"
# A worker that has not beaten for this many heartbeat periods (WORKER_HEARTBEAT_SECONDS) is
# dead: health counts it gone, and its taken checks are reclaimed (checks/worker/reclaim.py).
DEAD_AFTER_HEARTBEATS = 3


def heartbeat_key(queue: str) -> str:
    return HEARTBEAT_KEY.format(queue=queue)


def consumed_queues(worker) -> list[str]:
    """The queues a worker takes messages from: its regions (or housekeeping's queues)."""
    return sorted(worker.app.amqp.queues.consume_from or {})
