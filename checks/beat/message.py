"""The bundle message (the checks of one region that fell due together) as celery would put
it on the region's queue, and the broker client beat pushes it with."""

import base64
import re
import uuid
from datetime import UTC, datetime

import redis
from kombu.utils.json import dumps
from redis.backoff import NoBackoff
from redis.retry import Retry

from monitors.scheduling import BUNDLE_TASK
from uptime.redis_clients import redis_client

# How long beat waits on the broker for one tick's sends before keeping them to retry.
BROKER_TIMEOUT_SECONDS = 2
# Checks go out in bundles: one message for the checks of a region that fell due within
# this long of each other, at most BUNDLE_MAX_CHECKS each. A message costs a worker CPU
# whatever it holds (taking it off the queue, its unacknowledged bookkeeping, the task's
# trace, the acknowledgement), and beat and Redis their share; bundling pays that once for
# many checks (docs/benchmarks.md, "Measured costs behind the code"). It makes checks up to
# this much later; a bundle's checks run side by side in the worker.
BUNDLE_SECONDS = 0.05
BUNDLE_MAX_CHECKS = 50


# Stand-ins for what differs between two sends of one entry: plain text that JSON and
# repr leave as it is, so it can be found again in the serialized message.
STAND_IN = re.compile(r"@@uptime-(id|tag|expires|body)@@")


def stand_in(name: str) -> str:
    return f"@@uptime-{name}@@"


def split_at_stand_ins(text: str) -> list[str]:
    # Text, name, text, name, ..., text.
    return STAND_IN.split(text)


def fill_in(parts: list[str], values: dict[str, str]) -> str:
    return "".join([values[part] if index % 2 else part for index, part in enumerate(parts)])


class BundleMessage:
    """The message of a bundle of checks (`checks.run_checks`: a region and its [monitor
    id, slot] pairs) exactly as celery 5.7 puts it on a region's Redis list (protocol 2,
    JSON body in base64), built once per region and expiry through celery's own
    `as_task_v2`; a send only fills in a new task id and delivery tag, the expiry and the
    pairs.

    Why: celery's `send_task` does too much per message (configuration read through
    Django's settings on every call, reprs, routing, signals) for one core of beat to keep
    up with the 1,667 checks/s of 100,000 monitors at 60 s (docs/benchmarks.md, "Measured
    costs behind the code"). No signal handler in this project listens to task publishing,
    and the worker cannot tell the difference (tests/test_scheduling.py compares the two
    messages field by field).
    """

    __slots__ = ("queue", "expire_seconds", "_envelope", "_body")

    def __init__(self, app, queue: str, region: str, expire_seconds: float | None, reply_to: str, priority: int):
        # With no exchange, kombu's Redis transport pushes to the list named by the routing key.
        self.queue = queue
        self.expire_seconds = expire_seconds
        task = app.tasks.get(BUNDLE_TASK)
        headers, properties, body, _ = app.amqp.as_task_v2(
            stand_in("id"),
            BUNDLE_TASK,
            (region, stand_in("slots")),
            {},
            expires=stand_in("expires") if expire_seconds is not None else None,
            reply_to=reply_to,
            ignore_result=task.ignore_result if task is not None else False,
            # Not the pairs: a log line or an event names the region only.
            argsrepr=f"({region!r}, [...])",
            kwargsrepr="{}",
        )
        headers["celery_beat_task"] = True  # as celery's beat marks what it sends
        properties.update(delivery_mode=2, priority=priority)
        if expire_seconds is not None:
            properties["expiration"] = str(int(expire_seconds * 1000))
        properties.update(
            body_encoding="base64",
            delivery_tag=stand_in("tag"),
            delivery_info={"exchange": "", "routing_key": queue},
        )
        envelope = {
            "body": stand_in("body"),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": headers,
            "properties": properties,
        }
        self._envelope = split_at_stand_ins(dumps(envelope))
        # The pairs are a JSON list where the body has the quoted stand-in.
        self._body = dumps(body).split(dumps(stand_in("slots")))

    def render(self, slots: list[tuple[int, datetime]], sent_at: float) -> str:
        values = {"id": str(uuid.uuid4()), "tag": str(uuid.uuid4())}
        if self.expire_seconds is not None:
            values["expires"] = datetime.fromtimestamp(sent_at + self.expire_seconds, UTC).isoformat()
        pairs = dumps([[monitor_id, slot.isoformat()] for monitor_id, slot in slots])
        values["body"] = base64.b64encode(pairs.join(self._body).encode()).decode()
        return fill_in(self._envelope, values)


def broker_client(url: str) -> redis.Redis:
    # No retries inside a send: the tick keeps what failed and tries again on a later tick,
    # so a broker outage holds beat's loop for a timeout, not for a series of back-offs.
    return redis_client(BROKER_TIMEOUT_SECONDS, url=url, retry=Retry(NoBackoff(), 0))
