# One image for every Uptime process (web, beat, region and housekeeping workers); the
# compose file chooses the command. Production settings: DEBUG off, secrets from the environment.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=uptime.settings

WORKDIR /app

# The processes run as this user and cannot change the code they run (it stays root's).
RUN groupadd --system --gid 10001 uptime \
    && useradd --system --uid 10001 --gid uptime --no-create-home --home-dir /app --shell /usr/sbin/nologin uptime

# Requirements first, so a code change does not reinstall them. Runtime ones only.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Settings refuse to load without secrets when DEBUG is off; these throwaway values exist
# only for this step and are not kept in the image.
RUN SECRET_KEY=build-only-not-secret JWT_SIGNING_KEY=build-only-not-secret \
    python manage.py collectstatic --no-input -v 0

USER uptime
EXPOSE 8000
CMD ["gunicorn", "uptime.wsgi:application", "--bind=0.0.0.0:8000", "--access-logfile=-"]
