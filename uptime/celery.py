"""The Celery app: configured from Django settings (the CELERY_ names), tasks found per app."""

import os

import click
from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uptime.settings")

app = Celery("uptime")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Like Celery's own --without-heartbeat: a worker that checks but leaves the writing of
# outcomes to other workers (checks/outcomes/writer.py, OutcomeWriterStep).
app.user_options["worker"].add(
    click.Option(
        ("--without-outcome-writer",),
        is_flag=True,
        default=False,
        help="Do not write checks' outcomes to PostgreSQL here; another worker must.",
    )
)


def _install_worker_steps() -> None:
    # Imported late: the step needs Django's settings, which are not ready at import time.
    from checks.outcomes.writer import OutcomeWriterStep
    from checks.worker.steps import CanaryStep, HeartbeatStep, MonitorCacheStep

    # Heartbeats, and handing back the checks of workers that died (checks/worker/reclaim.py).
    app.steps["worker"].add(HeartbeatStep)
    # Writing the checks' outcomes from the spool to PostgreSQL (checks/outcomes/writer.py).
    app.steps["worker"].add(OutcomeWriterStep)
    # Reading the monitors of the worker's regions as it starts (checks/worker/monitor_cache.py).
    app.steps["worker"].add(MonitorCacheStep)
    # Reaching for its regions' canaries, to tell their network's failures from the sites'
    # (checks/worker/canaries.py).
    app.steps["worker"].add(CanaryStep)


_install_worker_steps()
