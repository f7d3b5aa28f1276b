"""Recompute the hourly and daily rollups from the stored ticks."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from checks.figures import rollups


class Command(BaseCommand):
    help = (
        "Recompute rollups from the ticks, from a UTC day on (by default the first day whose "
        "ticks retention has not pruned). Tick writes wait while it runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", help="the first UTC day to recompute, YYYY-MM-DD")
        parser.add_argument("--all", action="store_true", help="from the oldest stored tick on")

    def handle(self, *args, since=None, all=False, **options):
        if since and all:
            raise CommandError("give --since or --all, not both")
        if all:
            with connection.cursor() as cursor:
                cursor.execute("SELECT min(scheduled_at) FROM checks_tick")
                (start,) = cursor.fetchone()
            if start is None:
                self.stdout.write("no ticks: nothing to rebuild")
                return
        elif since:
            try:
                start = datetime.strptime(since, "%Y-%m-%d").replace(tzinfo=UTC)
            except ValueError:
                raise CommandError(f"--since must be a date like 2026-01-31, not {since!r}") from None
        else:
            # Retention deletes ticks older than its cutoff; the day after the cutoff's day
            # is the first one whose ticks are all still there.
            start = timezone.now() - timedelta(days=settings.TICK_RETENTION_DAYS - 1)
        done = rollups.rebuild(start)
        self.stdout.write(
            f"rebuilt rollups from {done['since']:%Y-%m-%d}: {done['hourly']} hourly, {done['daily']} daily rows"
        )
