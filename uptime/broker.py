"""kombu's Redis transport, with one correction so a worker survives the broker going away
mid-check (Redis killed or stopped, then started again): selected by CELERY_BROKER_TRANSPORT.

What goes wrong in kombu 5.7.0 (line numbers of its kombu/transport/redis.py), step by step:

1. The worker loses its connection while it holds an unacknowledged check. Celery 5.7's
   `Consumer.on_connection_error_after_connected` calls `connection.collect()`, then
   `connection.close()` on the broken connection.
2. In `collect()`, the default channel's `Channel.close()` (l. 1890) first reads the reply
   of the BRPOP it had sent (`if self._in_poll: self._brpop_read()`); on the dead socket
   that raises a ConnectionError, so the close stops before the channel is marked closed.
   `collect()` then detaches the transport from its connection
   (`Connection._do_close_transport`: `self._transport.client = None`).
3. `connection.close()` closes the same default channel again. This time it gets through:
   `Channel.close()` drops its pools (`_disconnect_pools`, l. 1220: `self._pool = None`)
   and only then calls `virtual.Channel.close()`, which restores the unacknowledged
   messages (`QoS.restore_unacked`, l. 493 -> `conn_or_acquire` -> `_create_client` ->
   `self.pool`). With the pool gone it builds a new one from `_connparams()`, which reads
   the broker's address from the detached transport (l. 1957-1959:
   `conninfo = self.connection.client`, None; `'host': conninfo.hostname`) and raises
   AttributeError("'NoneType' object has no attribute 'hostname'"). That is not a
   connection error, so `ignore_errors` lets it through and the worker stops with
   "Unrecoverable error".

A check that was running when the connection broke takes the same path later: Celery
queues its acknowledgement on the event loop (`Consumer.call_soon_ack`), which runs it once
the worker has reconnected, on the channel the message came from, now closed (pools
dropped, `channel.connection` set to None by `Transport.close_channel`): it needs a new
pool too.

The correction: a channel keeps the connection parameters it was opened with and builds
any later pool from those. The restore at close then fails, while the broker is away, with
a ConnectionError, which Celery expects: it reconnects and goes on consuming. The check
that was running is acknowledged once the broker is back (its entry leaves kombu's
"unacked" hash), so it is neither lost nor handed out again after the visibility timeout;
if the worker dies meanwhile, checks/worker/reclaim.py hands it back. Related reports, the same
AttributeError on other close paths: celery/kombu#970, #582.

A second change is for speed: kombu builds a new redis-py client for every synchronous
command batch (`conn_or_acquire` -> `_create_client`), twice per delivered message (the
unacked index when it arrives, again when it is acknowledged). A client is only a facade
over the channel's connection pool, but redis-py's constructor copies its table of response
callbacks each time, and at hundreds of messages a second that adds up (docs/benchmarks.md,
"Measured costs behind the code"). A channel keeps one synchronous client per pool
instead; redis-py clients over a pool are safe to share between threads, and a new pool
(after the one above) gets a new client.
"""

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    def __init__(self, *args, **kwargs):
        # Filled before kombu's __init__, which opens the async pool (its ping).
        self._opened_with: dict[bool, dict] = {}
        self._sync_client = None
        super().__init__(*args, **kwargs)
        # The synchronous pool (acks, restores) is usually first made later, possibly
        # after the transport is detached: note its parameters now, while they can be read.
        self._connparams(asynchronous=False)

    def _connparams(self, asynchronous=False):
        if asynchronous not in self._opened_with:
            self._opened_with[asynchronous] = super()._connparams(asynchronous=asynchronous)
        return dict(self._opened_with[asynchronous])

    def _create_client(self, asynchronous=False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        pool = self.pool
        if self._sync_client is None or self._sync_client.connection_pool is not pool:
            self._sync_client = super()._create_client()
        return self._sync_client


class Transport(kombu_redis.Transport):
    Channel = Channel
