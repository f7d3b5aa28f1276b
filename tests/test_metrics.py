"""Prometheus metrics: what an operator alerts on, read from the real database and broker."""

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from checks.beat.lease import Lease
from checks.outcomes.watchdog import GRACE_SECONDS, watch
from checks.state.transitions import change_status
from tests.factories import make_monitor, make_tick


def scrape(client, **headers) -> dict:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_report_monitors_incidents_checks_queues_and_beat(client, alice, broker):
    down = make_monitor(alice, "https://down.example/", name="down")
    change_status(down, "down", datetime.now(UTC), "unexpected status 500", ["india"])
    down.save()
    up = make_monitor(alice, "https://up.example/", name="up", regions=("usa",))
    make_tick(up, "usa", up.checking_since + timedelta(seconds=1), late=timedelta(seconds=2))
    watch(up.checking_since + timedelta(seconds=60 + GRACE_SECONDS + 1))  # india never checked `down`
    Lease(broker, ttl_seconds=10).hold()
    broker.lpush("india", b"{}")

    samples = scrape(client)
    assert samples[("uptime_monitors", (("status", "down"),))] == 1
    assert samples[("uptime_monitors", (("status", "pending"),))] == 1
    assert samples[("uptime_open_incidents", ())] == 1
    assert samples[("uptime_late_monitors", (("region", "india"),))] == 1
    assert samples[("uptime_late_monitors", (("region", "usa"),))] == 0
    assert samples[("uptime_recent_checks", (("region", "usa"), ("status", "up")))] == 1
    assert samples[("uptime_recent_check_lateness_p95_seconds", (("region", "usa"), ("status", "up")))] == 2.0
    assert samples[("uptime_broker_up", ())] == 1
    assert samples[("uptime_beat_active", ())] == 1
    assert samples[("uptime_outcomes_waiting", ())] == 0
    assert samples[("uptime_outcome_writers", ())] == 0
    assert samples[("uptime_queue_depth", (("region", "india"),))] == 1
    assert samples[("uptime_workers", (("region", "india"),))] == 0


@pytest.mark.django_db
def test_metrics_token_when_set(client, settings, broker):
    settings.METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert scrape(client, HTTP_AUTHORIZATION="Bearer s3cret")[("uptime_broker_up", ())] == 1
