"""Settings for ipep, read from the environment (django-environ).

With nothing set, the site runs embedded: SQLite under the project, Celery tasks executed eagerly
in-process, a development secret key, DEBUG off (French error pages; DJANGO_DEBUG=1 turns Django's
debug pages on, for a developer). Production declares itself with DJANGO_DEBUG=0 and sets
DJANGO_SECRET_KEY (then required), DJANGO_ALLOWED_HOSTS, DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL
(Redis); it gets HTTPS-only cookies, HSTS and hashed static files.
"""

import ipaddress
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# Debug pages only when asked: a forgotten variable never shows a traceback to a visitor.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Production is declared (DJANGO_DEBUG=0), not guessed: the embedded site (tests, demo) keeps its
# development key and plain-HTTP cookies.
PRODUCTION = "DJANGO_DEBUG" in env and not DEBUG
if PRODUCTION:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")  # required in production: no default
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-never-used-in-production-0123456789")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "ipep_site.apps.LazyAdminConfig",  # django.contrib.admin, its modules discovered by the URLs only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "import_export",
    "axes",
    "csp",
    "pgtrigger",
    "pghistory",
    "common",
    "groupements",
    "calculations",
    "financing",
    "reports",
    "ipep_site",
]

MIDDLEWARE = [
    # First: times the whole request and writes its JSON line (ipep_site.requestlog).
    "ipep_site.requestlog.RequestLogMiddleware",
    "ipep_site.middleware.HeadAsGetMiddleware",
    # French typography on the admin's pages, Django's templates included (ipep_site.middleware).
    "ipep_site.middleware.AdminTypographyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so that every response carries them, static files included.
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a lock-out into its response (ipep_site.lockout).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ipep_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

WSGI_APPLICATION = "ipep_site.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# A connection serves many requests, or tasks (ipep_site.celery), until it is this old, instead of one
# connection per request (bench/load.py measures both); checked before reuse, so a restarted PostgreSQL
# costs no failed request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Campaign tasks and the web process share the file: wait for locks instead of failing.
    # IMMEDIATE takes the write lock when a transaction starts, so concurrent writers queue up instead
    # of failing with "database is locked" when a read transaction tries to become a write one.
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=30, transaction_mode="IMMEDIATE")
USES_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
if USES_POSTGRES:
    # (The audit trail's page is common.history's « Historique des modifications », not pghistory.admin.)
    # Attaches the user and URL of each request to the audit events (PostgreSQL triggers only).
    MIDDLEWARE.append("pghistory.middleware.HistoryMiddleware")
    # Only requests that may write: the context is a statement added before every query of the request,
    # and GET and HEAD (answered as GET) write nothing that is audited.
    PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr-fr"
# French only: a browser asking for English must not get English dates in a statement or a page.
LANGUAGES = [("fr", "Français")]
# The project's overrides of a few French strings of Django and django-axes (locale/fr/LC_MESSAGES).
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "/media/"  # never served publicly: statements go through access-checked views


def s3_storage(*, bucket: str, endpoint_url: str | None, region: str | None, access_key=None, secret_key=None) -> dict:
    """The S3-compatible bucket of the stored files: private objects, presigned URLs only (none handed out)."""
    return {
        "BACKEND": "common.s3.ObjectStorage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "region_name": region or None,
            "access_key": access_key or None,
            "secret_key": secret_key or None,
            "addressing_style": "path",
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 60,
            "file_overwrite": True,  # names are content-addressed: the same name holds the same bytes
        },
    }


# Datasets' Parquet, uploads awaiting validation and statements: MEDIA_ROOT, or an S3-compatible bucket.
IPEP_STORAGE = env.str("IPEP_STORAGE", default="local")
if IPEP_STORAGE == "s3":
    DEFAULT_STORAGE = s3_storage(
        bucket=env.str("IPEP_S3_BUCKET"),
        endpoint_url=env.str("IPEP_S3_ENDPOINT_URL", default=None),
        region=env.str("IPEP_S3_REGION", default=None),
        access_key=env.str("AWS_ACCESS_KEY_ID", default=None),
        secret_key=env.str("AWS_SECRET_ACCESS_KEY", default=None),
    )
elif IPEP_STORAGE == "local":
    DEFAULT_STORAGE = {"BACKEND": "common.storage.LocalStorage"}
else:
    raise ImproperlyConfigured(f"IPEP_STORAGE must be 'local' or 's3', not {IPEP_STORAGE!r}")

STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if not PRODUCTION
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# The embedded site (demo, tests, a gunicorn started without DJANGO_DEBUG) serves static files straight
# from the project and the apps, as runserver does; production serves the collected, hashed copies.
WHITENOISE_USE_FINDERS = not PRODUCTION

# Uploads of national files (several GB) are streamed to a temporary file, never kept in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]
DATA_UPLOAD_MAX_MEMORY_SIZE = 10_485_760
FILE_UPLOAD_TEMP_DIR = env.str("FILE_UPLOAD_TEMP_DIR", default=None)

LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"

# Celery: Redis in production; in-memory and eager when CELERY_BROKER_URL is unset.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://localhost/")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL.startswith("memory"))
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "cache+memory://"
)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=3 * 3600)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Broker outages (ipep_site/broker.py patches the crash of kombu 5.7.0 on one). The worker reconnects
# for as long as it takes.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A task taken by a worker that vanished (SIGKILL, lost host, broker outage) goes back to the queue once its
# message has been unacknowledged this long (Redis transport); longer than the longest task, else a running
# task is given to a second worker. Statements are idempotent, so the tests of a killed worker shorten it.
visibility_timeout = env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": visibility_timeout,
    # How often a worker looks for such messages (kombu: every interval × throttle seconds).
    "unacked_restore_interval": min(10, visibility_timeout),
    "unacked_restore_throttle": 1 if visibility_timeout < 60 else 10,
}
# A broker blip does not stop a running computation (a 3 h task would start over).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Celery's Django fixup closes every connection around each task unless told how many tasks a connection
# may serve: the worker closes them the way Django does around a request instead (ipep_site.celery), so
# this count is only a backstop.
CELERY_DB_REUSE_MAX = 100_000
# Publishing (the statements queued by a computation, a validation queued by an upload) waits up to
# about a minute for the broker instead of about a second.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 30, "interval_start": 0, "interval_step": 0.5, "interval_max": 2}
CELERY_RESULT_BACKEND_ALWAYS_RETRY = True
CELERY_RESULT_BACKEND_MAX_RETRIES = 30
# A statement whose worker process died (the pool's child, not the whole worker) is queued again at once.
CELERY_TASK_ANNOTATIONS = {"reports.render_statement": {"reject_on_worker_lost": True}}
# Periodic tasks, run by `celery beat` where it is deployed (the admin and the launch also check on every visit).
CELERY_BEAT_SCHEDULE = {
    "calculations.fail_stale_campaigns": {
        "task": "calculations.fail_stale_campaigns",
        "schedule": env.int("IPEP_STALE_CHECK_SECONDS", default=20),
    },
    "calculations.fail_stale_validations": {
        "task": "calculations.fail_stale_validations",
        "schedule": env.int("IPEP_STALE_CHECK_SECONDS", default=20),
    },
}

# E-mail (publication notices, contestation answers, password reset). SMTP when EMAIL_URL is set
# (django-environ: `smtp+tls://user:password@host:587`, `smtp+ssl://…:465`) or else EMAIL_HOST with
# EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS / EMAIL_USE_SSL; with neither, e-mails
# are printed on the console (the demo). DJANGO_EMAIL_BACKEND overrides the backend; deploy check ipep.W002.
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"
if env.str("EMAIL_URL", default=""):
    globals().update(
        {key: value for key, value in env.email_url("EMAIL_URL").items() if value is not None and key != "OPTIONS"}
    )
else:
    # Django's default host when only DJANGO_EMAIL_BACKEND asks for SMTP (a relay on this machine, port 25).
    EMAIL_HOST = env.str("EMAIL_HOST", default="") or "localhost"
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
    EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
    EMAIL_BACKEND = SMTP_BACKEND if env.str("EMAIL_HOST", default="") else CONSOLE_BACKEND
EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default=EMAIL_BACKEND)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="ipep@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A password-reset link works once, for three days.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Sessions are read from the cache when every process shares it (Redis in production, CACHE_URL): one
# round trip instead of a query on each page. A per-process cache would keep a session alive in the other
# processes after its logout, so without a shared cache they are read from the database only.
PER_PROCESS_CACHES = ("django.core.cache.backends.locmem.LocMemCache", "django.core.cache.backends.dummy.DummyCache")
SESSION_ENGINE = (
    "django.contrib.sessions.backends.db"
    if CACHES["default"]["BACKEND"] in PER_PROCESS_CACHES
    else "django.contrib.sessions.backends.cached_db"
)

IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# Every django-import-export admin: importing needs the model's change permission, exporting its view
# permission; a file waits between preview and confirmation in a private directory (common.importexport).
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_TMP_STORAGE_CLASS = "common.importexport.PrivateTempStorage"
IMPORT_EXPORT_TMP_DIR = env.str("IMPORT_EXPORT_TMP_DIR", default="") or None

# Business settings (documented in README.md).
IPEP_PLANNED_ENVELOPE = env.dict(
    "IPEP_PLANNED_ENVELOPE", cast={"value": int}, default={"2022": 7000000, "2023": 7000000}
)
IPEP_CONTESTATION_DAYS = env.int("IPEP_CONTESTATION_DAYS", default=30)
# Interrupted work (worker killed, connection lost) ends `failed` within two minutes: a running
# computation or validation writes a sign of life every IPEP_HEARTBEAT_SECONDS (common/liveness.py);
# one silent for the stale limit is failed by the periodic check (every IPEP_STALE_CHECK_SECONDS), the
# next worker's start, the admin pages and the launch. 90 s + 20 s < 2 min.
IPEP_HEARTBEAT_SECONDS = env.float("IPEP_HEARTBEAT_SECONDS", default=15)
IPEP_CAMPAIGN_STALE_AFTER_SECONDS = env.int("IPEP_CAMPAIGN_STALE_AFTER_SECONDS", default=90)
IPEP_DATASET_STALE_AFTER_SECONDS = env.int("IPEP_DATASET_STALE_AFTER_SECONDS", default=90)
# A task still waiting in the queue is not dead (busy workers): failed only after the longest run.
IPEP_QUEUED_STALE_AFTER_SECONDS = env.int("IPEP_QUEUED_STALE_AFTER_SECONDS", default=CELERY_TASK_TIME_LIMIT + 300)
# Absolute links in e-mails (statement published).
IPEP_SITE_URL = env.str("IPEP_SITE_URL", default="http://127.0.0.1:8000")
# Login lock-out (portal and admin), by django-axes: ipep_site/lockout.py explains the two limits.
IPEP_LOGIN_MAX_FAILURES = env.int("IPEP_LOGIN_MAX_FAILURES", default=5)
IPEP_LOGIN_MAX_FAILURES_PER_ADDRESS = env.int("IPEP_LOGIN_MAX_FAILURES_PER_ADDRESS", default=100)
IPEP_LOGIN_LOCKOUT_SECONDS = env.int("IPEP_LOGIN_LOCKOUT_SECONDS", default=15 * 60)
# Addresses (or networks) of the reverse proxies in front of the site: X-Forwarded-For is believed only
# on a connection from one of them.
IPEP_TRUSTED_PROXIES = env.list("IPEP_TRUSTED_PROXIES", default=[])
for _proxy in IPEP_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"IPEP_TRUSTED_PROXIES: « {_proxy} » n'est pas une adresse ni un réseau IP ; "
            "indiquez les adresses des proxys (ex. 127.0.0.1), pas leur nombre."
        ) from None
AXES_HANDLER = "ipep_site.lockout.AccountThenAddressHandler"  # counters in the database: shared by all processes
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = IPEP_LOGIN_MAX_FAILURES
AXES_COOLOFF_TIME = timedelta(seconds=IPEP_LOGIN_LOCKOUT_SECONDS)
AXES_RESET_ON_SUCCESS = True
# Attempts refused while locked are not counted: the lock ends on time, as announced.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "ipep_site.lockout.client_address"
AXES_LOCKOUT_CALLABLE = "ipep_site.lockout.lockout_response"
AXES_COOLOFF_MESSAGE = (
    f"Trop de tentatives de connexion échouées. Réessayez dans {max(1, IPEP_LOGIN_LOCKOUT_SECONDS // 60)} minutes."
)

# Browser policies on every response (README, « Security headers »). No inline script or style
# anywhere: pages use static files, so the policy needs neither 'unsafe-inline' nor nonces.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # the national report's charts are data: URIs
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer", "autoplay", "bluetooth", "camera", "display-capture", "geolocation", "gyroscope", "hid",
        "magnetometer", "microphone", "midi", "payment", "publickey-credentials-get", "screen-wake-lock", "serial",
        "usb", "xr-spatial-tracking",
    )
}  # fmt: skip

if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

# One JSON object per line on standard error (the journal, `docker compose logs`), web and worker alike:
# time, level, logger, message, the request id being served (ipep_site.requestlog) and any extra field;
# one line per request from the logger ipep.request (method, path, status, duration_ms, user_id).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "ipep_site.requestlog.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601, UTC
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="WARNING")},
    "loggers": {
        "ipep.request": {"level": env.str("IPEP_REQUEST_LOG_LEVEL", default="INFO")},
        # A worker says when it is ready and when it shuts down (operators and tests/workers.py wait for it).
        "celery.apps.worker": {"level": "INFO"},
    },
}

# Audit trail (django-pghistory, PostgreSQL triggers; nothing is recorded on SQLite).
import pghistory  # noqa: E402

PGHISTORY_DEFAULT_TRACKERS = (pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
