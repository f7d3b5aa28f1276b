"""Shared fixtures: personas, API clients with real JWTs, real HTTP targets, the real broker.

The suite runs against the PostgreSQL and Redis-protocol server named by DATABASE_URL and
REDIS_URL (`make test` starts throwaway embedded ones).
"""

import base64
import json
import socket
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from checks.worker.monitor_cache import monitor_cache
from monitors.models import Region
from tests.receivers import Receiver

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def suite_settings(settings):
    # Tests check on a scale of seconds; production's default floor is 30 s.
    settings.MONITOR_MIN_INTERVAL_SECONDS = 1
    # The targets are real servers on loopback; the SSRF tests turn the guard back on.
    settings.ALLOW_PRIVATE_TARGETS = True
    # Rate limits are tested on their own; elsewhere they would only make tests depend
    # on each other through the shared counters.
    settings.API_THROTTLE_RATES = {"auth": "10000/min", "check_now": "10000/min"}
    cache.clear()
    # Password hashing is deliberately slow; the suite hashes hundreds of them.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # In-process checks see each test's monitors and edits at once (workers read edits
    # every second); tests of that caching set their own period.
    settings.MONITOR_REFRESH_SECONDS = 0
    monitor_cache.__init__()  # the process's cache, emptied as in a new worker
    # The default canaries are on the internet, which the suite does not need (nor have):
    # tests of a region's connectivity name their own (tests/test_canaries.py).
    settings.CANARY_TARGETS = []
    settings.CANARY_TARGETS_BY_REGION = {}


@pytest.fixture(scope="session", autouse=True)
def no_session_left_at_teardown(django_db_setup, django_db_blocker):
    """Before the test database is dropped, end the sessions still connected to it: those
    of threads this process started (each thread has its own connection, and Django
    closes only the main thread's) and of worker processes the last tests stopped, whose
    server processes can outlive them by a moment. Otherwise dropping it fails with
    "being accessed by other users", a warning at the end of the run."""
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def make_user(email: str) -> User:
    return User.objects.create_user(email=email, password=PASSWORD)


@pytest.fixture
def alice(db) -> User:
    return make_user("alice@example.com")


@pytest.fixture
def bob(db) -> User:
    return make_user("bob@example.com")


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def alice_client(alice) -> APIClient:
    return client_for(alice)


@pytest.fixture
def bob_client(bob) -> APIClient:
    return client_for(bob)


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def india(db) -> Region:
    return Region.objects.get(slug="india")


@pytest.fixture
def usa(db) -> Region:
    return Region.objects.get(slug="usa")


def empty_queues(client: redis.Redis) -> None:
    # kombu's exchange bindings stay: producers cache that they declared them, and a
    # message published to an exchange without its binding is dropped.
    stale = [key for key in client.scan_iter() if not key.startswith(b"_kombu.binding.")]
    if stale:
        client.delete(*stale)


@pytest.fixture
def broker():
    """The real Redis-protocol server, with its queues emptied so their contents belong to this test."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    empty_queues(client)
    yield client
    empty_queues(client)
    client.close()


def queued_checks(broker, queue: str) -> list[dict]:
    """The checks waiting on a region's queue, oldest first, one per check (a bundle's
    each with run_check's arguments and the bundle's id), with their message's headers."""
    checks = []
    for raw in reversed(broker.lrange(queue, 0, -1)):
        envelope = json.loads(raw)
        headers = envelope["headers"]
        args, kwargs, _ = json.loads(base64.b64decode(envelope["body"]))
        if headers["task"] != "checks.run_checks":
            checks.append({"task": headers["task"], "kwargs": kwargs, "headers": headers})
            continue
        region, slots = args
        checks.extend(
            {
                "task": headers["task"],
                "kwargs": {"monitor_id": monitor_id, "region": region, "scheduled_at": slot},
                "headers": headers,
                "bundle": headers["id"],
            }
            for monitor_id, slot in slots
        )
    return checks


class TargetHandler(BaseHTTPRequestHandler):
    """Behaviour chosen by path, so one server plays every kind of site:

    /ok  /status/<code>  /slow?seconds=S  /flaky/<key>?failures=N  /redirect?to=URL  /redirect-loop  /big
    """

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # silence the default stderr log
        pass

    def _send(self, code: int, body: bytes = b"ok", headers: dict | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        server: TargetServer = self.server  # type: ignore[assignment]
        server.hits[parts.path] += 1
        path = parts.path
        if path == "/ok":
            self._send(200)
        elif path.startswith("/status/"):
            self._send(int(path.rsplit("/", 1)[1]), b"status")
        elif path == "/slow":
            time.sleep(float(query.get("seconds", "5")))
            self._send(200)
        elif path.startswith("/flaky/"):
            failures = int(query.get("failures", "1"))
            self._send(500 if server.hits[path] <= failures else 200)
        elif path == "/redirect":
            self._send(302, b"", {"Location": query["to"]})
        elif path == "/redirect-loop":
            self._send(302, b"", {"Location": "/redirect-loop"})
        elif path == "/big":
            body = b"x" * (8 * 1024 * 1024)
            self._send(200, body)
        else:
            self._send(404, b"not found")


class TargetServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), TargetHandler)
        self.hits: Counter = Counter()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


@pytest.fixture
def receiver():
    """A real HTTP server on loopback that takes our POSTs (tests/receivers.py)."""
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def target():
    """A real HTTP server on loopback playing the sites we check."""
    server = TargetServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def slot() -> datetime:
    """A slot that is due now (retries are only made while the slot's interval lasts)."""
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
