"""Our own connectivity: a region that cannot reach its canaries is impaired, and its failed
checks are its network's, not the sites'. Driven by real checks of real local servers, the
canaries and the sites failing together (a closed port for both)."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from checks import tasks
from checks.models import Incident, RegionImpairment, StatusChange, Tick
from checks.worker import canaries
from checks.worker.canaries import ROUNDS_KEY, run_round, watch_canaries
from notifications.models import Channel, Delivery
from tests.factories import make_monitor, personal
from tests.test_incidents import check, point_at
from uptime.redis_clients import shared_client


def forget_rounds():
    """Rounds live in Redis and in the process, and one is reused for 5 s: a test that
    changes the network forgets the rounds of the network before."""
    shared_client().delete(ROUNDS_KEY)
    canaries.rounds.__init__()


@pytest.fixture(autouse=True)
def no_rounds_before_or_after():
    # None may leak from or into other tests: the writer reads them with every batch.
    forget_rounds()
    yield
    forget_rounds()


@pytest.fixture
def canary_server(target):
    """The canaries: paths on a real local server (any answer, even a 404, is reached)."""
    return [target.url("/canary/1"), target.url("/canary/2"), target.url("/canary/3")]


@pytest.fixture
def operator_channel(alice, settings, receiver):
    channel = Channel.objects.create(
        organization=personal(alice), name="operator", kind="webhook", url=receiver.url("/operator")
    )
    settings.OPERATOR_CHANNEL_ID = channel.pk
    return channel


def unreachable(closed_port: int, count: int = 3) -> list[str]:
    return [f"http://127.0.0.1:{closed_port}/canary/{n}" for n in range(count)]


def lose_network(settings, closed_port, *monitors, region=None):
    """The region's network goes: its canaries and the sites both fail to connect."""
    if region is None:
        settings.CANARY_TARGETS = unreachable(closed_port)
    else:
        settings.CANARY_TARGETS_BY_REGION = {region: unreachable(closed_port)}
    for monitor in monitors:
        point_at(monitor, f"http://127.0.0.1:{closed_port}/site")
    forget_rounds()


def test_failures_while_the_region_cannot_reach_its_canaries_are_not_ticks_and_move_nothing(
    alice, target, slot, settings, closed_port, operator_channel, canary_server
):
    settings.CANARY_TARGETS = canary_server
    monitor = make_monitor(alice, target.url("/ok"))
    assert check(monitor, "india", slot) == "up"
    lose_network(settings, closed_port, monitor)

    assert check(monitor, "india", slot, 60) == "up"
    assert check(monitor, "india", slot, 120) == "up"

    assert list(Tick.objects.filter(monitor=monitor).values_list("scheduled_at", flat=True)) == [slot]
    assert not Incident.objects.exists()
    assert not StatusChange.objects.filter(monitor=monitor, to_status="down").exists()
    impairment = RegionImpairment.objects.get()
    assert (impairment.region.slug, impairment.ended_at) == ("india", None)
    assert impairment.detail.startswith("3 of 3 canaries unreachable: 127.0.0.1:")
    told = Delivery.objects.get(channel=operator_channel)
    assert told.event == "region.impaired"
    assert told.payload["title"] == "Region india is impaired: its checks' failures are not counted"
    assert told.payload["context"]["canaries_reached"] == 0


def test_when_the_canaries_answer_again_the_impairment_ends_and_failures_count(
    alice, target, slot, settings, closed_port, operator_channel, canary_server
):
    monitor = make_monitor(alice, target.url("/ok"))
    assert check(monitor, "india", slot) == "up"
    lose_network(settings, closed_port, monitor)
    assert check(monitor, "india", slot, 60) == "up"

    # The network is back; the site is really down.
    settings.CANARY_TARGETS = canary_server
    forget_rounds()
    point_at(monitor, target.url("/status/503"))
    assert check(monitor, "india", slot, 120) == "down"

    impairment = RegionImpairment.objects.get()
    assert impairment.ended_at is not None and impairment.ended_at > impairment.started_at
    assert Incident.objects.get(monitor=monitor).first_error == "unexpected status 503"
    events = list(Delivery.objects.filter(channel=operator_channel).order_by("id").values_list("event", flat=True))
    assert events == ["region.impaired", "region.recovered"]


def test_a_failure_is_the_sites_while_the_region_reaches_its_canaries(alice, target, slot, settings, canary_server):
    settings.CANARY_TARGETS = canary_server
    monitor = make_monitor(alice, target.url("/ok"))
    assert check(monitor, "india", slot) == "up"
    point_at(monitor, target.url("/status/500"))
    assert check(monitor, "india", slot, 60) == "down"
    assert Incident.objects.filter(monitor=monitor).count() == 1
    assert not RegionImpairment.objects.exists()
    assert target.hits["/canary/1"] == 1  # asked once, for the failure; not for the success


def test_one_canary_of_three_unreachable_is_no_impairment(alice, target, slot, settings, closed_port, canary_server):
    settings.CANARY_TARGETS = [*canary_server[:2], *unreachable(closed_port, 1)]
    monitor = make_monitor(alice, target.url("/status/500"))
    assert check(monitor, "india", slot) == "down"
    assert not RegionImpairment.objects.exists()


def test_a_monitor_in_two_regions_is_judged_by_the_one_that_can_see(
    alice, target, slot, settings, closed_port, canary_server
):
    settings.CANARY_TARGETS = canary_server
    monitor = make_monitor(alice, target.url("/ok"), regions=("india", "usa"))
    assert check(monitor, "india", slot) == "up"
    assert check(monitor, "usa", slot) == "up"
    # India loses its network while the site goes down for everyone.
    lose_network(settings, closed_port, monitor, region="india")
    assert check(monitor, "india", slot, 60) == "up"
    point_at(monitor, target.url("/status/503"))
    # Without india's say, usa alone is the majority of the regions that can see.
    assert check(monitor, "usa", slot, 60) == "down"
    assert Incident.objects.get(monitor=monitor).regions == ["usa"]


def test_checks_failing_together_share_one_round(alice, target, slot, settings, closed_port):
    settings.CANARY_TARGETS = [target.url("/canary/shared")]
    monitors = [make_monitor(alice, f"http://127.0.0.1:{closed_port}/", name=f"site {n}") for n in range(12)]
    tasks.run_checks.apply(
        kwargs={
            "region": "india",
            "slots": [[monitor.pk, (slot + timedelta(seconds=60)).isoformat()] for monitor in monitors],
        }
    )
    assert target.hits["/canary/shared"] == 1


def test_the_watchdogs_runs_record_impairments_without_any_check(settings, closed_port, canary_server, db, india):
    run_round("india", unreachable(closed_port))
    assert tasks.watch_for_gaps.apply().result["impaired_regions"] == ["india"]
    assert RegionImpairment.objects.get().ended_at is None

    run_round("india", canary_server)
    assert tasks.watch_for_gaps.apply().result["impaired_regions"] == []
    assert RegionImpairment.objects.get().ended_at is not None


def test_health_and_metrics_show_the_impaired_region(client, settings, closed_port, canary_server, db):
    run_round("india", unreachable(closed_port))
    run_round("usa", canary_server)

    report = client.get(reverse("health")).json()
    assert report["status"] == "degraded"
    india, usa = report["regions"]["india"], report["regions"]["usa"]
    assert (india["impaired"], india["canaries_reached"], india["canaries"]) == (True, 0, 3)
    assert india["canaries_checked_at"].endswith("Z")
    assert (usa["impaired"], usa["canaries_reached"], usa["canaries"]) == (False, 3, 3)
    assert "127.0.0.1" not in str(report)  # the targets are the operator's: counts only

    settings.METRICS_TOKEN = "scrape"
    metrics = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape").content.decode()
    assert 'uptime_region_impaired{region="india"} 1.0' in metrics
    assert 'uptime_region_impaired{region="usa"} 0.0' in metrics
    assert 'uptime_region_canaries_reached{region="usa"} 3.0' in metrics


def test_a_round_too_old_says_nothing_of_now(client, settings, closed_port, db):
    settings.CANARY_INTERVAL_SECONDS = 1
    run_round("india", unreachable(closed_port))
    time.sleep(3.2)  # over 3 intervals: no worker of the region runs rounds any more
    assert client.get(reverse("health")).json()["regions"]["india"]["impaired"] is False
    assert tasks.watch_for_gaps.apply().result["impaired_regions"] == []


def test_the_monitor_page_shows_its_region_impaired(alice, target, slot, settings, closed_port, canary_server, client):
    monitor = make_monitor(alice, target.url("/ok"))
    lose_network(settings, closed_port, monitor)
    check(monitor, "india", slot)
    client.force_login(alice)
    page = client.get(reverse("web:monitor", args=[monitor.pk])).content.decode()
    assert "India cannot reach its canaries since" in page
    assert "still impaired" in page


def test_a_workers_canary_thread_runs_its_regions_rounds(settings, canary_server, closed_port):
    settings.CANARY_TARGETS_BY_REGION = {"india": canary_server, "usa": unreachable(closed_port)}
    stopping = threading.Event()
    thread = threading.Thread(target=watch_canaries, args=(["india", "usa"], stopping), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while shared_client().hlen(ROUNDS_KEY) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stopping.set()
        thread.join(timeout=15)
    found = canaries.latest_rounds(shared_client())
    assert (found["india"].impaired, found["usa"].impaired) == (False, True)
    assert not thread.is_alive()


def test_a_check_that_failed_while_the_network_was_failing_is_the_regions_even_once_it_is_back(
    settings, closed_port, canary_server, db
):
    # The check began, the network went (a failing round), came back (a passing one), and
    # the check ended failed: its failure may be the network's.
    check_began = datetime.now(UTC)
    settings.CANARY_TARGETS = unreachable(closed_port)
    assert canaries.rounds.fresh("india", 0).impaired
    settings.CANARY_TARGETS = canary_server
    assert not canaries.rounds.fresh("india", 0).impaired
    assert "during the check" in canaries.impairment_of_failure("india", check_began)
    # A check begun after the network came back fails for the site's own reasons.
    assert canaries.impairment_of_failure("india", datetime.now(UTC)) == ""


def test_what_an_impaired_region_still_reaches_counts_as_up(alice, target, slot, settings, closed_port):
    # Most canaries are out of reach, this site is not: its answer is evidence all the same.
    settings.CANARY_TARGETS = unreachable(closed_port)
    run_round("india", unreachable(closed_port))
    monitor = make_monitor(alice, target.url("/ok"))
    assert check(monitor, "india", slot) == "up"
