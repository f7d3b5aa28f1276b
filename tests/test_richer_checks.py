"""Richer checks against real local servers: what an HTTP check sends (headers, basic auth, a
POST body), what it judges (redirects off, a keyword), the TLS certificate's expiry, and TCP
port checks; and the monitor API's rules for all of it."""

import base64
import socket
import ssl
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import trustme
from django.conf import settings

from checks.models import Tick
from checks.outcomes.writer import write_spooled
from checks.state.certificates import CERTIFICATE_EXPIRING, certificate_warning_due, mark_certificate_warned
from checks.tasks import run_check
from checks.worker.monitor_cache import probe_target
from monitors.models import Monitor
from notifications.models import Channel, Delivery
from probe.check import probe
from probe.target import ProbeTarget
from tests.conftest import TargetHandler
from tests.factories import make_monitor, personal

# --- real servers ------------------------------------------------------------------------


class RecordingHandler(TargetHandler):
    """TargetHandler's sites, plus POST, /text?body=...&type=... and a record of every request."""

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append({"method": self.command, "path": self.path, "headers": self.headers, "body": body})

    def do_GET(self):
        self._record()
        parts = urlsplit(self.path)
        if parts.path == "/text":
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            self.server.hits[parts.path] += 1
            content_type = query.get("type", "text/html; charset=utf-8")
            self._send(200, query.get("body", "").encode(), {"Content-Type": content_type})
        else:
            super().do_GET()

    def do_POST(self):
        self.do_GET()


class RecordingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls_context: ssl.SSLContext | None = None, handler=RecordingHandler):
        super().__init__(("127.0.0.1", 0), handler)
        self.hits = Counter()
        self.requests: list[dict] = []
        self.scheme = "http"
        if tls_context is not None:
            self.socket = tls_context.wrap_socket(self.socket, server_side=True)
            self.scheme = "https"

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.server_address[1]}{path}"


def serve(server: RecordingServer) -> RecordingServer:
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def site():
    server = serve(RecordingServer())
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def ca(tmp_path):
    """A certificate authority of the test's own, and the PEM file a check verifies with."""
    authority = trustme.CA()
    path = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    authority.bundle_path = str(path)
    return authority


@pytest.fixture
def tls_site(ca):
    """Start HTTPS sites for localhost whose certificate expires at a given time."""
    servers = []

    def start(expires_at: datetime, http_version: str = "HTTP/1.1") -> RecordingServer:
        certificate = ca.issue_cert(
            "localhost", "127.0.0.1", not_before=expires_at - timedelta(days=90), not_after=expires_at
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        certificate.configure_cert(context)
        handler = type("Handler", (RecordingHandler,), {"protocol_version": http_version})
        servers.append(serve(RecordingServer(context, handler)))
        return servers[-1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def in_days(days: float) -> datetime:
    # Certificates carry whole seconds.
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)


@pytest.fixture
def listening_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.fixture
def unanswering_port():
    """A port whose listener's queue is full: the kernel drops further connection attempts,
    so a connect waits until it times out, as with a firewalled host."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = [socket.socket() for _ in range(4)]
        try:
            for filler in fillers:
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.3).close()
            except TimeoutError:
                yield port
            else:
                pytest.skip("this kernel accepts connections beyond a full listen queue")
        finally:
            for filler in fillers:
                filler.close()


def local(url: str, **settings) -> ProbeTarget:
    return ProbeTarget(url, allow_private=True, timeout_seconds=settings.pop("timeout_seconds", 2), **settings)


def run(monitor, slot, region="india"):
    kwargs = {"monitor_id": monitor.pk, "region": region, "scheduled_at": slot.isoformat()}
    status = run_check.apply(kwargs=kwargs).get()
    write_spooled()
    return status


# --- what an HTTP check sends ------------------------------------------------------------


def test_the_target_sees_the_custom_headers_and_basic_auth(site):
    target = local(site.url("/ok"), headers=(("X-Api-Key", "k-123"), ("Accept", "text/plain")), basic_auth=("me", "pw"))
    assert probe(target).is_up
    [request] = site.requests
    assert request["headers"]["X-Api-Key"] == "k-123"
    assert request["headers"]["Accept"] == "text/plain"
    assert request["headers"]["Authorization"] == "Basic " + base64.b64encode(b"me:pw").decode()


def test_a_post_sends_its_body_with_its_content_type(site):
    result = probe(local(site.url("/ok"), method="POST", body=b'{"ping": 1}', content_type="application/json"))
    assert result.is_up
    [request] = site.requests
    assert (request["method"], request["body"]) == ("POST", b'{"ping": 1}')
    assert request["headers"]["Content-Type"] == "application/json"


def test_the_user_agent_names_the_region_that_checks(alice, site, slot):
    monitor = make_monitor(alice, site.url("/ok"), regions=("india", "usa"))
    run(monitor, slot, region="india")
    run(monitor, slot, region="usa")
    agents = [request["headers"]["User-Agent"] for request in site.requests]
    assert agents == [f"{settings.PROBE_USER_AGENT} region/india", f"{settings.PROBE_USER_AGENT} region/usa"]


def test_basic_auth_is_not_shown_when_a_target_is_printed():
    assert "secret-pw" not in repr(ProbeTarget("https://example.com/", basic_auth=("me", "secret-pw")))


# --- what an HTTP check judges -----------------------------------------------------------


def test_with_redirects_off_the_3xx_itself_is_judged(site):
    url = site.url(f"/redirect?to={site.url('/ok')}")
    assert probe(local(url, max_redirects=0)).is_up  # 302 is within the default 200-399
    refused = probe(local(url, max_redirects=0, expected_status=((200, 299),)))
    assert (refused.is_up, refused.status_code, refused.error) == (False, 302, "unexpected status 302")
    assert site.hits["/ok"] == 0
    followed = probe(local(url, expected_status=((200, 299),)))
    assert (followed.is_up, followed.status_code) == (True, 200)


@pytest.mark.parametrize(
    ("page", "keyword", "absent", "error"),
    [
        ("<h1>Welcome back</h1>", "Welcome", False, ""),
        ("<h1>Maintenance</h1>", "Welcome", False, 'keyword "Welcome" not found'),
        ("<h1>All good</h1>", "Error", True, ""),
        ("<h1>Error 42</h1>", "Error", True, 'keyword "Error" present'),
    ],
)
def test_keyword_present_or_absent(site, page, keyword, absent, error):
    result = probe(local(site.url(f"/text?body={page}"), keyword=keyword, keyword_absent=absent))
    assert (result.is_up, result.error) == (not error, error)
    assert result.status_code == 200


def test_the_keyword_is_searched_only_in_the_body_read(site):
    page = "x" * 5000 + "Welcome"
    assert probe(local(site.url(f"/text?body={page}"), keyword="Welcome")).is_up
    cut = probe(local(site.url(f"/text?body={page}"), keyword="Welcome", max_body_bytes=4096))
    assert cut.error == 'keyword "Welcome" not found'


def test_a_non_ascii_keyword_is_found_in_an_undeclared_utf8_page(site):
    result = probe(local(site.url("/text?body=Grüße aus Köln&type=text/html"), keyword="Köln"))
    assert result.is_up, result.error


def test_a_wrong_status_is_reported_before_the_keyword(site):
    result = probe(local(site.url("/status/500"), keyword="Welcome"))
    assert result.error == "unexpected status 500"


# --- TLS certificates --------------------------------------------------------------------


def test_an_https_check_records_the_certificate_expiry(tls_site, ca):
    expires_at = in_days(3)
    server = tls_site(expires_at)
    result = probe(local(server.url("/ok", host="localhost"), ca_bundle=ca.bundle_path))
    assert result.is_up, result.error
    assert result.tls_expires_at == expires_at


def test_the_expiry_is_recorded_when_the_server_closes_the_connection(tls_site, ca):
    expires_at = in_days(20)
    server = tls_site(expires_at, http_version="HTTP/1.0")
    result = probe(local(server.url("/ok", host="localhost"), ca_bundle=ca.bundle_path))
    assert result.tls_expires_at == expires_at


def test_a_redirect_to_https_records_that_hops_certificate(site, tls_site, ca):
    expires_at = in_days(40)
    secure = tls_site(expires_at)
    result = probe(local(site.url(f"/redirect?to={secure.url('/ok', host='localhost')}"), ca_bundle=ca.bundle_path))
    assert (result.is_up, result.tls_expires_at) == (True, expires_at)


def test_plain_http_has_no_certificate(site):
    assert probe(local(site.url("/ok"))).tls_expires_at is None


def test_an_expired_certificate_is_down_tls(tls_site, ca):
    server = tls_site(in_days(-1))
    result = probe(local(server.url("/ok", host="localhost"), ca_bundle=ca.bundle_path))
    assert not result.is_up
    assert result.error.startswith("tls:")
    assert server.requests == []


def test_a_certificate_from_an_unknown_authority_is_down_tls(tls_site):
    server = tls_site(in_days(30))
    result = probe(local(server.url("/ok", host="localhost")))
    assert not result.is_up
    assert result.error.startswith("tls:")


# --- TCP port checks ---------------------------------------------------------------------


def test_tcp_is_up_when_the_port_accepts(listening_port):
    result = probe(local(f"tcp://127.0.0.1:{listening_port}"))
    assert (result.is_up, result.error, result.status_code) == (True, "", None)
    assert 0 <= result.response_time_ms < 2000


def test_tcp_on_a_closed_port_is_down_refused(closed_port):
    result = probe(local(f"tcp://127.0.0.1:{closed_port}"))
    assert not result.is_up
    assert result.error == "refused: the connection was refused"


def test_tcp_that_never_answers_is_down_timeout(unanswering_port):
    result = probe(local(f"tcp://127.0.0.1:{unanswering_port}", timeout_seconds=1))
    assert not result.is_up
    assert result.error == "timeout: no connection within 1 s"
    assert result.response_time_ms < 1900


def test_tcp_to_an_unknown_host_is_down_dns():
    result = probe(local("tcp://no-such-host.invalid:443"))
    assert not result.is_up
    assert result.error.startswith("dns:")


# --- monitors: from settings to ticks ----------------------------------------------------


def test_a_monitors_request_settings_reach_the_target(alice, site, slot):
    monitor = make_monitor(
        alice,
        site.url("/text?body=status: Welcome"),
        method="POST",
        request_headers={"X-Token": "t-1"},
        request_body="ping=1",
        request_content_type="application/x-www-form-urlencoded",
        auth_username="probe",
        auth_password="s3cret",
        keyword="Welcome",
    )
    assert run(monitor, slot) == "up"
    [request] = site.requests
    assert (request["method"], request["body"]) == ("POST", b"ping=1")
    assert request["headers"]["X-Token"] == "t-1"
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert request["headers"]["Authorization"] == "Basic " + base64.b64encode(b"probe:s3cret").decode()


def test_a_forbidden_keyword_makes_a_down_tick_with_the_reason(alice, site, slot):
    monitor = make_monitor(alice, site.url("/text?body=Fatal Error"), keyword="Error", keyword_mode="absent")
    assert run(monitor, slot) == "down"
    tick = Tick.objects.get(monitor=monitor)
    assert (tick.status_code, tick.error) == (200, 'keyword "Error" present')


def test_a_monitor_not_following_redirects_is_judged_by_the_3xx(alice, site, slot):
    monitor = make_monitor(
        alice, site.url(f"/redirect?to={site.url('/ok')}"), follow_redirects=False, expected_status="301"
    )
    assert run(monitor, slot) == "down"
    assert Tick.objects.get(monitor=monitor).error == "unexpected status 302"
    assert site.hits["/ok"] == 0


def test_a_tcp_monitor_writes_up_and_down_ticks(alice, listening_port, closed_port, slot):
    up = make_monitor(alice, f"tcp://127.0.0.1:{listening_port}", kind="tcp")
    down = make_monitor(alice, f"tcp://127.0.0.1:{closed_port}", kind="tcp")
    assert run(up, slot) == "up"
    assert run(down, slot) == "down"
    tick = Tick.objects.get(monitor=up)
    assert (tick.status_code, tick.response_time_ms is not None) == (None, True)
    assert Tick.objects.get(monitor=down).error.startswith("refused")


def test_certificate_expiry_is_recorded_and_warned_about_once(settings, alice, alice_client, tls_site, ca, slot):
    settings.PROBE_CA_BUNDLE = ca.bundle_path
    expires_at = in_days(5)
    server = tls_site(expires_at)
    channel = Channel.objects.create(
        organization=personal(alice), name="ops", kind="email", email="ops@example.com", is_default=True
    )
    monitor = make_monitor(alice, server.url("/ok", host="localhost"), tls_expiry_warning_days=14)

    assert run(monitor, slot) == "up"  # expiring soon is a warning, not an outage
    assert Tick.objects.get(monitor=monitor).tls_expires_at == expires_at
    monitor.refresh_from_db()
    assert (monitor.status, monitor.tls_expires_at) == ("up", expires_at)
    shown = alice_client.get(f"/api/monitors/{monitor.pk}/").json()
    assert shown["tls_expiry_warning"] is True
    assert datetime.fromisoformat(shown["tls_expires_at"]) == expires_at

    # The check itself warned the monitor's channels, once.
    [alert] = Delivery.objects.filter(event=CERTIFICATE_EXPIRING)
    assert alert.channel == channel and alert.payload["context"]["days_left"] == 4
    assert "expires in 4 days" in alert.payload["title"]
    now = datetime.now(UTC)
    assert not certificate_warning_due(monitor, expires_at, now)
    assert not mark_certificate_warned(Monitor.objects.get(pk=monitor.pk), expires_at)  # a second worker

    run(monitor, slot + timedelta(minutes=1))
    monitor.refresh_from_db()
    assert not certificate_warning_due(monitor, monitor.tls_expires_at, datetime.now(UTC))
    assert Delivery.objects.filter(event=CERTIFICATE_EXPIRING).count() == 1

    renewed = in_days(9)  # renewed, still inside the warning period: warned about again, once
    assert certificate_warning_due(monitor, renewed, now)


@pytest.mark.parametrize(("days_left", "warning_days", "due"), [(30, 14, False), (13, 14, True), (1, 0, False)])
def test_the_warning_period_decides(alice, days_left, warning_days, due):
    monitor = make_monitor(alice, "https://a.example/", tls_expiry_warning_days=warning_days)
    assert certificate_warning_due(monitor, in_days(days_left), datetime.now(UTC)) is due


def test_a_monitor_that_moves_to_plain_http_forgets_its_certificate(alice, site, slot):
    monitor = make_monitor(alice, site.url("/ok"))
    Monitor.objects.filter(pk=monitor.pk).update(tls_expires_at=in_days(10))
    run(monitor, slot)
    monitor.refresh_from_db()
    assert monitor.tls_expires_at is None


# --- the API -----------------------------------------------------------------------------

VALID = {"name": "Example", "url": "https://example.com/", "interval_seconds": 60, "regions": ["india"]}


def test_a_monitor_with_every_http_setting_round_trips_without_its_password(alice_client):
    settings = {
        "method": "POST",
        "request_headers": {"X-Token": "t-1"},
        "request_body": '{"ping": 1}',
        "request_content_type": "application/json",
        "auth_username": "probe",
        "auth_password": " s3cret ",
        "follow_redirects": False,
        "keyword": "Welcome",
        "keyword_mode": "present",
        "tls_expiry_warning_days": 30,
    }
    response = alice_client.post("/api/monitors/", {**VALID, **settings}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert "auth_password" not in body
    assert body["auth_password_set"] is True
    assert {name: body[name] for name in settings if name != "auth_password"} == {
        name: value for name, value in settings.items() if name != "auth_password"
    }
    assert (body["kind"], body["tls_expires_at"], body["tls_expiry_warning"]) == ("http", None, False)
    monitor = Monitor.objects.get(pk=body["id"])
    assert probe_target(monitor).basic_auth == ("probe", " s3cret ")

    listed = alice_client.get("/api/monitors/").json()["results"][0]
    assert "auth_password" not in listed
    assert "s3cret" not in alice_client.get(f"/api/monitors/{monitor.pk}/").content.decode()


def test_an_update_without_the_password_keeps_it(alice_client, alice):
    monitor = make_monitor(alice, "https://a.example/", auth_username="probe", auth_password="s3cret")
    patched = alice_client.patch(f"/api/monitors/{monitor.pk}/", {"name": "Renamed"}, format="json")
    assert patched.status_code == 200
    put = alice_client.put(f"/api/monitors/{monitor.pk}/", {**VALID, "auth_username": "probe"}, format="json")
    assert put.status_code == 200, put.json()
    monitor.refresh_from_db()
    assert monitor.auth_password == "s3cret"

    changed = alice_client.patch(f"/api/monitors/{monitor.pk}/", {"auth_password": "n3w"}, format="json")
    assert changed.json()["auth_password_set"] is True
    monitor.refresh_from_db()
    assert monitor.auth_password == "n3w"


def test_clearing_the_username_clears_the_password(alice_client, alice):
    monitor = make_monitor(alice, "https://a.example/", auth_username="probe", auth_password="s3cret")
    response = alice_client.patch(f"/api/monitors/{monitor.pk}/", {"auth_username": ""}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["auth_password_set"] is False
    monitor.refresh_from_db()
    assert (monitor.auth_username, monitor.auth_password) == ("", "")


def test_a_tcp_monitor_is_created_with_its_host_and_port(alice_client):
    response = alice_client.post(
        "/api/monitors/", {**VALID, "kind": "tcp", "url": "tcp://db.example.com:5432"}, format="json"
    )
    assert response.status_code == 201, response.json()
    monitor = Monitor.objects.get(pk=response.json()["id"])
    assert probe_target(monitor) == ProbeTarget(
        "tcp://db.example.com:5432", timeout_seconds=monitor.timeout_seconds, allow_private=True
    )


TCP = {"kind": "tcp", "url": "tcp://db.example.com:5432"}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"request_headers": {"Host": "evil.example"}}, "request_headers", 'The check sets "Host" itself.'),
        ({"request_headers": {"Connection": "close"}}, "request_headers", "hop-by-hop"),
        ({"request_headers": {"Transfer-Encoding": "chunked"}}, "request_headers", "hop-by-hop"),
        ({"request_headers": {"Content-Type": "text/plain"}}, "request_headers", "use request_content_type"),
        ({"request_headers": {"Bad Name": "x"}}, "request_headers", "not a valid header name"),
        ({"request_headers": {"X-A": "1\r\nX-Injected: 1"}}, "request_headers", "without line breaks"),
        ({"request_headers": {"X-A": 1}}, "request_headers", "must be a string"),
        ({"request_headers": {"X-A": " padded"}}, "request_headers", "surrounding spaces"),
        ({"request_headers": {"X-A": "1", "x-a": "2"}}, "request_headers", "given twice"),
        ({"request_headers": ["X-A: 1"]}, "request_headers", "as an object"),
        ({"request_headers": {f"X-{i}": "v" for i in range(21)}}, "request_headers", "At most 20"),
        ({"request_headers": {"X-A": "v" * 1001}}, "request_headers", "at most 1000"),
        (
            {"request_headers": {"Authorization": "Bearer t"}, "auth_username": "u", "auth_password": "p"},
            "request_headers",
            "not both",
        ),
        ({"request_body": "x=1", "request_content_type": "text/plain"}, "request_body", "Only POST"),
        (
            {"method": "POST", "request_body": "x" * (16 * 1024 + 1), "request_content_type": "text/plain"},
            "request_body",
            "at most 16384 bytes",
        ),
        ({"method": "POST", "request_body": "x=1"}, "request_content_type", "Give the body's content type"),
        ({"method": "POST", "request_body": "x=1", "request_content_type": "json"}, "request_content_type", "like"),
        ({"request_content_type": "text/plain"}, "request_content_type", "goes with a request body"),
        ({"auth_password": "p"}, "auth_username", "Give the username"),
        ({"auth_username": "a:b", "auth_password": "p"}, "auth_username", "colon"),
        ({"auth_username": "u", "auth_password": "密码"}, "auth_password", "Latin-1"),
        ({"method": "HEAD", "keyword": "Welcome"}, "keyword", "HEAD response has no body"),
        ({"keyword_mode": "maybe"}, "keyword_mode", ""),
        ({"method": "PUT"}, "method", ""),
        ({"tls_expiry_warning_days": 400}, "tls_expiry_warning_days", "365"),
        ({"kind": "udp"}, "kind", ""),
        ({"url": "tcp://db.example.com:5432"}, "url", "set kind to tcp"),
        ({"kind": "tcp"}, "url", "tcp://host:port"),
        ({**TCP, "url": "tcp://db.example.com"}, "url", "port"),
        ({**TCP, "url": "tcp://db.example.com:0"}, "url", "port"),
        ({**TCP, "url": "tcp://db.example.com:70000"}, "url", "valid URL"),
        ({**TCP, "url": "tcp://:5432"}, "url", "host"),
        ({**TCP, "url": "tcp://db.example.com:5432/path"}, "url", "without a path"),
        ({**TCP, "method": "POST"}, "method", "Only HTTP monitors"),
        ({**TCP, "keyword": "x"}, "keyword", "Only HTTP monitors"),
        ({**TCP, "request_headers": {"X-A": "1"}}, "request_headers", "Only HTTP monitors"),
        ({**TCP, "expected_status": "200"}, "expected_status", "Only HTTP monitors"),
    ],
)
def test_bad_check_settings_are_400_with_a_message_for_the_field(alice_client, changes, field, message):
    response = alice_client.post("/api/monitors/", {**VALID, **changes}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    assert message in str(errors[field])
    assert not Monitor.objects.exists()


def test_patching_an_http_monitor_into_tcp_needs_its_http_settings_cleared(alice_client, alice):
    monitor = make_monitor(alice, "https://a.example/", keyword="Welcome")
    refused = alice_client.patch(f"/api/monitors/{monitor.pk}/", TCP, format="json")
    assert refused.status_code == 400
    assert "keyword" in refused.json()
    moved = alice_client.patch(f"/api/monitors/{monitor.pk}/", {**TCP, "keyword": ""}, format="json")
    assert moved.status_code == 200, moved.json()
    assert (moved.json()["kind"], moved.json()["url"]) == ("tcp", "tcp://db.example.com:5432")


def test_the_admin_keeps_the_password_when_its_field_is_left_empty(client, alice):
    from django.urls import reverse

    from accounts.models import User
    from tests.conftest import PASSWORD
    from tests.factories import admin_monitor_form, personal

    User.objects.create_superuser(email="root@example.com", password=PASSWORD)
    client.login(email="root@example.com", password=PASSWORD)
    monitor = make_monitor(alice, "https://a.example/", auth_username="probe", auth_password="s3cret")
    page = client.get(reverse("admin:monitors_monitor_change", args=[monitor.pk])).content.decode()
    assert "s3cret" not in page
    form = admin_monitor_form(personal(alice), name="Changed", auth_username="probe", auth_password="")
    response = client.post(reverse("admin:monitors_monitor_change", args=[monitor.pk]), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    monitor.refresh_from_db()
    assert (monitor.name, monitor.auth_password) == ("Changed", "s3cret")
