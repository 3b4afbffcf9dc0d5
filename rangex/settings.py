"""RangeX settings.

One module for every deployment. With nothing set, RangeX runs on its embedded
default: SQLite, the in-memory channel layer, eager Celery tasks, local files and
console email. Production services switch on when their variables are set:
``DATABASE_URL`` (MariaDB/MySQL), ``REDIS_URL`` (channel layer, cache, Celery broker)
and ``AWS_STORAGE_BUCKET_NAME`` (S3-compatible storage). ``.env.example`` documents
every variable.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from rangex import env as e

BASE_DIR = Path(__file__).resolve().parent.parent
e.read_env_file(Path(os.environ.get("RANGEX_ENV_FILE", BASE_DIR / ".env")))

VAR_DIR = Path(e.get_str("RANGEX_VAR_DIR", str(BASE_DIR / "var")))

# --- Core -----------------------------------------------------------------------------------
SECRET_KEY = e.get_secret("SECRET_KEY")
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("Environment variable SECRET_KEY is malformed: expected at least 32 characters.")
DEBUG = e.get_bool("DEBUG", False)
ALLOWED_HOSTS = e.get_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = e.get_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = e.get_url("SITE_URL", "http://127.0.0.1:8000", schemes={"http", "https"}).rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "rangex.admin_config.RangexAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "rangex",
    "rangex.core",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_htmx",
    "django_celery_beat",
    "channels",
    "apps.ops",
    "apps.accounts",
    "apps.images",
    "apps.scenarios",
    "apps.environments",
    "apps.teams",
    "apps.events",
    "apps.paths",
    "apps.badges",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.accounts.language.UserLanguageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "apps.accounts.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "rangex.core.middleware.RequestContextMiddleware",
    "rangex.core.middleware.MaintenanceModeMiddleware",
    "rangex.core.middleware.ApplicationErrorMiddleware",
]

ROOT_URLCONF = "rangex.urls"
WSGI_APPLICATION = "rangex.wsgi.application"
ASGI_APPLICATION = "rangex.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "apps.accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
_db = e.get_db_url("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
if _db["ENGINE"].endswith("mysql"):
    _db.setdefault("OPTIONS", {})
    _db["OPTIONS"].update(
        {
            "charset": "utf8mb4",
            "isolation_level": "read committed",
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES', time_zone='+00:00'",
        }
    )
    _db["CONN_MAX_AGE"] = e.get_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
    _db["CONN_HEALTH_CHECKS"] = True
    _db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
else:
    _db.setdefault("OPTIONS", {})
    # SQLite waits for a writer instead of failing at once when a background thread writes.
    _db["OPTIONS"].setdefault("timeout", 20)
    _db["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASE_IS_MYSQL = _db["ENGINE"].endswith("mysql")

# --- Redis: cache, channel layer, Celery broker --------------------------------------------
REDIS_URL = e.get_url("REDIS_URL", "", schemes={"redis", "rediss", "unix"})
RANGEX_INSTANCE = e.get_str("RANGEX_INSTANCE", "rangex") or "rangex"
if not RANGEX_INSTANCE.replace("-", "").replace("_", "").isalnum():
    raise ImproperlyConfigured(
        "Environment variable RANGEX_INSTANCE is malformed: expected letters, digits, '-' or '_'."
    )
# Two installs with the same instance id on one engine (or one Redis) see each other's labs as
# orphans and remove them. deploy/run.sh and deploy/prod.sh generate a unique id; production
# refuses the shared default unless the operator says this install is alone (an install that
# already runs labs under "rangex" must keep it: its labs carry that label).
SHARED_DEFAULT_INSTANCE = "rangex"
if not DEBUG and RANGEX_INSTANCE == SHARED_DEFAULT_INSTANCE and not e.get_bool("RANGEX_ALLOW_SHARED_INSTANCE", False):
    raise ImproperlyConfigured(
        "Environment variable RANGEX_INSTANCE is left at the shared default 'rangex': two installs on one engine "
        "or Redis would remove each other's labs. Set a unique id per install (e.g. RANGEX_INSTANCE=rangex-"
        "<random>), or RANGEX_ALLOW_SHARED_INSTANCE=true if this install is alone and already runs labs as 'rangex'."
    )

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "rangex.core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": RANGEX_INSTANCE,
        }
    }
    # An idle consumer waits for its next message with BZPOPMIN, which Redis answers (with nothing)
    # after 5 s (channels_redis's RedisChannelLayer.brpop_timeout), and then waits again. redis-py 8
    # made every read time out after 5 s by default (it used to wait for ever), so each idle wait
    # raced that timeout, lost, and closed every idle WebSocket within seconds (django/channels_redis
    # issue 422, not fixed in channels_redis 4.3.0). A read must outlast one BZPOPMIN, with room for
    # a busy event loop or server: 10 s. A finite timeout, not None, so a Redis that stops answering
    # (a dead host, a partition) still fails the consumer within 10 s instead of leaving every socket
    # hanging; the client then reconnects. Connecting gives up after 5 s, as before.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 10, "socket_connect_timeout": 5}],
                "prefix": f"{RANGEX_INSTANCE}:asgi",
                "capacity": 1000,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "KEY_PREFIX": "rangex"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = e.get_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# In the embedded default there is no worker: eager tasks run on a background thread of the
# web process so a request never waits for a launch (see rangex.tasks.enqueue).
RANGEX_EAGER_IN_BACKGROUND = e.get_bool("RANGEX_EAGER_IN_BACKGROUND", CELERY_TASK_ALWAYS_EAGER)
# ...and with no beat process, the web process runs the periodic schedule itself (rangex.embedded_beat).
RANGEX_EMBEDDED_BEAT = e.get_bool("RANGEX_EMBEDDED_BEAT", RANGEX_EAGER_IN_BACKGROUND and not REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A message whose worker died goes back to the queue after visibility_timeout. Launches do not wait
# for it: their lease is checked by beat every 30 s and a dead worker's launch is queued again
# within about 90 s (apps/environments/services/launches.py). Three minutes, not Redis's hour, so
# any other lost task comes back soon too; a task still running then may be delivered a second
# time, which every task tolerates (launch leases, single_flight locks, conditional updates).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 180, "global_keyprefix": f"{RANGEX_INSTANCE}:"}
# django-celery-beat's DatabaseScheduler, recording beat's liveness heartbeat (apps/ops/liveness.py).
# Beat and every worker record a heartbeat this often; one older than 180 s means the process stopped.
RANGEX_HEARTBEAT_SECONDS = e.get_int("RANGEX_HEARTBEAT_SECONDS", 30, minimum=1)
CELERY_BEAT_SCHEDULER = "apps.ops.liveness:LivenessScheduler"
# The worker and beat log through LOGGING below, in the same format as the web server.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["apps.accounts.backends.EmailBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

ACCOUNT_LOCKOUT_THRESHOLD = e.get_int("ACCOUNT_LOCKOUT_THRESHOLD", 5, minimum=1)
ACCOUNT_LOCKOUT_MINUTES = e.get_int("ACCOUNT_LOCKOUT_MINUTES", 15, minimum=1)
ACCOUNT_EMAIL_VERIFICATION_HOURS = e.get_int("ACCOUNT_EMAIL_VERIFICATION_HOURS", 48, minimum=1)
ACCOUNT_AVATAR_MAX_BYTES = e.get_int("ACCOUNT_AVATAR_MAX_BYTES", 2 * 1024 * 1024, minimum=1024)
ACCOUNT_API_TOKEN_MAX_DAYS = e.get_int("ACCOUNT_API_TOKEN_MAX_DAYS", 365, minimum=1)
ACCOUNT_RECOVERY_CODES = e.get_int("ACCOUNT_RECOVERY_CODES", 10, minimum=4)
OTP_TOTP_ISSUER = "RangeX"

SESSION_IDLE_TIMEOUT_MINUTES = e.get_int("SESSION_IDLE_TIMEOUT_MINUTES", 60, minimum=1)
SESSION_ABSOLUTE_TIMEOUT_HOURS = e.get_int("SESSION_ABSOLUTE_TIMEOUT_HOURS", 12, minimum=1)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT_HOURS * 3600
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- Secrets at rest ------------------------------------------------------------------------
# Comma-separated Fernet keys, newest first: the newest encrypts, every key decrypts.
_keys = e.get_secret("FIELD_ENCRYPTION_KEYS", "")
FIELD_ENCRYPTION_KEYS = [k.strip() for k in _keys.split(",") if k.strip()]
if not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "Environment variable FIELD_ENCRYPTION_KEYS is required: comma-separated Fernet keys, newest first."
    )
e.check_fernet_keys("FIELD_ENCRYPTION_KEYS", FIELD_ENCRYPTION_KEYS)

# --- Internationalisation -------------------------------------------------------------------
# The language of a request: the signed-in user's preference (User.language, applied by
# apps.accounts.language.UserLanguageMiddleware), else the language cookie the header switcher sets,
# else the browser's Accept-Language (django.middleware.locale.LocaleMiddleware). URLs carry no
# language prefix. Dates and numbers follow the active language (Django's own en/ms formats).
# Names stay in their own language in the switcher, so a reader finds theirs whatever is active.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ms", "Bahasa Melayu")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "rangex_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = e.get_bool("SESSION_COOKIE_SECURE", not DEBUG)
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Files ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

_static_manifest = not DEBUG and e.get_bool("STATIC_MANIFEST", True)
# Without collected, hashed files (embedded default, tests) WhiteNoise serves straight from the finders.
WHITENOISE_USE_FINDERS = not _static_manifest
WHITENOISE_AUTOREFRESH = not _static_manifest

AWS_STORAGE_BUCKET_NAME = e.get_str("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": e.get_url("AWS_S3_ENDPOINT_URL", "", schemes={"http", "https"}) or None,
            "region_name": e.get_str("AWS_S3_REGION_NAME", "") or None,
            "access_key": e.get_secret("AWS_S3_ACCESS_KEY_ID", "") or None,
            "secret_key": e.get_secret("AWS_S3_SECRET_ACCESS_KEY", "") or None,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _static_manifest
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Email ----------------------------------------------------------------------------------
_email = e.env.email_url_config(
    e.get_url(
        "EMAIL_URL",
        "consolemail://",
        schemes={
            "consolemail",
            "smtp",
            "smtps",
            "smtp+tls",
            "smtp+ssl",
            "dummymail",
            "filemail",
            "memorymail",
        },
    )
)
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
# Outside DEBUG a message body (a password-reset link, a code) never reaches a log; the deploy check
# rangex.E001 refuses console email unless RANGEX_ALLOW_CONSOLE_EMAIL=true says mail may go nowhere.
if not DEBUG and EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend":
    EMAIL_BACKEND = "rangex.core.mail.RedactingConsoleBackend"
RANGEX_ALLOW_CONSOLE_EMAIL = e.get_bool("RANGEX_ALLOW_CONSOLE_EMAIL", False)
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "") or e.get_secret("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = e.get_str("DEFAULT_FROM_EMAIL", "RangeX <noreply@rangex.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "rangex.core.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 24,
    "EXCEPTION_HANDLER": "rangex.core.api.exception_handler",
    # Bodies are read with a size cap and JSON with a depth cap (rangex/core/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "rangex.core.parsers.JSONParser",
        "rangex.core.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Rates live in RANGEX_THROTTLE_RATES below (rangex/core/throttling.py).
    "DEFAULT_THROTTLE_CLASSES": ["rangex.core.throttling.ApiRateThrottle", "rangex.core.throttling.ScopedRateThrottle"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# JSON bodies (API, WebSocket messages) nested deeper than this are refused with a 400.
RANGEX_JSON_MAX_DEPTH = e.get_int("RANGEX_JSON_MAX_DEPTH", 32, minimum=2)
# Rate limits: "<scope>.user" counts per account, "<scope>.ip" per client address (RANGEX_TRUSTED_PROXY_COUNT
# decides which address); every API request also counts against api.user or, anonymous, api.anon.
# Override with RANGEX_THROTTLE_RATES="answer.user=60/min,login.ip=off". Per-address rates are higher
# than per-account ones because a classroom or an event may share one address behind NAT.
RANGEX_THROTTLE_RATES = e.get_rates(
    "RANGEX_THROTTLE_RATES",
    {
        "api.user": "600/min",
        "api.anon": "60/min",
        "login.user": "10/min",
        "login.ip": "60/min",
        "answer.user": "30/min",
        "answer.ip": "600/min",
        "hint.user": "30/min",
        "hint.ip": "600/min",
        "session_start.user": "10/min",
        "session_start.ip": "120/min",
        "import.user": "60/hour",
        "import.ip": "120/hour",
        "desktop.user": "60/min",
        "desktop.ip": "600/min",
    },
)
SPECTACULAR_SETTINGS = {
    "TITLE": "RangeX API",
    "DESCRIPTION": "Scenarios, environments, events, paths and badges of the RangeX cyber range.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = e.get_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = e.get_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = e.get_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Health probes come from inside the network over plain HTTP (compose, load balancers).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = e.get_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = e.get_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = e.get_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if e.get_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Client addresses come from REMOTE_ADDR unless a trusted proxy count is set.
RANGEX_TRUSTED_PROXY_COUNT = e.get_int("RANGEX_TRUSTED_PROXY_COUNT", 0, minimum=0)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # xterm.js and Bootstrap set inline style attributes.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", "ws:", "wss:"] if DEBUG else ["'self'", "wss:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = e.get_str("LOG_LEVEL", "INFO")
# One format for the web server, the worker and beat: text (default) or one JSON object a line.
LOG_FORMAT = e.get_str("RANGEX_LOG_FORMAT", "text").lower()
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("Environment variable RANGEX_LOG_FORMAT is malformed: expected text or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "rangex.core.logging.RedactSecretsFilter"},
        "request_id": {"()": "rangex.core.logging.RequestIdFilter"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "rangex.core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id", "redact"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        "docker": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "botocore": {"level": "WARNING"},
    },
}


def _runtimes_from_env(name: str, *, default_key: str) -> dict[str, dict]:
    """Read further runtime backends from a JSON object: key -> {"BACKEND": path, "OPTIONS": {...}}."""
    raw = os.environ.get(name, "").strip()
    key_re = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
    if not key_re.match(default_key):
        raise ImproperlyConfigured(
            "Environment variable RANGEX_DEFAULT_RUNTIME is malformed: expected up to 32 lower-case letters, "
            "digits, '-' or '_'."
        )
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    expected = 'a JSON object such as {"fake": {"BACKEND": "apps.runtime.fake.FakeRuntime", "OPTIONS": {}}}'
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"Environment variable {name} is malformed: expected {expected}.")
    runtimes = {}
    for key, entry in value.items():
        if (
            not key_re.match(str(key))
            or not isinstance(entry, dict)
            or not isinstance(entry.get("BACKEND"), str)
            or not isinstance(entry.get("OPTIONS", {}), dict)
            or set(entry) - {"BACKEND", "OPTIONS"}
        ):
            raise ImproperlyConfigured(
                f"Environment variable {name} is malformed at {str(key)[:40]!r}: expected {expected}."
            )
        runtimes[key] = {"BACKEND": entry["BACKEND"], "OPTIONS": dict(entry.get("OPTIONS", {}))}
    return runtimes


# --- RangeX ---------------------------------------------------------------------------------
# Lab runtimes (apps/runtime/__init__.py): several backends at once, each under a stable key that a
# session records. RANGEX_RUNTIME_BACKEND and RANGEX_DOCKER_URL configure the default key;
# RANGEX_RUNTIMES (JSON) adds others: {"key": {"BACKEND": "dotted.Path", "OPTIONS": {...}}}.
RANGEX_DEFAULT_RUNTIME = e.get_str("RANGEX_DEFAULT_RUNTIME", "docker")
RANGEX_RUNTIME_BACKEND = e.get_str("RANGEX_RUNTIME_BACKEND", "apps.runtime.docker.DockerRuntime")
RANGEX_DOCKER_URL = e.get_str("RANGEX_DOCKER_URL", "")
RANGEX_RUNTIMES = _runtimes_from_env("RANGEX_RUNTIMES", default_key=RANGEX_DEFAULT_RUNTIME)
# FakeRuntime gives terminals that are shells on this host: for tests and development only.
RANGEX_ALLOW_FAKE_RUNTIME = e.get_bool("RANGEX_ALLOW_FAKE_RUNTIME", DEBUG)
RANGEX_FLAG_SECRET = e.get_secret("RANGEX_FLAG_SECRET", "") or SECRET_KEY
# /metrics (README, "Metrics"): on by default; a scraper sends this bearer token, or without a token
# only a direct connection from this host may scrape. Signed-in platform admins may always look.
RANGEX_METRICS_ENABLED = e.get_bool("RANGEX_METRICS_ENABLED", True)
RANGEX_METRICS_TOKEN = e.get_secret("RANGEX_METRICS_TOKEN", "")
# platform_status and health_check probe the web server here when set (e.g. http://127.0.0.1:8000/healthz).
RANGEX_WEB_HEALTH_URL = e.get_url("RANGEX_WEB_HEALTH_URL", "", schemes={"http", "https"})
RANGEX_MAX_ASSET_BYTES = e.get_int("RANGEX_MAX_ASSET_MB", 100, minimum=1) * 1024 * 1024
# The image pipeline (apps/images/pipeline.py): where images built from a version's sources go.
# Each is a repository prefix, "registry.example.org/rangex-staging"; empty keeps images on this engine.
RANGEX_IMAGE_STAGING_REPOSITORY = e.get_str("RANGEX_IMAGE_STAGING_REPOSITORY", "")
RANGEX_IMAGE_PRODUCTION_REPOSITORY = e.get_str("RANGEX_IMAGE_PRODUCTION_REPOSITORY", "")
# Caps on a build context carried by a bundle: each file, and all of them together.
RANGEX_MAX_BUILD_FILE_BYTES = e.get_int("RANGEX_MAX_BUILD_FILE_MB", 50, minimum=1) * 1024 * 1024
RANGEX_MAX_BUILD_CONTEXT_BYTES = e.get_int("RANGEX_MAX_BUILD_CONTEXT_MB", 200, minimum=1) * 1024 * 1024
# Costs are kept in RM; the global budget cap is set in USD and converted with this rate.
RANGEX_RM_PER_USD = e.get_str("RANGEX_RM_PER_USD", "4.70")
LOGIN_URL_PATH = "/accounts/login/"
FORM_RENDERER = "rangex.forms.RangexFormRenderer"
