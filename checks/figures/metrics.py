"""Prometheus metrics, read from the database and Redis at scrape time.

Beat and the workers are many processes on many machines; what they did is in the tick
table and in Redis already, so the web process reports it rather than each process
keeping counters of its own. Per-monitor series (at most METRICS_MONITORS monitors) let a
dashboard chart one monitor; they take three queries whatever the number of monitors.
"""

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Value
from django.db.models.functions import Extract
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from checks.beat.lease import lease_status
from checks.figures.health import late_monitors_by_region, outcome_report, region_report
from checks.figures.rollups import window_start
from checks.figures.stats import Percentile
from checks.models import HourlyRollup, Incident, Tick
from monitors.models import EpochSeconds, Monitor, Region
from notifications.dead_letter import dead_counts
from uptime.redis_clients import redis_client

# Recent checks are those whose slot is at most this old.
RECENT = timedelta(minutes=5)

# uptime_monitor_status: Uptime Kuma's numbers for the statuses it has too (0 down, 1 up,
# 2 pending, 3 maintenance), so dashboards made for it read ours; then our own three.
STATUS_NUMBERS = {
    Monitor.Status.DOWN: 0,
    Monitor.Status.UP: 1,
    Monitor.Status.PENDING: 2,
    Monitor.Status.MAINTENANCE: 3,
    Monitor.Status.DEGRADED: 4,
    Monitor.Status.PAUSED: 5,
    # Failing while a parent monitor is down: its parent's incident pages, not it.
    Monitor.Status.UNREACHABLE: 6,
}
# uptime_monitor_up: only a verdict of the regions' checks. Degraded is up: fewer regions
# than the quorum see it down, so it pages nobody.
UP_NUMBERS = {Monitor.Status.UP: 1, Monitor.Status.DEGRADED: 1, Monitor.Status.DOWN: 0, Monitor.Status.UNREACHABLE: 0}
# A region's response time is its latest successful check's within this long: an older one
# would chart a figure the site may no longer give.
RESPONSE_TIME_MAX_AGE = timedelta(hours=1)
MONITOR_HELP = {
    "uptime_monitor_status": "The monitor's status: 0 down, 1 up, 2 pending, 3 maintenance, 4 degraded, 5 paused,"
    " 6 unreachable (failing while a parent monitor is down).",
    "uptime_monitor_up": "1 up (degraded included), 0 down or unreachable; left out while pending, paused or in"
    " maintenance.",
    "uptime_monitor_uptime_ratio": "Up checks over checks (0 to 1) in this UTC hour and the 23 before, from the"
    " hourly rollups, maintenance left out; left out without checks.",
    "uptime_monitor_tls_expiry_seconds": "Seconds until the TLS certificate the latest checks saw expires"
    " (negative once expired).",
    "uptime_monitor_response_time_ms": "Response time of the region's latest successful check, if one came"
    " in the last hour.",
    "uptime_monitor_series_truncated": "1 when METRICS_MONITORS left monitors out of the per-monitor series.",
}


class UptimeCollector:
    def collect(self) -> Iterator[GaugeMetricFamily]:
        monitors = GaugeMetricFamily("uptime_monitors", "Monitors by status.", labels=["status"])
        by_status = dict(Monitor.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
        for status in Monitor.Status.values:
            monitors.add_metric([status], by_status.get(status, 0))
        yield monitors

        yield GaugeMetricFamily(
            "uptime_open_incidents",
            "Incidents open now.",
            value=Incident.objects.filter(resolved_at__isnull=True).count(),
        )

        slugs = list(Region.objects.values_list("slug", flat=True))
        late = late_monitors_by_region()
        late_family = GaugeMetricFamily(
            "uptime_late_monitors", "Monitors whose checks stopped arriving in the region.", labels=["region"]
        )
        for slug in slugs:
            late_family.add_metric([slug], late.get(slug, 0))
        yield late_family

        yield from self._recent_checks(slugs)
        yield from self._broker(slugs)
        yield self._dead_deliveries()

    def _dead_deliveries(self) -> GaugeMetricFamily:
        dead = GaugeMetricFamily(
            "uptime_dead_deliveries",
            "Alerts whose every attempt failed, not replayed yet, by channel audience (owner, subscriber).",
            labels=["audience"],
        )
        for audience, count in dead_counts().items():
            dead.add_metric([audience], count)
        return dead

    def _recent_checks(self, slugs: list[str]) -> Iterator[GaugeMetricFamily]:
        since = timezone.now() - RECENT
        rows = (
            Tick.objects.filter(scheduled_at__gte=since)
            .values("region__slug", "status")
            .annotate(
                n=Count("id"),
                lateness_p95=Percentile(Extract(F("checked_at") - F("scheduled_at"), "epoch"), 0.95),
            )
        )
        checks = GaugeMetricFamily(
            "uptime_recent_checks", "Checks of slots in the last 5 minutes.", labels=["region", "status"]
        )
        lateness = GaugeMetricFamily(
            "uptime_recent_check_lateness_p95_seconds",
            "95th percentile of (check start - slot) over the last 5 minutes.",
            labels=["region", "status"],
        )
        for row in rows:
            labels = [row["region__slug"], row["status"]]
            checks.add_metric(labels, row["n"])
            if row["lateness_p95"] is not None:
                lateness.add_metric(labels, row["lateness_p95"])
        yield checks
        yield lateness

    def _broker(self, slugs: list[str]) -> Iterator[GaugeMetricFamily]:
        client = redis_client()
        try:
            regions = region_report(client, slugs, time.time())
            beat = lease_status(client)
            outcomes = outcome_report(client)
        except redis.RedisError:
            yield GaugeMetricFamily("uptime_broker_up", "The broker answers.", value=0)
            return
        finally:
            client.close()
        yield GaugeMetricFamily("uptime_broker_up", "The broker answers.", value=1)
        yield GaugeMetricFamily("uptime_beat_active", "A beat holds the leader lease.", value=int(beat["active"]))
        yield GaugeMetricFamily(
            "uptime_outcomes_waiting",
            "Checks done whose results are not written to PostgreSQL yet.",
            value=outcomes["outcomes_waiting"],
        )
        yield GaugeMetricFamily(
            "uptime_outcome_writers",
            "Workers writing checks' outcomes to PostgreSQL, seen lately.",
            value=outcomes["outcome_writers"],
        )
        depth = GaugeMetricFamily(
            "uptime_queue_depth", "Messages (bundles of checks) waiting in the region's queue.", labels=["region"]
        )
        workers = GaugeMetricFamily("uptime_workers", "Workers alive in the region.", labels=["region"])
        impaired = GaugeMetricFamily(
            "uptime_region_impaired",
            "1 while the region cannot reach most of its canaries: its failed checks are not counted.",
            labels=["region"],
        )
        reached = GaugeMetricFamily(
            "uptime_region_canaries_reached", "Canaries the region's latest round reached.", labels=["region"]
        )
        for slug, report in regions.items():
            depth.add_metric([slug], report["queue_depth"])
            workers.add_metric([slug], report["workers"])
            impaired.add_metric([slug], int(report["impaired"]))
            if report["canaries_reached"] is not None:
                reached.add_metric([slug], report["canaries_reached"])
        yield depth
        yield workers
        yield impaired
        yield reached


# --- per monitor -----------------------------------------------------------------------

# Per (monitor, region), a backward walk of the tick_one_per_slot index (monitor, slot,
# region) to the newest up check, stopped at an hour's ticks: the cost grows with
# monitor-regions, never with the ticks stored. Table names are the models', not input.
_LATEST_UP_TIMES_SQL = f"""
SELECT pair.monitor_id, region.slug, tick.response_time_ms
FROM {Monitor.regions.through._meta.db_table} AS pair
JOIN {Region._meta.db_table} AS region ON region.id = pair.region_id
JOIN LATERAL (
    SELECT response_time_ms FROM {Tick._meta.db_table}
    WHERE monitor_id = pair.monitor_id AND region_id = pair.region_id AND scheduled_at >= %(since)s
        AND status = 'up' AND response_time_ms IS NOT NULL
    ORDER BY scheduled_at DESC
    LIMIT 1
) AS tick ON true
WHERE pair.monitor_id = ANY(%(ids)s::bigint[])
"""  # noqa: S608

# The hourly rollups of the "24h" window summed per monitor in one statement: one pass over
# the window's rows, of every monitor (paused ones are dropped after) or of the chosen ones.
# At 25,000 monitors in three regions that is 1.7 million rows and 0.5-0.7 s, over a third
# of the scrape (docs/benchmarks.md, "Metrics: a scrape with per-monitor series"). For 1,000
# chosen monitors, probing the unique index (monitor, hour, region) instead was slower than
# this pass, which reads every monitor's rows: 0.84 s per monitor, 0.74 s per monitor and
# hour as window_figures does, against 0.34 s.
_UPTIME_24H_SQL = f"""
SELECT monitor_id, sum(checks), sum(up)
FROM {HourlyRollup._meta.db_table}
WHERE hour >= %(since)s {{only_chosen}}
GROUP BY monitor_id
"""  # noqa: S608


def monitor_series(limit: int | None) -> str:
    """The per-monitor series, in the text format, of at most `limit` monitors (None: all;
    0: none), the worst status first, then by id; in three queries however many monitors.

    Written here rather than through prometheus_client's families: its exposition (a sample
    object, a label-name check and an escape per label, per sample) made a scrape of 5,000
    monitors take 558 ms instead of 139; each monitor's labels are escaped once here."""
    if limit == 0:
        return ""
    now = timezone.now()
    rows = Monitor.objects.listed(ordering="status").values_list(
        "id", "name", "status", EpochSeconds(F("tls_expires_at") - Value(now))
    )
    # One more than the limit tells whether some were left out, without counting them all.
    chosen = list(rows if limit is None else rows[: limit + 1])
    truncated = limit is not None and len(chosen) > limit
    if truncated:
        chosen = chosen[:limit]
    checked = [row[0] for row in chosen if row[2] != Monitor.Status.PAUSED]
    uptime = _uptime_24h(checked if truncated else None, now)
    times = _latest_up_times_ms(checked, now)

    status: list[str] = []
    up: list[str] = []
    ratio: list[str] = []
    tls: list[str] = []
    response: list[str] = []
    for monitor_id, name, monitor_status, tls_seconds in chosen:
        labels = f'monitor="{monitor_id}",name="{_escaped(name)}"'
        status.append(f"uptime_monitor_status{{{labels}}} {STATUS_NUMBERS[monitor_status]}")
        if monitor_status == Monitor.Status.PAUSED:
            continue
        if monitor_status in UP_NUMBERS:
            up.append(f"uptime_monitor_up{{{labels}}} {UP_NUMBERS[monitor_status]}")
        checks, up_checks = uptime.get(monitor_id, (0, 0))
        if checks:
            ratio.append(f"uptime_monitor_uptime_ratio{{{labels}}} {up_checks / checks!r}")
        if tls_seconds is not None:
            tls.append(f"uptime_monitor_tls_expiry_seconds{{{labels}}} {round(tls_seconds)}")
        for slug, response_time_ms in times.get(monitor_id, ()):
            response.append(f'uptime_monitor_response_time_ms{{{labels},region="{slug}"}} {response_time_ms}')
    families = [
        ("uptime_monitor_status", status),
        ("uptime_monitor_up", up),
        ("uptime_monitor_uptime_ratio", ratio),
        ("uptime_monitor_tls_expiry_seconds", tls),
        ("uptime_monitor_response_time_ms", response),
        ("uptime_monitor_series_truncated", [f"uptime_monitor_series_truncated {int(truncated)}"]),
    ]
    return "".join(
        f"# HELP {family} {MONITOR_HELP[family]}\n# TYPE {family} gauge\n" + "".join(line + "\n" for line in lines)
        for family, lines in families
    )


def _escaped(label_value: str) -> str:
    # The text format's escapes in a label value; most names need none, and the test is cheaper.
    if "\\" in label_value or '"' in label_value or "\n" in label_value:
        return label_value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return label_value


def _uptime_24h(monitor_ids: list[int] | None, now: datetime) -> dict[int, tuple[int, int]]:
    """(checks, up) per monitor over the "24h" window: of the monitors given, or of all."""
    params: dict[str, Any] = {"since": window_start("24h", now)}
    only_chosen = ""
    if monitor_ids is not None:
        params["ids"], only_chosen = monitor_ids, "AND monitor_id = ANY(%(ids)s::bigint[])"
    with connection.cursor() as cursor:
        cursor.execute(_UPTIME_24H_SQL.format(only_chosen=only_chosen), params)
        return {monitor_id: (int(checks), int(up)) for monitor_id, checks, up in cursor.fetchall()}


def _latest_up_times_ms(monitor_ids: list[int], now: datetime) -> dict[int, list[tuple[str, int]]]:
    """Per monitor, (region slug, response time) of each region's latest successful check."""
    found: dict[int, list[tuple[str, int]]] = {}
    if monitor_ids:
        with connection.cursor() as cursor:
            cursor.execute(_LATEST_UP_TIMES_SQL, {"since": now - RESPONSE_TIME_MAX_AGE, "ids": monitor_ids})
            for monitor_id, slug, response_time_ms in cursor.fetchall():
                found.setdefault(monitor_id, []).append((slug, response_time_ms))
    return found


def render() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(UptimeCollector())
    return generate_latest(registry) + monitor_series(settings.METRICS_MONITORS).encode()
