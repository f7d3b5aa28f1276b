"""The Celery app: configured from Django settings (the CELERY_ names), tasks found per app."""

import os
import sys

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uptime.settings")

WORKER_SWITCH_INTERVAL_SECONDS = 0.0005

app = Celery("uptime")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _install_worker_heartbeat() -> None:
    # Imported late: the step needs Django's settings, which are not ready at import time.
    from checks.heartbeat import HeartbeatStep
    from checks.warm_start import DirectoryStep
    from checks.writer import OutcomeWriterStep

    # Heartbeats, and handing back the checks of workers that died (checks/reclaim.py).
    app.steps["worker"].add(HeartbeatStep)
    # Writing the checks' outcomes from the spool to PostgreSQL (checks/writer.py).
    app.steps["worker"].add(OutcomeWriterStep)
    # Reading the monitors of the worker's regions as it starts (checks/directory.py).
    app.steps["worker"].add(DirectoryStep)


_install_worker_heartbeat()


@worker_init.connect
def _switch_threads_often(**kwargs):
    # A worker's event loop (the consumer taking checks off the queue) makes a few Redis
    # round trips per check, and after each one waits for the GIL. With dozens of check
    # threads runnable it waits out Python's default switch interval (5 ms) almost every
    # time, which capped a worker at ~55 checks a second while its threads sat idle
    # (docs/benchmarks.md, "End to end"). 0.5 ms hands the GIL over sooner.
    sys.setswitchinterval(WORKER_SWITCH_INTERVAL_SECONDS)
