"""A monitor's or channel's URL is refused when entered if no check could ever use it: control
characters or whitespace in it, or a host that can never resolve."""

import pytest

from monitors.models import Monitor
from notifications.models import Channel
from probe.urls import url_error

VALID = {"name": "Example", "interval_seconds": 60, "regions": ["india"]}

UNUSABLE_CHARACTERS = [
    ("http://example.com/\r\nX-Injected: 1", "a carriage return (U+000D) at character 20"),
    ("http://example.com/\nX-Injected: 1", "a line feed (U+000A) at character 20"),
    ("http://exa\tmple.com/", "a tab at character 11"),
    ("http://example.com/a\tb", "a tab at character 21"),
    ("http://exa mple.com/", "a space at character 11"),
    ("http://example.com/a b", "a space at character 21"),
    ("http://example.com/?q=\x1b[0m", "U+001B"),
    ("http://example.com/\x7f", "U+007F"),
    ("http://example.com/\x85", "U+0085"),
    ("http://example.com/\u00a0", "U+00A0"),
    ("http://example.com/\u2028", "U+2028"),
]


@pytest.mark.parametrize(("url", "found"), UNUSABLE_CHARACTERS)
def test_control_characters_and_whitespace_in_a_url_are_refused(url, found):
    message = url_error(url, allow_private=True)
    assert message is not None
    assert message.startswith("URL must not contain spaces or control characters")
    assert found in message


def test_the_message_says_where_a_space_could_be_written_encoded():
    assert "a host name has none" in url_error("http://exa mple.com/", allow_private=True)
    assert "%20" in url_error("http://example.com/a b", allow_private=True)


@pytest.mark.parametrize("url", ["http://example.com/a\r\nb", "http://exa mple.com/", "http://example.com/a\tb"])
def test_a_monitor_with_such_a_url_is_not_created(alice_client, url):
    response = alice_client.post("/api/monitors/", {**VALID, "url": url}, format="json")
    assert response.status_code == 400
    assert "control characters" in response.json()["url"][0]
    assert not Monitor.objects.exists()


def test_a_tcp_monitor_with_such_a_url_is_not_created(alice_client):
    response = alice_client.post(
        "/api/monitors/", {**VALID, "kind": "tcp", "url": "tcp://db\n.example:5432"}, format="json"
    )
    assert response.status_code == 400
    assert "control characters" in response.json()["url"][0]
    assert not Monitor.objects.exists()


@pytest.mark.parametrize("kind", ["webhook", "slack"])
def test_a_channel_with_such_a_url_is_not_created(alice_client, kind):
    body = {"name": "x", "kind": kind, "url": "https://hooks.example/a\r\nb"}
    response = alice_client.post("/api/channels/", body, format="json")
    assert response.status_code == 400
    assert "control characters" in response.json()["url"][0]
    assert not Channel.objects.exists()


NEVER_RESOLVING = [
    ("http://xn--/", "not a valid internationalized domain name"),
    ("http://xn--abc.example/", "not a valid internationalized domain name"),
    ("http://ü-.example/", "not a valid internationalized domain name"),
    ("http://☃.example/", "not a valid internationalized domain name"),
    ("http://" + "a" * 64 + ".example/", "a label may have at most 63"),
    ("http://" + ("a" * 62 + ".") * 3 + "a" * 57 + ".example/", "254 characters long"),
    ("http://a..b/", "empty label"),
    ("http://.example.com/", "empty label"),
    ("http://example.com../", "empty label"),
    ("http://exa%20mple.com/", 'contains "%"'),
    ("http://a*b.example/", 'contains "*"'),
    ("http://256.1.1.1/", "neither a domain name nor an IPv4 address"),
    ("http://1.2.3/", "neither a domain name nor an IPv4 address"),
    ("http://0x7f.1/", "neither a domain name nor an IPv4 address"),
    ("http://2130706433/", "neither a domain name nor an IPv4 address"),
    ("tcp://a..b:5432", "empty label"),
]


@pytest.mark.parametrize(("url", "reason"), NEVER_RESOLVING)
def test_a_host_that_can_never_resolve_is_refused(url, reason):
    message = url_error(url, tcp=url.startswith("tcp:"), allow_private=True)
    assert message is not None
    assert reason in message


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/",
        "https://example.com./",  # a complete name
        "https://bücher.example/",
        "https://BÜCHER.example/",
        "https://xn--bcher-kva.example/",
        "https://" + "a" * 63 + ".example/",
        "https://" + ("a" * 62 + ".") * 3 + "a" * 56 + ".example/",  # 253 characters
        "https://foo-.blogspot.com/",  # resolves, though the host-name rules frown on it
        "https://_service.example/",
        "http://localhost:8000/",
        "http://192.0.2.1/",
        "http://[2001:db8::1]:8080/",
        "tcp://db.example:5432",
    ],
)
def test_hosts_that_can_resolve_are_accepted(url):
    assert url_error(url, tcp=url.startswith("tcp:"), allow_private=True) is None


@pytest.mark.parametrize(("url", "reason"), [("http://a..b/", "empty label"), ("http://xn--/", "internationalized")])
def test_a_monitor_or_channel_with_such_a_host_is_not_created(alice_client, url, reason):
    monitor = alice_client.post("/api/monitors/", {**VALID, "url": url}, format="json")
    channel = alice_client.post("/api/channels/", {"name": "x", "kind": "webhook", "url": url}, format="json")
    for response in (monitor, channel):
        assert response.status_code == 400
        assert reason in response.json()["url"][0]
    assert not Monitor.objects.exists() and not Channel.objects.exists()


def test_the_host_is_judged_before_it_is_resolved(settings, alice_client):
    # With the address guard on, a host that cannot resolve is named as such, not looked up.
    settings.ALLOW_PRIVATE_TARGETS = False
    response = alice_client.post("/api/monitors/", {**VALID, "url": "http://a..b/"}, format="json")
    assert response.status_code == 400
    assert "empty label" in response.json()["url"][0]
