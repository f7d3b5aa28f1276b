"""URLs that point into our own network are refused: when entered, and on every request."""

import ipaddress
import socket

import pytest

from checks.models import Tick
from probe.check import probe
from probe.target import ProbeTarget
from tests.factories import make_monitor

VALID = {"name": "Example", "interval_seconds": 60, "regions": ["india"]}


@pytest.fixture
def guarded(settings):
    settings.ALLOW_PRIVATE_TARGETS = False


def is_loopback(host: str) -> bool:
    address = ipaddress.ip_address(host.split("%")[0])
    return address in ipaddress.ip_network("127.0.0.0/8") or address == ipaddress.ip_address("::1")


@pytest.fixture(autouse=True)
def connections(monkeypatch):
    """The addresses this process's sockets connect to during the test, in order.

    Also a safety net: a connection to anything but 127.0.0.0/8 or ::1 fails here without
    being made, so a guard that lets an address through sends nothing off the machine.
    The tests assert on the guard's answer; this only keeps their failures harmless."""
    attempts: list[str] = []
    real_connect = socket.socket.connect

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address[0])
            if not is_loopback(address[0]):
                raise OSError(f"test safety net: no connection to {address[0]}, which is not loopback")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.1.2.3:8080/admin",
        "http://localhost:8000/",
        "http://10.0.0.5/",
        "http://172.16.3.4/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fd00:ec2::254]/",
        "http://0.0.0.0/",
        "http://100.64.1.1/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        # Python 3.11's tables call these global: IPv4-compatible loopback and cloud
        # metadata, site-local IPv6, IPv6 multicast.
        "http://[::127.0.0.1]/",
        "http://[::a9fe:a9fe]/latest/meta-data/",
        "http://[fec0::1]/",
        "http://[ff0e::1]/",
    ],
)
def test_private_urls_are_refused_with_a_clear_message(guarded, alice_client, url):
    response = alice_client.post("/api/monitors/", {**VALID, "url": url}, format="json")
    assert response.status_code == 400
    assert "private or reserved address" in response.json()["url"][0]


@pytest.mark.parametrize("url", ["http://10.0.0.5/", "http://localhost:8000/"])
def test_the_refusal_names_the_setting_that_allows_private_targets(guarded, alice_client, url):
    # Someone trying it out on their own machine learns what to set.
    monitor = alice_client.post("/api/monitors/", {**VALID, "url": url}, format="json")
    channel = alice_client.post("/api/channels/", {"name": "x", "kind": "webhook", "url": url}, format="json")
    for response in (monitor, channel):
        assert response.status_code == 400
        assert "ALLOW_PRIVATE_TARGETS=true" in response.json()["url"][0]


def test_public_addresses_are_accepted(guarded, alice_client):
    response = alice_client.post("/api/monitors/", {**VALID, "url": "https://93.184.215.14/"}, format="json")
    assert response.status_code == 201, response.json()


def test_private_targets_can_be_allowed_for_intranet_installs(settings, alice_client):
    settings.ALLOW_PRIVATE_TARGETS = True
    response = alice_client.post("/api/monitors/", {**VALID, "url": "http://10.0.0.5/"}, format="json")
    assert response.status_code == 201


def test_a_request_to_a_private_address_is_never_made(target):
    result = probe(ProbeTarget(target.url("/ok")))
    assert not result.is_up
    assert result.error == "blocked: 127.0.0.1 is a private or reserved address"
    assert target.hits["/ok"] == 0


def test_a_hostname_resolving_to_a_private_address_is_blocked_at_request_time(target):
    result = probe(ProbeTarget(target.url("/ok").replace("127.0.0.1", "localhost")))
    assert result.error.startswith("blocked:")
    assert target.hits["/ok"] == 0


@pytest.mark.parametrize(
    "private",
    [
        "10.1.2.3",
        "169.254.169.254",
        "[fd00::1]",
        "[::a9fe:a9fe]",  # 169.254.169.254, IPv4-compatible
        "[::ffff:a9fe:a9fe]",  # 169.254.169.254, IPv4-mapped
        "[64:ff9b::a9fe:a9fe]",  # through NAT64
        "[2002:a9fe:a9fe::1]",  # through 6to4
        "[fec0::1]",  # site-local
        "192.0.0.8",
        "198.18.0.1",
    ],
)
def test_a_redirect_into_the_private_network_is_blocked_at_that_hop(target, connections, private):
    # Loopback is let through so the first hop reaches the test server; the redirect's
    # target is checked on its own, before anything connects to it.
    url = target.url(f"/redirect?to=http://{private}/latest/meta-data/")
    result = probe(ProbeTarget(url, allow_loopback=True, timeout_seconds=2))
    assert target.hits["/redirect"] == 1
    assert not result.is_up
    assert result.error.startswith("blocked:")
    assert connections == ["127.0.0.1"]  # the first hop only


def test_a_redirect_to_ipv4_compatible_metadata_is_blocked_without_a_connection(target, connections):
    result = probe(ProbeTarget(target.url("/redirect?to=http://[::a9fe:a9fe]/"), allow_loopback=True))
    assert result.error == "blocked: ::a9fe:a9fe is a private or reserved address"
    assert connections == ["127.0.0.1"]


@pytest.mark.parametrize("allow_loopback", [False, True])
def test_ipv4_compatible_loopback_is_blocked_without_a_connection(target, connections, allow_loopback):
    # ::127.0.0.1 is not loopback: allowing loopback does not let it through either.
    url = f"http://[::127.0.0.1]:{target.server_address[1]}/ok"
    result = probe(ProbeTarget(url, allow_loopback=allow_loopback, timeout_seconds=2))
    assert result.error == "blocked: ::7f00:1 is a private or reserved address"  # ::127.0.0.1
    assert connections == []
    assert target.hits["/ok"] == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "[::ffff:127.0.0.1]"])
def test_loopback_stays_reachable_when_allowed(target, host):
    url = f"http://{host}:{target.server_address[1]}/ok"
    assert probe(ProbeTarget(url, allow_loopback=True, timeout_seconds=2)).is_up
    assert target.hits["/ok"] == 1


def test_a_stored_monitor_pointing_inside_is_checked_as_down_blocked(settings, alice, target, slot):
    from checks.outcomes.writer import write_spooled
    from checks.tasks import run_check

    monitor = make_monitor(alice, target.url("/ok"))  # entered while private targets were allowed
    settings.ALLOW_PRIVATE_TARGETS = False
    run_check.apply(kwargs={"monitor_id": monitor.pk, "region": "india", "scheduled_at": slot.isoformat()})
    write_spooled()
    tick = Tick.objects.get(monitor=monitor)
    assert tick.status == "down"
    assert tick.error.startswith("blocked:")
    assert target.hits["/ok"] == 0


@pytest.fixture
def listener():
    """A listening loopback socket, and a way to tell whether anything connected to it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.settimeout(0.2)

        def connected() -> bool:
            try:
                sock.accept()[0].close()
            except TimeoutError:
                return False
            return True

        yield sock.getsockname()[1], connected


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_tcp_check_of_a_private_address_never_connects(listener, host):
    port, connected = listener
    result = probe(ProbeTarget(f"tcp://{host}:{port}", timeout_seconds=2))
    assert not result.is_up
    assert result.error == "blocked: 127.0.0.1 is a private or reserved address"
    assert not connected()


@pytest.mark.parametrize("allow_loopback", [False, True])
def test_a_tcp_check_of_ipv4_compatible_loopback_never_connects(listener, connections, allow_loopback):
    port, connected = listener
    result = probe(ProbeTarget(f"tcp://[::127.0.0.1]:{port}", timeout_seconds=2, allow_loopback=allow_loopback))
    assert result.error == "blocked: ::7f00:1 is a private or reserved address"  # ::127.0.0.1
    assert connections == []
    assert not connected()


def test_a_tcp_check_of_loopback_connects_when_loopback_is_allowed(listener):
    port, connected = listener
    assert probe(ProbeTarget(f"tcp://127.0.0.1:{port}", timeout_seconds=2, allow_loopback=True)).is_up
    assert connected()


@pytest.mark.parametrize(
    "url",
    ["tcp://127.0.0.1:5432", "tcp://10.0.0.5:6379", "tcp://[::1]:22", "tcp://localhost:25", "tcp://[::127.0.0.1]:22"],
)
def test_private_tcp_targets_are_refused_when_entered(guarded, alice_client, url):
    response = alice_client.post("/api/monitors/", {**VALID, "kind": "tcp", "url": url}, format="json")
    assert response.status_code == 400
    assert "private or reserved address" in response.json()["url"][0]
