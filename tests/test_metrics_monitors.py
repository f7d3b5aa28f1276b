"""Per-monitor series on /metrics: what a Grafana panel of one monitor reads, their bound,
and what they must never show (a monitor's URL)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from prometheus_client.parser import text_string_to_metric_families

from monitors.models import Monitor
from tests.factories import make_monitor, make_tick

PER_MONITOR = (
    "uptime_monitor_status",
    "uptime_monitor_up",
    "uptime_monitor_uptime_ratio",
    "uptime_monitor_tls_expiry_seconds",
    "uptime_monitor_response_time_ms",
)


def scrape_text(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    return response.content.decode()


def samples_of(text: str) -> dict:
    """{metric name: {labels as a sorted tuple: value}}."""
    found: dict = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def of_monitor(samples: dict, monitor: Monitor) -> dict:
    """The monitor's series: {metric name: value}, or {region: value} for the per-region one."""
    mine: dict = {}
    for name in PER_MONITOR:
        for labels, value in samples.get(name, {}).items():
            labels = dict(labels)
            if labels["monitor"] == str(monitor.pk):
                assert labels["name"] == monitor.name
                if "region" in labels:
                    mine.setdefault(name, {})[labels["region"]] = value
                else:
                    mine[name] = value
    return mine


def set_status(monitor: Monitor, status: str, **fields) -> Monitor:
    Monitor.objects.filter(pk=monitor.pk).update(status=status, **fields)
    monitor.refresh_from_db()
    return monitor


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def test_up_down_and_paused_monitors_each_get_their_series(client, alice, broker, now):
    up = make_monitor(alice, "https://up.example/", name="up", regions=("india", "usa"))
    set_status(up, "up", tls_expires_at=now + timedelta(days=10))
    make_tick(up, "india", now - timedelta(minutes=3), response_time_ms=120)
    make_tick(up, "india", now - timedelta(minutes=2), response_time_ms=150)
    make_tick(up, "usa", now - timedelta(minutes=2), response_time_ms=80)

    down = make_monitor(alice, "https://down.example/", name="down", regions=("india", "usa"))
    set_status(down, "down")
    for minutes in (5, 4, 3):
        make_tick(down, "india", now - timedelta(minutes=minutes), response_time_ms=200)
    make_tick(down, "india", now - timedelta(minutes=2), status="down", response_time_ms=None)
    # usa's only success is too old to chart as the response time now.
    make_tick(down, "usa", now - timedelta(minutes=90), response_time_ms=300)

    paused = make_monitor(alice, "https://paused.example/", name="paused")
    make_tick(paused, "india", now - timedelta(minutes=2))
    set_status(paused, "paused", is_active=False, tls_expires_at=now + timedelta(days=10))

    samples = samples_of(scrape_text(client))
    mine = of_monitor(samples, up)
    assert mine.pop("uptime_monitor_tls_expiry_seconds") == pytest.approx(10 * 86400, abs=60)
    assert mine == {
        "uptime_monitor_status": 1,
        "uptime_monitor_up": 1,
        "uptime_monitor_uptime_ratio": 1.0,
        "uptime_monitor_response_time_ms": {"india": 150, "usa": 80},
    }
    assert of_monitor(samples, down) == {
        "uptime_monitor_status": 0,
        "uptime_monitor_up": 0,
        "uptime_monitor_uptime_ratio": 0.8,  # 4 of 5 checks up
        "uptime_monitor_response_time_ms": {"india": 200},
    }
    assert of_monitor(samples, paused) == {"uptime_monitor_status": 5}
    assert samples["uptime_monitor_series_truncated"] == {(): 0}


def test_every_status_has_its_number_and_only_verdicts_are_up_or_down(client, alice, broker, now):
    numbers = {"down": 0, "up": 1, "pending": 2, "maintenance": 3, "degraded": 4, "paused": 5, "unreachable": 6}
    assert set(numbers) == set(Monitor.Status.values)
    monitors = {status: make_monitor(alice, f"https://{status}.example/", name=status) for status in numbers}
    for status, monitor in monitors.items():
        set_status(monitor, status)

    samples = samples_of(scrape_text(client))
    for status, monitor in monitors.items():
        mine = of_monitor(samples, monitor)
        assert mine["uptime_monitor_status"] == numbers[status], status
        # Degraded pages nobody: fewer regions than the quorum see the site down.
        up = {"up": 1, "degraded": 1, "down": 0, "unreachable": 0}
        assert mine.get("uptime_monitor_up") == up.get(status), status
        # No checks in the window: the ratio is unknown, not 0 or 1.
        assert "uptime_monitor_uptime_ratio" not in mine


def test_a_name_with_quotes_and_a_newline_is_escaped(client, alice, broker):
    name = 'Shop "EU"\nC:\\checkout'
    monitor = make_monitor(alice, "https://shop.example/", name="shop")
    set_status(monitor, "up", name=name)

    text = scrape_text(client)
    assert f'uptime_monitor_status{{monitor="{monitor.pk}",name="Shop \\"EU\\"\\nC:\\\\checkout"}} 1\n' in text
    assert of_monitor(samples_of(text), monitor)["uptime_monitor_status"] == 1


def test_no_monitor_url_appears(client, alice, broker, now):
    monitor = make_monitor(alice, "https://secret.example/health?token=hunter2", name="api")
    set_status(monitor, "up")
    make_tick(monitor, "india", now - timedelta(minutes=1))

    text = scrape_text(client)
    assert of_monitor(samples_of(text), monitor)["uptime_monitor_response_time_ms"] == {"india": 100}
    assert "secret.example" not in text
    assert "hunter2" not in text


def test_none_leaves_every_per_monitor_series_out(client, alice, broker, settings):
    settings.METRICS_MONITORS = 0
    set_status(make_monitor(alice, "https://a.example/", name="a"), "up")

    text = scrape_text(client)
    assert "uptime_monitor_" not in text
    assert samples_of(text)["uptime_monitors"][(("status", "up"),)] == 1


def test_a_number_keeps_the_worst_monitors_and_says_some_were_left_out(client, alice, broker, settings):
    monitors = [make_monitor(alice, f"https://{n}.example/", name=f"m{n}") for n in range(4)]
    for monitor, status in zip(monitors, ("up", "down", "paused", "up"), strict=True):
        set_status(monitor, status)

    settings.METRICS_MONITORS = 2
    samples = samples_of(scrape_text(client))
    # Down first, then paused (worse than up); among equals the lower id.
    assert {dict(labels)["monitor"] for labels in samples["uptime_monitor_status"]} == {
        str(monitors[1].pk),
        str(monitors[2].pk),
    }
    assert samples["uptime_monitor_series_truncated"] == {(): 1}

    settings.METRICS_MONITORS = 4
    samples = samples_of(scrape_text(client))
    assert len(samples["uptime_monitor_status"]) == 4
    assert samples["uptime_monitor_series_truncated"] == {(): 0}


@pytest.mark.parametrize("limit", [None, 3])
def test_the_series_take_the_same_queries_for_any_number_of_monitors(
    client, alice, bob, broker, settings, now, django_assert_num_queries, limit
):
    settings.METRICS_MONITORS = 0
    with CaptureQueriesContext(connection) as without:
        scrape_text(client)
    settings.METRICS_MONITORS = limit

    for n in range(6):
        monitor = make_monitor(alice if n % 2 else bob, f"https://{n}.example/", name=f"m{n}", regions=("india", "usa"))
        set_status(monitor, ("up", "down", "degraded")[n % 3], tls_expires_at=now + timedelta(days=n + 1))
        for region in ("india", "usa"):
            make_tick(monitor, region, now - timedelta(minutes=1), response_time_ms=100 + n)
    # The monitors, their 24-hour counts, their regions' latest response times.
    with django_assert_num_queries(len(without) + 3):
        samples = samples_of(scrape_text(client))
    assert len(samples["uptime_monitor_response_time_ms"]) == 2 * (limit or 6)
