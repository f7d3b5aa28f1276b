"""Badges: public SVG images at /badge/<key>/<kind>.svg, by a monitor's badge key. What they
say for each status and for known figures, their headers (cacheable, no cookie, no script),
the key (unguessable, distinct, rotated by the owner only) and the monitor page's card."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from checks.models import HourlyRollup, Tick
from checks.outcomes.rollup_counts import count_ticks
from monitors.models import Monitor, Region
from monitors.services import pause_monitor
from tests.factories import make_monitor, make_tick

SVG = "{http://www.w3.org/2000/svg}"
KINDS = ("status", "uptime-24h", "uptime-7d", "uptime-30d", "response-time")


def said(response) -> str:
    """What a badge says: its <title>, checked against its aria-label and drawn texts."""
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    title = root.find(f"{SVG}title").text
    assert root.get("role") == "img" and root.get("aria-label") == title
    drawn = [text.text for text in root.iter(f"{SVG}text")]
    # Each text drawn twice, its shadow first; the label, then the value.
    assert ": ".join(dict.fromkeys(drawn)) == title
    return title


def badge(monitor: Monitor, kind: str, query: str = "", client: Client | None = None):
    return (client or Client()).get(f"/badge/{monitor.badge_key}/{kind}.svg{query}")


def set_status(monitor: Monitor, status: str) -> None:
    Monitor.objects.filter(pk=monitor.pk).update(status=status)


@pytest.fixture
def shop(alice) -> Monitor:
    return make_monitor(alice, "https://shop.example/")


def an_hour_ago() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)


@pytest.mark.parametrize("status", ["up", "down", "degraded", "maintenance", "pending"])
def test_the_status_badge_says_the_monitors_status_in_a_word(shop, status):
    set_status(shop, status)
    assert said(badge(shop, "status")) == f"status: {status}"


def test_every_badge_of_a_paused_monitor_says_paused(shop):
    make_tick(shop, "india", an_hour_ago())
    pause_monitor(shop)
    for kind in KINDS:
        assert said(badge(shop, kind)).endswith(": paused"), kind


def test_uptime_badges_give_the_windows_uptime_without_maintenance(shop):
    at = an_hour_ago()
    for minute, status in enumerate(["up", "up", "up", "down"]):
        make_tick(shop, "india", at + timedelta(minutes=minute), status=status)
    # A failure in a maintenance window counts in no figure.
    planned = Tick.objects.create(
        monitor=shop,
        region=Region.objects.get(slug="india"),
        status="down",
        error="unexpected status 500",
        scheduled_at=at + timedelta(minutes=10),
        checked_at=at + timedelta(minutes=10),
        in_maintenance=True,
    )
    count_ticks([planned])
    set_status(shop, "up")
    assert said(badge(shop, "uptime-24h")) == "uptime 24h: 75.00%"
    assert said(badge(shop, "uptime-7d")) == "uptime 7d: 75.00%"
    assert said(badge(shop, "uptime-30d")) == "uptime 30d: 75.00%"


def test_uptime_is_rounded_down_so_a_single_failure_never_shows_100_percent(shop):
    make_tick(shop, "india", an_hour_ago(), status="down")
    # As if 20,003 more checks had come in that hour, all up: 1 failure in 20,004.
    HourlyRollup.objects.filter(monitor=shop).update(checks=20_004, up=20_003)
    set_status(shop, "up")
    assert said(badge(shop, "uptime-24h")) == "uptime 24h: 99.99%"


def test_without_checks_a_figure_is_unknown_not_zero_or_a_hundred(shop):
    assert said(badge(shop, "uptime-24h")) == "uptime 24h: unknown"
    assert said(badge(shop, "response-time")) == "response: unknown"


def test_the_response_time_badge_is_the_24h_average_of_successful_checks(shop):
    at = an_hour_ago()
    for minute, ms in enumerate([100, 200, 300]):
        make_tick(shop, "india", at + timedelta(minutes=minute), response_time_ms=ms)
    make_tick(shop, "india", at + timedelta(minutes=5), status="down", response_time_ms=None)
    assert said(badge(shop, "response-time")) == "response: 200 ms"


def test_headers_let_a_cdn_keep_it_a_minute_and_forbid_scripts_and_sniffing(shop, alice):
    signed_in = Client()
    signed_in.force_login(alice)
    for client in (Client(), signed_in):
        for kind in KINDS:
            response = badge(shop, kind, client=client)
            assert response["Content-Type"] == "image/svg+xml"
            assert response["Cache-Control"] == "public, max-age=60, s-maxage=60"
            assert response["X-Content-Type-Options"] == "nosniff"
            policy = response["Content-Security-Policy"]
            assert "default-src 'none'" in policy and "script-src" not in policy
            # The same for everyone: no cookie set, none varied on.
            assert "cookie" not in response.get("Vary", "").lower()
            assert not response.cookies


def test_an_unknown_key_or_kind_is_the_same_plain_404(shop):
    client = Client()
    unknown_key = client.get("/badge/NoSuchKeyNoSuchKeyNoSuch/status.svg")
    unknown_kind = client.get(f"/badge/{shop.badge_key}/uptime-90d.svg")
    for response in (unknown_key, unknown_kind):
        assert response.status_code == 404
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert not response.cookies
    assert unknown_key.content == unknown_kind.content
    # The id is no key, nor is a key with a NUL character in it (PostgreSQL would refuse it).
    assert client.get(f"/badge/{shop.pk}/status.svg").status_code == 404
    assert client.get(f"/badge/{shop.badge_key}%00/status.svg").status_code == 404


def test_a_key_reaches_its_own_monitor_only(shop, bob):
    bobs = make_monitor(bob, "https://bob.example/")
    set_status(shop, "up")
    set_status(bobs, "down")
    assert said(badge(shop, "status")) == "status: up"
    assert said(badge(bobs, "status")) == "status: down"
    near = shop.badge_key[:-1] + ("A" if shop.badge_key[-1] != "A" else "B")
    assert Client().get(f"/badge/{near}/status.svg").status_code == 404


def test_every_monitor_gets_a_distinct_unguessable_key(alice):
    keys = {make_monitor(alice, f"https://{n}.example/").badge_key for n in range(5)}
    assert len(keys) == 5
    assert all(len(key) == 24 for key in keys)


def test_the_migration_gives_each_existing_monitor_a_key_of_its_own(alice):
    executor = MigrationExecutor(connection)
    before, after = ("monitors", "0008_monitor_paused_with_owner"), ("monitors", "0009_monitor_badge_key")
    executor.migrate([before])
    old_monitor = executor.loader.project_state(before).apps.get_model("monitors", "Monitor")
    for n in range(3):
        old_monitor.objects.create(owner_id=alice.pk, name=f"old {n}", url=f"https://{n}.example/")
    with connection.cursor() as cursor:  # the inserts' deferred checks, before the ALTER TABLE
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.migrate([after])
    keys = list(Monitor.objects.values_list("badge_key", flat=True))
    assert len(keys) == 3 and len(set(keys)) == 3 and all(len(key) == 24 for key in keys)


def test_rotating_the_key_ends_the_old_urls(shop, alice_client):
    old = shop.badge_key
    response = alice_client.post(f"/api/monitors/{shop.pk}/rotate-badge-key/")
    assert response.status_code == 200
    new = response.json()["badge_key"]
    assert new != old and len(new) == 24
    assert Client().get(f"/badge/{old}/status.svg").status_code == 404
    assert Client().get(f"/badge/{new}/status.svg").status_code == 200


def test_the_key_is_in_the_api_read_only_and_only_its_owner_may_rotate_it(shop, alice_client, bob_client, anon_client):
    path = f"/api/monitors/{shop.pk}/"
    assert alice_client.get(path).json()["badge_key"] == shop.badge_key
    alice_client.patch(path, {"badge_key": "chosen-by-me"}, format="json")
    assert bob_client.post(f"{path}rotate-badge-key/").status_code == 404
    assert anon_client.post(f"{path}rotate-badge-key/").status_code == 401
    shop.refresh_from_db()
    assert alice_client.get(path).json()["badge_key"] == shop.badge_key != "chosen-by-me"


def test_a_hostile_label_is_escaped_and_cut_to_40_characters(shop):
    set_status(shop, "up")
    hostile = '<script>alert("x")</script>\'&\x01' + "y" * 40
    response = badge(shop, "status", query="?label=" + quote(hostile))
    assert b"<script" not in response.content
    cleaned = hostile.replace("\x01", "")[:40]
    assert said(response) == f"{cleaned}: up"


def test_a_badge_is_read_in_at_most_two_queries(shop, django_assert_max_num_queries):
    make_tick(shop, "india", an_hour_ago())
    client = Client()
    for kind in KINDS:
        with django_assert_max_num_queries(2):
            assert badge(shop, kind, client=client).status_code == 200


def test_the_monitor_page_lists_each_badge_with_its_markdown(shop, alice):
    client = Client()
    client.force_login(alice)
    page = client.get(f"/monitors/{shop.pk}/").content.decode()
    assert '<h2 id="badges-heading">Badges</h2>' in page
    for kind in KINDS:
        url = f"http://testserver/badge/{shop.badge_key}/{kind}.svg"
        assert f'<img src="/badge/{shop.badge_key}/{kind}.svg"' in page
        assert f'<label for="badge-{kind}">' in page
        assert f'id="badge-{kind}" readonly' in page and f"]({url})" in page
