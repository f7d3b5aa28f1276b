"""Prometheus metrics, read from the database and Redis at scrape time.

Beat and the workers are many processes on many machines; what they did is in the tick
table and in Redis already, so the web process reports it rather than each process
keeping counters of its own.
"""

import time
from collections.abc import Iterator
from datetime import timedelta

import redis
from django.db.models import Count, F
from django.db.models.functions import Extract
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from checks.beat.lease import lease_status
from checks.figures.health import late_monitors_by_region, outcome_report, region_report
from checks.figures.stats import Percentile
from checks.models import Incident, Tick
from monitors.models import Monitor, Region
from uptime.redis_clients import redis_client

# Recent checks are those whose slot is at most this old.
RECENT = timedelta(minutes=5)


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
        for slug, report in regions.items():
            depth.add_metric([slug], report["queue_depth"])
            workers.add_metric([slug], report["workers"])
        yield depth
        yield workers


def render() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(UptimeCollector())
    return generate_latest(registry)
