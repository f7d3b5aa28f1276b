"""The watchdog: slots no check covered are recorded as gaps and flag the monitor, in the
API, the admin and the health report; checks coming back close the gap."""

import math
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from checks.models import Gap
from checks.outcomes.watchdog import GRACE_SECONDS, watch
from monitors.models import Monitor
from monitors.services import pause_monitor, resume_monitor
from tests.factories import make_monitor, make_tick
from tests.test_admin import admin_client  # noqa: F401  (fixture)

INTERVAL = 60


@pytest.fixture
def monitor(alice):
    return make_monitor(
        alice, "https://shop.example/", regions=("india", "usa"), interval_seconds=INTERVAL, name="shop"
    )


def tick(monitor, region, at):
    make_tick(monitor, region, at)


def every_slot(monitor, region, start, count):
    for n in range(count):
        tick(monitor, region, start + timedelta(seconds=n * INTERVAL))


def test_checks_arriving_on_time_leave_no_gap(monitor):
    start = monitor.checking_since
    for region in ("india", "usa"):
        every_slot(monitor, region, start, 10)
    # Just before the slot after the last one is over.
    assert watch(start + timedelta(seconds=10 * INTERVAL + GRACE_SECONDS - 1))["opened"] == 0
    assert not Gap.objects.exists()


def test_a_region_that_never_checked_is_late_after_one_interval(monitor, alice_client, anon_client):
    start = monitor.checking_since
    every_slot(monitor, "india", start, 3)
    assert watch(start + timedelta(seconds=INTERVAL + GRACE_SECONDS - 1))["opened"] == 0
    watch(start + timedelta(seconds=3 * INTERVAL + GRACE_SECONDS + 1))
    gap = Gap.objects.get()
    assert (gap.region.slug, gap.starts_at, gap.slots_missed, gap.ends_at) == ("usa", start, 3, None)

    body = alice_client.get(f"/api/monitors/{monitor.pk}/").json()
    assert body["late_regions"] == ["usa"]
    gaps = alice_client.get(f"/api/monitors/{monitor.pk}/gaps/").json()["results"]
    assert [(g["region"], g["slots_missed"], g["is_open"]) for g in gaps] == [("usa", 3, True)]
    uptime = alice_client.get(f"/api/monitors/{monitor.pk}/uptime/", {"window": "24h"}).json()
    assert uptime["missed_slots"] == 3
    assert uptime["regions"]["usa"]["missed_slots"] == 3 and uptime["regions"]["india"]["missed_slots"] == 0
    health = anon_client.get("/api/health/").json()
    assert health["regions"]["usa"]["late_monitors"] == 1
    assert health["regions"]["india"]["late_monitors"] == 0


def test_checks_that_stop_open_a_gap_that_grows_then_closes_when_they_return(monitor):
    start = monitor.checking_since
    every_slot(monitor, "india", start, 3)
    every_slot(monitor, "usa", start, 10)
    last_india = start + timedelta(seconds=2 * INTERVAL)
    watch(last_india + timedelta(seconds=2 * INTERVAL + GRACE_SECONDS + 1))
    gap = Gap.objects.get(region__slug="india")
    assert (gap.starts_at, gap.slots_missed) == (last_india + timedelta(seconds=INTERVAL), 1)
    watch(last_india + timedelta(seconds=5 * INTERVAL + GRACE_SECONDS + 1))
    gap.refresh_from_db()
    assert gap.slots_missed == 4
    assert Monitor.objects.get(pk=monitor.pk).late_regions == ["india"]

    # Beat comes back with a new phase: the first new slot is 6.5 intervals after the last.
    back = last_india + timedelta(seconds=6.5 * INTERVAL)
    tick(monitor, "india", back)
    result = watch(back + timedelta(seconds=5))
    assert result["closed"] == 1
    gap.refresh_from_db()
    assert gap.ends_at == back
    assert gap.slots_missed == 6  # slots at +1 .. +6 intervals went unchecked
    assert Monitor.objects.get(pk=monitor.pk).late_regions == []
    assert not Gap.objects.filter(ends_at__isnull=True).exists()


def test_pausing_closes_gaps_and_expects_nothing_until_resumed(monitor):
    start = monitor.checking_since
    watch(start + timedelta(seconds=2 * INTERVAL + GRACE_SECONDS + 1))
    assert Gap.objects.filter(ends_at__isnull=True).count() == 2
    pause_monitor(monitor)
    watch(start + timedelta(seconds=3 * INTERVAL + GRACE_SECONDS + 1))
    assert not Gap.objects.filter(ends_at__isnull=True).exists()
    assert Monitor.objects.get(pk=monitor.pk).late_regions == []

    # Resumed much later: slots before the resume are not expected.
    monitor.refresh_from_db()
    resume_monitor(monitor)
    monitor.refresh_from_db()
    assert watch(monitor.checking_since + timedelta(seconds=GRACE_SECONDS))["opened"] == 0


def test_a_watchdog_run_twice_records_each_gap_once(monitor):
    at = monitor.checking_since + timedelta(seconds=2 * INTERVAL + GRACE_SECONDS + 1)
    watch(at)
    watch(at)
    assert Gap.objects.count() == 2


def test_admin_filters_late_monitors_and_lists_gaps(admin_client, monitor, alice):  # noqa: F811
    on_time = make_monitor(alice, "https://blog.example/", name="blog")
    every_slot(on_time, "india", on_time.checking_since, 5)
    watch(monitor.checking_since + timedelta(seconds=2 * INTERVAL + GRACE_SECONDS + 1))
    page = admin_client.get(reverse("admin:monitors_monitor_changelist"), {"checks": "late"}).content.decode()
    assert "shop.example" in page and "blog.example" not in page
    assert "india, usa" in page
    gaps = admin_client.get(reverse("admin:checks_gap_changelist")).content.decode()
    assert gaps.count(">shop<") == 2  # one gap per region


def test_a_missed_slot_between_two_ticks_is_recorded_once_though_no_run_saw_it_open(monitor, alice_client):
    start = monitor.checking_since
    every_slot(monitor, "usa", start, 6)
    # India's third slot was never checked (say its check died with a broker restart); the
    # fourth came on time, before any watchdog run could see the third overdue.
    for n in (0, 1, 3, 4, 5):
        tick(monitor, "india", start + timedelta(seconds=n * INTERVAL))
    at = start + timedelta(seconds=5 * INTERVAL + 5)
    assert watch(at)["holes"] == 1
    watch(at + timedelta(seconds=30))

    gap = Gap.objects.get()
    assert (gap.region.slug, gap.slots_missed) == ("india", 1)
    assert gap.starts_at == start + timedelta(seconds=2 * INTERVAL)
    assert gap.ends_at == start + timedelta(seconds=3 * INTERVAL)
    assert Monitor.objects.get(pk=monitor.pk).late_regions == []
    uptime = alice_client.get(f"/api/monitors/{monitor.pk}/uptime/", {"window": "24h"}).json()
    assert uptime["regions"]["india"]["missed_slots"] == 1


def test_a_late_slot_is_not_a_missed_one(monitor):
    start = monitor.checking_since
    # Beat sent one slot 0.4 intervals late; the ones after it moved along with it.
    for offset in (0, 1, 2.4, 3.4, 4.4):
        tick(monitor, "india", start + timedelta(seconds=offset * INTERVAL))
        tick(monitor, "usa", start + timedelta(seconds=offset * INTERVAL))
    assert watch(start + timedelta(seconds=4.4 * INTERVAL + 5))["holes"] == 0
    assert not Gap.objects.exists()


def test_a_hole_longer_than_the_look_back_is_recorded_when_no_run_saw_it_open(monitor):
    # The database was away for 20 intervals, so no watchdog ran while the slots went missing.
    start = monitor.checking_since
    every_slot(monitor, "usa", start, 24)
    for n in (0, 1, 21, 22, 23):
        tick(monitor, "india", start + timedelta(seconds=n * INTERVAL))
    assert watch(start + timedelta(seconds=23 * INTERVAL + 5))["holes"] == 1
    gap = Gap.objects.get()
    assert (gap.region.slug, gap.slots_missed, gap.ends_at) == ("india", 19, start + timedelta(seconds=21 * INTERVAL))


def test_many_gaps_open_and_close_in_one_run_with_a_few_queries(alice):
    # A region's workers were away for every monitor at once, then came back.
    monitors = [
        make_monitor(alice, f"https://site{n}.example/", regions=("india", "usa"), name=f"site {n}") for n in range(25)
    ]
    pairs = [(m, region) for m in monitors for region in ("india", "usa")]
    latest_since = max(m.checking_since for m in monitors)
    with CaptureQueriesContext(connection) as opening:
        result = watch(latest_since + timedelta(seconds=2 * INTERVAL + GRACE_SECONDS + 1))
    assert result["opened"] == 50 and len(opening) < 15
    opened = {(g.monitor_id, g.region.slug): g for g in Gap.objects.select_related("region")}

    # Each pair's checks came back at its own phase and kept coming, so the first check
    # after a gap is not always the latest.
    first_back = {
        (m.pk, region): m.checking_since + timedelta(seconds=(3 + n % 4 * 0.5) * INTERVAL)
        for n, (m, region) in enumerate(pairs)
    }
    now = max(first_back.values()) + timedelta(seconds=5)
    for m, region in pairs:
        slot = first_back[m.pk, region]
        while slot < now:
            tick(m, region, slot)
            slot += timedelta(seconds=INTERVAL)
    with CaptureQueriesContext(connection) as closing:
        result = watch(now)
    assert (result["opened"], result["closed"], result["late"]) == (0, 50, 0)
    assert len(closing) < 15

    for (monitor_id, region), gap in opened.items():
        closed = Gap.objects.get(pk=gap.pk)
        ends_at = first_back[monitor_id, region]
        slots = max(gap.slots_missed, math.ceil((ends_at - gap.starts_at).total_seconds() / INTERVAL))
        assert (closed.ends_at, closed.slots_missed) == (ends_at, slots)
    assert not Monitor.objects.exclude(late_regions=[]).exists()
