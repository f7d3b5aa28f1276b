"""Sending checks outside beat's schedule: a new or resumed monitor, and "check now"."""

from datetime import datetime
from functools import partial

from django.db import transaction


def dispatch_checks(monitor, scheduled_at: datetime) -> list[str]:
    """Queue one check per region of the monitor for the slot `scheduled_at`.

    Sent only once the surrounding transaction commits, so a worker never looks for a
    monitor that is not there yet, and a rolled-back change sends nothing.
    """
    from checks.tasks import run_check

    slugs = list(monitor.regions.values_list("slug", flat=True))
    for slug in slugs:
        transaction.on_commit(
            partial(
                run_check.apply_async,
                kwargs={"monitor_id": monitor.pk, "region": slug, "scheduled_at": scheduled_at.isoformat()},
                queue=slug,
                routing_key=slug,
                exchange=slug,
                expires=monitor.interval_seconds,
            )
        )
    return slugs
