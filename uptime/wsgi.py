"""WSGI entry point (gunicorn uptime.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uptime.settings")
application = get_wsgi_application()

# What is loaded now (Django, the apps, the URL map) lives as long as the process: keep the
# collector from walking it on every full collection, a pause in whichever page is drawing
# (the dashboard makes enough objects to trigger one every few requests; docs/benchmarks.md,
# "Web pages: server time"). As the workers and beat do.
gc.freeze()
