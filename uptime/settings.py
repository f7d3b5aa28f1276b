"""Django settings, read from the environment (README has the table of variables).

Development defaults are local and safe; production (DEBUG off) must set SECRET_KEY and
JWT_SIGNING_KEY itself, so no secret ever ships in the repository.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from uptime.environment import env_bool, env_int, env_list, env_secret, env_str, redis_database

BASE_DIR = Path(__file__).resolve().parent.parent


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY", "dev-only-insecure-secret-key-change-me", DEBUG)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Behind a reverse proxy that terminates TLS and sets X-Forwarded-Proto (and overwrites
# any a client sent), Django may trust it to know a request was HTTPS.
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_celery_beat",
    "drf_spectacular",
    # Swagger UI's assets, served from our own static files rather than a CDN.
    "drf_spectacular_sidecar",
    "accounts",
    "monitors",
    "checks",
    "notifications",
    "statuspages",
    "configfile",
    "audit",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "uptime.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the session: a status page on its own domain answers without one.
    "web.status_domains.StatusPageDomainMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.ActorMiddleware",
    "audit.recording.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "uptime.urls"
WSGI_APPLICATION = "uptime.wsgi.application"
ASGI_APPLICATION = "uptime.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The embedded local run listens on these ports by default, so `manage.py` commands in a
# second terminal reach the same servers without any variable set.
DATABASE_URL = env_str("DATABASE_URL", "postgresql://postgres@127.0.0.1:54329/uptime")
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:63799/0")

DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# The web pages sign in with Django's session login (web/accounts.py); the API takes JWTs.
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "web:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Requests carry small JSON documents; anything larger is refused before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("REQUEST_MAX_BYTES", 64 * 1024, minimum=1024)


# Throttle counters live here; a database of their own, so clearing the cache never
# touches the broker's queues.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env_str("CACHE_URL", redis_database(REDIS_URL, 1)),
        "KEY_PREFIX": "uptime",
        "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
    }
}

# Rates per client: "auth" per IP address (registration, tokens), "check_now" per user.
API_THROTTLE_RATES = {
    "auth": env_str("THROTTLE_AUTH_RATE", "20/min"),
    "check_now": env_str("THROTTLE_CHECK_NOW_RATE", "12/min"),
    "channel_test": env_str("THROTTLE_CHANNEL_TEST_RATE", "6/min"),
    # A status page's subscribe form, per visitor's address.
    "subscribe": env_str("THROTTLE_SUBSCRIBE_RATE", "10/hour"),
}
# Monitors an organization may have unless the admin sets its own; 0 means no limit.
MONITOR_QUOTA_PER_ORGANIZATION = env_int("MONITOR_QUOTA_PER_ORGANIZATION", 500, minimum=0)

REST_FRAMEWORK = {
    "DEFAULT_THROTTLE_CLASSES": ["uptime.throttling.ScopedThrottle"],
    # An API key (`Bearer upt_...`) first: any other bearer token is simplejwt's.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.ApiKeyAuthentication",
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.api.authentication.MemberRole",
    ],
    # JSON bodies only (a form or multipart body is a 415), nested at most 32 levels and
    # valid Unicode throughout; the OpenAPI document lists application/json alone.
    "DEFAULT_PARSER_CLASSES": ["uptime.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DATETIME_FORMAT": "iso-8601",
    # Reverse proxies in front of the web server: rate limits per client address take the
    # address that many hops back in X-Forwarded-For. 0 trusts no header (a client could
    # write any), and uses the connecting address.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0, minimum=0),
    "DEFAULT_SCHEMA_CLASS": "uptime.openapi.AutoSchema",
}

# The OpenAPI document at /api/schema/ and its browsable page at /api/docs/.
SPECTACULAR_SETTINGS = {
    "TITLE": "Uptime API",
    "DESCRIPTION": "Monitors, their checks (ticks) and uptime figures. Authenticate with a JWT from "
    "`POST /api/auth/token/`: `Authorization: Bearer <access>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The document and its page are public and read no token, so a stale one does not break them.
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    # Two models have a "status": a monitor's and a status page incident's.
    "ENUM_NAME_OVERRIDES": {"IncidentStatusEnum": "statuspages.models.PageIncident.Status"},
}

SIMPLE_JWT = {
    # Its own key: a leaked session secret must not mint API tokens, and rotating one
    # does not log everybody out of the other.
    "SIGNING_KEY": env_secret("JWT_SIGNING_KEY", "dev-only-insecure-jwt-signing-key", DEBUG),
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 10, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7, minimum=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    # Tokens are read through accounts/tokens.py, which refuses claims of a kind we never
    # issue (a user id that is no number, an expiry past year 9999) with a 401, not a 500.
    "AUTH_TOKEN_CLASSES": ("accounts.tokens.AccessToken",),
    "TOKEN_REFRESH_SERIALIZER": "accounts.tokens.TokenRefreshSerializer",
}

# --- Monitors and checks ---------------------------------------------------------------
MONITOR_MIN_INTERVAL_SECONDS = env_int("MONITOR_MIN_INTERVAL_SECONDS", 30, minimum=1)
# The longest one slot's check may take, all attempts and pauses included; the broker's
# visibility timeout is derived from it (a check still running is never handed on).
CHECK_MAX_SECONDS = env_int("CHECK_MAX_SECONDS", 240, minimum=10)
TICK_RETENTION_DAYS = env_int("TICK_RETENTION_DAYS", 90, minimum=1)
# Rollups outlive the ticks. The "7d" window reads hourly rows and "90d" daily ones, so
# neither may be kept for less than its window (a day's margin); daily 0 keeps them forever.
ROLLUP_HOURLY_RETENTION_DAYS = env_int("ROLLUP_HOURLY_RETENTION_DAYS", 100, minimum=8)
ROLLUP_DAILY_RETENTION_DAYS = env_int("ROLLUP_DAILY_RETENTION_DAYS", 800, minimum=0)
if 0 < ROLLUP_DAILY_RETENTION_DAYS < 91:
    raise ImproperlyConfigured(
        f"ROLLUP_DAILY_RETENTION_DAYS must be 0 or at least 91, not {ROLLUP_DAILY_RETENTION_DAYS}"
    )
# Checks and URLs into loopback, private, link-local, multicast, reserved or cloud-metadata
# addresses are refused unless this is on (an intranet install, or the test suite).
ALLOW_PRIVATE_TARGETS = env_bool("ALLOW_PRIVATE_TARGETS", False)
PROBE_MAX_REDIRECTS = env_int("PROBE_MAX_REDIRECTS", 5, minimum=0)
PROBE_MAX_BODY_BYTES = env_int("PROBE_MAX_BODY_BYTES", 1024 * 1024, minimum=0)
PROBE_USER_AGENT = env_str("PROBE_USER_AGENT", "Uptime/1.0 (+self-hosted uptime monitor)")
# A PEM file of CA certificates to verify targets' TLS with, instead of the bundled public
# ones: for an intranet CA (or the test suite's own).
PROBE_CA_BUNDLE = env_str("PROBE_CA_BUNDLE")

# --- Notifications ---------------------------------------------------------------------
# Where links in alerts point: the address people reach this installation at.
PUBLIC_URL = env_str("PUBLIC_URL", "http://127.0.0.1:8000")
# A public status page's answers are cached this long (and a CDN may hold them as long);
# what its owner writes shows at once. 0: no cache.
STATUS_PAGE_CACHE_SECONDS = env_int("STATUS_PAGE_CACHE_SECONDS", 10, minimum=0)
# One attempt to a webhook, Slack or SMTP server waits at most this long per connect and read.
NOTIFY_TIMEOUT_SECONDS = env_int("NOTIFY_TIMEOUT_SECONDS", 10, minimum=1)
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 6, minimum=1)
# Failed attempts are retried after base, 2 x base, 4 x base ... seconds, at most the max.
NOTIFY_RETRY_BASE_SECONDS = env_int("NOTIFY_RETRY_BASE_SECONDS", 30, minimum=0)
NOTIFY_RETRY_MAX_SECONDS = env_int("NOTIFY_RETRY_MAX_SECONDS", 3600, minimum=0)
# A delivery due this long ago with nobody on it has lost its message: the sweeper resends it.
NOTIFY_SWEEP_GRACE_SECONDS = env_int("NOTIFY_SWEEP_GRACE_SECONDS", 60, minimum=0)
NOTIFICATIONS_QUEUE = "notifications"

# --- Our own connectivity: canaries (docs/checks.md, "When a region loses its network") ---
# A region's workers reach for these every CANARY_INTERVAL_SECONDS and when a check fails
# there; one that cannot reach over half is impaired: its failures are not the sites'. Any
# answer counts. Three providers' connectivity checks and our own address, which a far
# region reaches over the sites' network. "none": off; CANARY_TARGETS_<SLUG>: one region's.
_CONNECTIVITY_CHECKS = ["https://www.google.com/generate_204", "https://one.one.one.one/cdn-cgi/trace"]
CANARY_TARGETS = env_list(
    "CANARY_TARGETS",
    [*_CONNECTIVITY_CHECKS, "http://detectportal.firefox.com/success.txt", f"{PUBLIC_URL.rstrip('/')}/api/health/"],
    none_is_empty=True,
)
CANARY_TARGETS_BY_REGION = {
    name.removeprefix("CANARY_TARGETS_").lower().replace("_", "-"): env_list(name, CANARY_TARGETS, none_is_empty=True)
    for name in os.environ
    if name.startswith("CANARY_TARGETS_")
}
CANARY_INTERVAL_SECONDS = env_int("CANARY_INTERVAL_SECONDS", 30, minimum=1)
CANARY_TIMEOUT_SECONDS = env_int("CANARY_TIMEOUT_SECONDS", 5, minimum=1)
# The channel (by id, of any kind) told when a region becomes impaired and recovers; 0: none.
OPERATOR_CHANNEL_ID = env_int("OPERATOR_CHANNEL_ID", 0, minimum=0)
# Email goes through Django's backend: SMTP once EMAIL_HOST is set, else the console.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587 if env_bool("EMAIL_USE_TLS", False) else 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = NOTIFY_TIMEOUT_SECONDS
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "uptime@localhost")

# --- Celery ----------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
# kombu's Redis transport with a fix that keeps a worker alive when Redis goes away while
# it holds a check (uptime/broker.py). Only for redis:// URLs: for any other scheme
# (rediss://, whose TLS defaults kombu derives from the scheme's name; sentinel://) kombu
# picks its transport from the URL as usual.
CELERY_BROKER_TRANSPORT = "uptime.broker:Transport" if REDIS_URL.startswith("redis://") else None
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CHECK_MAX_SECONDS + 60,
    # kombu scans for messages whose worker died every interval x throttle seconds; the
    # defaults (10 x 10) leave a killed worker's checks lost for about 100 s.
    "unacked_restore_interval": 5,
    "unacked_restore_throttle": 1,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
# No result backend, so nothing to clean: keeps beat from scheduling celery.backend_cleanup.
CELERY_RESULT_EXPIRES = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A check is acknowledged only when it has finished, and handed back if the worker (or
# its pool child) dies, so a crash never loses a slot; the Tick's unique slot makes the
# redelivery harmless.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("WORKER_PREFETCH_MULTIPLIER", 1, minimum=1)
# Checks wait on the network, not the CPU: threads let one timing-out target sleep
# without holding up the others.
CELERY_WORKER_POOL = env_str("WORKER_POOL", "threads")
CELERY_WORKER_CONCURRENCY = env_int("WORKER_CONCURRENCY", 32, minimum=1)
CELERY_WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 10, minimum=1)
# Workers keep the monitors' settings in memory and read the edited ones this often
# (checks/worker/monitor_cache.py): an edit reaches the checks within this many seconds.
MONITOR_REFRESH_SECONDS = env_int("MONITOR_REFRESH_SECONDS", 1, minimum=0)
CELERY_BEAT_SCHEDULER = "checks.beat.scheduler:SlotScheduler"
# One beat sends at a time; others wait as standbys and take over once its lease lapses
# (checks/beat/lease.py). Beat looks at least every second, to renew the lease and to apply edits.
# Prometheus scrapes /metrics with "Authorization: Bearer <token>" when this is set.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# Monitors with series of their own on /metrics (4 and one per region each): "all" (None),
# "none" (0), or at most that many, worst status first (checks/figures/metrics.py).
METRICS_MONITORS = (
    None
    if (_metrics_monitors := env_str("METRICS_MONITORS", "all").strip().lower()) == "all"
    else 0
    if _metrics_monitors == "none"
    else env_int("METRICS_MONITORS", 0, minimum=0)
)
BEAT_LEASE_SECONDS = env_int("BEAT_LEASE_SECONDS", 10, minimum=3)
# Slots that fell due while the broker was away are sent once it is back, oldest first, if
# at most this old; older ones are skipped, and the watchdog records them as missed.
BEAT_UNSENT_MAX_SECONDS = env_int("BEAT_UNSENT_MAX_SECONDS", 600, minimum=0)
# A slot beat itself could not send within this long (beat was away: a crash, a deploy) is
# skipped and recorded as missed, and the monitor goes on at its next slot on its own grid,
# so a restart after an outage sends no burst. Long enough for a standby's takeover (the
# lease, then a read of the schedule) and a restart to lose nothing.
BEAT_LATE_SLOT_MAX_SECONDS = env_int("BEAT_LATE_SLOT_MAX_SECONDS", 20, minimum=1)
CELERY_BEAT_MAX_LOOP_INTERVAL = 1
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
# Housekeeping has its own queue so region workers only ever run checks; checks are
# always routed to their region's queue explicitly.
HOUSEKEEPING_QUEUE = "housekeeping"
CELERY_TASK_DEFAULT_QUEUE = HOUSEKEEPING_QUEUE
# Alerts have a queue of their own (the housekeeping worker consumes it): a slow receiver
# never holds up a check, and each delivery is a task of its own.
CELERY_TASK_ROUTES = {"notifications.*": {"queue": NOTIFICATIONS_QUEUE}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)

CELERY_BEAT_SCHEDULE = {
    "watch-for-gaps": {
        "task": "checks.watch_for_gaps",
        "schedule": env_int("WATCHDOG_INTERVAL_SECONDS", 30),
        # A run that waited a whole period is stale; the next one is coming.
        "options": {"queue": HOUSEKEEPING_QUEUE, "expire_seconds": env_int("WATCHDOG_INTERVAL_SECONDS", 30)},
    },
    # A window's start moves its monitors to maintenance within this period (checks/state/maintenance.py).
    "enter-maintenance": {
        "task": "checks.enter_maintenance",
        "schedule": 30.0,
        "options": {"queue": HOUSEKEEPING_QUEUE, "expire_seconds": 30},
    },
    "prune-old-ticks": {
        "task": "checks.prune_ticks",
        "schedule": crontab(hour=3, minute=17),
        "options": {"queue": HOUSEKEEPING_QUEUE},
    },
    # Ticks are stored in day partitions made 3 days ahead (checks/outcomes/partitions.py);
    # hourly, so a housekeeping worker that was away catches up within the hour.
    "create-tick-partitions": {
        "task": "checks.create_tick_partitions",
        "schedule": crontab(minute=11),
        "options": {"queue": HOUSEKEEPING_QUEUE, "expire_seconds": 3600},
    },
    # Each run that waited a minute in the queue is superseded by the next one.
    "sweep-notifications": {
        "task": "notifications.sweep",
        "schedule": 60.0,
        "options": {"queue": NOTIFICATIONS_QUEUE, "expire_seconds": 60},
    },
    "send-reminders": {
        "task": "notifications.send_reminders",
        "schedule": 60.0,
        "options": {"queue": NOTIFICATIONS_QUEUE, "expire_seconds": 60},
    },
}
