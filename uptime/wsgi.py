"""WSGI entry point (gunicorn uptime.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uptime.settings")
application = get_wsgi_application()
