"""Every model change has its migration (as a CI gate, against the real database)."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from checks.models import Tick
from checks.outcomes import partitions
from monitors.models import Region
from tests.factories import make_monitor, make_tick


def test_no_model_change_lacks_a_migration(db):
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def _tick_at_0007(monitor, region: str, scheduled_at: datetime) -> Tick:
    return Tick.objects.create(
        monitor=monitor,
        region=Region.objects.get(slug=region),
        status="up",
        status_code=200,
        response_time_ms=100,
        scheduled_at=scheduled_at,
        checked_at=scheduled_at,
    )


def test_partitioning_the_ticks_keeps_every_tick_and_the_id_sequence(alice):
    executor = MigrationExecutor(connection)
    executor.migrate([("checks", "0007_build_rollups")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'checks_tick'")
        assert cursor.fetchone() == ("r",)  # the plain table of before
    monitor = make_monitor(alice, "https://site.example/", regions=("india", "usa"))
    now = datetime.now(UTC).replace(microsecond=0)
    slots = [now - timedelta(days=n, minutes=n) for n in (0, 1, 5, 89, 400)] + [now + timedelta(days=30)]
    # Ticks alone: today's rollup counting writes tables 0007 does not have yet.
    before = {_tick_at_0007(monitor, "india", slot).pk: slot for slot in slots}
    _tick_at_0007(monitor, "usa", now)

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert dict(Tick.objects.filter(region__slug="india").values_list("pk", "scheduled_at")) == before
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'checks_tick'")
        assert cursor.fetchone() == ("p",)
        days = partitions.day_partitions(cursor)
    assert {now.date() - timedelta(days=n) for n in (0, 1, 5)} <= set(days)
    assert now.date() + timedelta(days=partitions.DAYS_AHEAD) in days
    newer = make_tick(monitor, "india", now + timedelta(minutes=1))
    assert newer.pk > max(before) + 1
    # The slot rule is there, on the partitioned table.
    with pytest.raises(IntegrityError), transaction.atomic():
        make_tick(monitor, "india", now - timedelta(days=89, minutes=89))
