"""Kuasheng settings, read from the environment (spec/operations.md §Settings).

Two shapes:
- **embedded default** (no environment): SQLite file in ``var/``, Celery tasks run eagerly,
  nonces/throttles/lockouts in Django's database cache, keys generated into the git-ignored
  ``.local/keys.json`` on first run;
- **real**: ``DATABASE_URL`` (PostgreSQL), ``CELERY_BROKER_URL`` and ``REDIS_URL`` (Redis).
``DJANGO_ENV=production`` refuses to start without explicit keys and secrets.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config import keys as keyfile

BASE_DIR = Path(__file__).resolve().parent.parent
ENV = os.environ.get("DJANGO_ENV", "development")
PRODUCTION = ENV == "production"

_local = keyfile.load_or_create(BASE_DIR / ".local" / "keys.json", allow_generate=not PRODUCTION)


_missing: list[str] = []  # production settings not in the environment: all reported at once below


def _secret(name: str) -> str:
    value = os.environ.get(name) or ("" if PRODUCTION else _local.get(name, ""))
    if not value:
        _missing.append(name)
    return value


# Formats of every key: config/keys.py REQUIRED_IN_PRODUCTION (also printed by `manage.py generate_keys`).
SECRET_KEY = _secret("DJANGO_SECRET_KEY")
# Personal-data keys (spec/security.md §Personal data at rest): "kid:base64(32 bytes)" comma-separated,
# the last one encrypts, all of them decrypt.
SETTLEMENT_ENCRYPTION_KEYS = _secret("SETTLEMENT_ENCRYPTION_KEYS")
SETTLEMENT_BLIND_INDEX_KEY = _secret("SETTLEMENT_BLIND_INDEX_KEY")
# Ed25519 signing keys (spec/clearing.md §Signed cycle head): "kid:base64(32-byte seed)" comma-separated,
# the last one signs; all are published for verification.
CLEARING_SIGNING_KEY = _secret("CLEARING_SIGNING_KEY")

DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1" and not PRODUCTION
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "*").split(",") if h]
if PRODUCTION and not ALLOWED_HOSTS:
    _missing.append("DJANGO_ALLOWED_HOSTS")
if _missing:
    raise ImproperlyConfigured(keyfile.missing_settings_message(_missing))

# How core.auth finds clients and tokens without importing the app that owns them.
AUTH_LOADERS = {
    "client": "accounts.selectors.client_for_signature",
    "token": "accounts.selectors.api_token_by_hash",
    "acceptor_client": "cards.selectors.cards.acceptor_client_for_signature",
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "accounts",
    "settlement",
    "clearing",
    "cardholder",
    "gateway",
    "demo",  # the main job's command (manage.py demo)
    "bureau",
    "cards",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "core.observability.ObservabilityMiddleware",
    "core.headers.PrivacyHeadersMiddleware",
    # first after the request id: errors of the middlewares below are in the request's language
    # (it reads the language cookie and Accept-Language, not the session)
    "django.middleware.locale.LocaleMiddleware",
    "gateway.transport.GatewayMiddleware",  # serves /fsi/api/... itself, in the national envelope
    "core.middleware.NulGuardMiddleware",
    "core.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.admin_audit.AdminAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.ServiceUnavailableMiddleware",
    "core.replica.ReadYourWritesMiddleware",
]

# Staff sign-in (issue 10 §1): every door (API token, admin login) authenticates through the same
# backend and so the same lockout; setting a password revokes the user's tokens (audited); admin
# sessions last at most 12 h, like staff tokens.
AUTHENTICATION_BACKENDS = ["accounts.backends.LockoutModelBackend"]
AUTH_PASSWORD_VALIDATORS = [{"NAME": "accounts.passwords.RevokeTokensOnPasswordChange"}]
SESSION_COOKIE_AGE = 12 * 3600

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
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
            ]
        },
    }
]

# --- database -------------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(os.environ.get("SQLITE_PATH") or BASE_DIR / "var" / "kuasheng.sqlite3"),
            "OPTIONS": {
                "timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;",
            },
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
# A streaming replica for lag-tolerant reads (core/replica.py, docs/scaling.md §Read replica).
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL and IS_POSTGRES:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=60, conn_health_checks=True
    )
    DATABASES["replica"].setdefault("OPTIONS", {})["connect_timeout"] = 2  # s: a dead replica costs little
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["core.replica.PrimaryReplicaRouter"]
REPLICA_READ_YOUR_WRITES_SECONDS = int(os.environ.get("REPLICA_READ_YOUR_WRITES_SECONDS", "10"))
REPLICA_RETRY_SECONDS = int(os.environ.get("REPLICA_RETRY_SECONDS", "10"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache (nonces, throttles, lockouts) ----------------------------------------------------------


def _own_redis_db_per_test_worker(url: str) -> str:
    """``url`` with its database number moved up by 8N under pytest-xdist worker ``gwN`` (``make
    test`` runs two workers), so one worker's ``cache.clear()`` never wipes the other's nonces,
    throttles and lockouts; the servers a test starts inherit ``PYTEST_XDIST_WORKER`` and agree.
    Unchanged outside the test suite (the variable is unset) and for a URL without a database
    number. (The broker is not moved: the suite runs tasks eagerly, and a test that starts a real
    worker gives it a private broker; Celery reads ``CELERY_BROKER_URL`` from the environment.)"""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    match = re.fullmatch(r"(redis://[^/]*/)(\d+)", url)
    if not worker.startswith("gw") or match is None:
        return url
    db = int(match[2]) + 8 * int(worker[2:])  # far from the usual 0/1 broker/cache pair
    if db > 15:
        raise ImproperlyConfigured(f"REDIS_URL: test worker {worker} would need Redis database {db} "
                                   "(run at most 2 workers)")
    return f"{match[1]}{db}"


REDIS_URL = _own_redis_db_per_test_worker(os.environ.get("REDIS_URL", ""))
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    # Django's RedisCache, keeping one redis.Redis per pool (core/cache.py: not one per operation)
    CACHES = {"default": {"BACKEND": "core.cache.PooledRedisCache", "LOCATION": REDIS_URL}}
else:
    # Nonces, lockouts and throttles must never be evicted before they expire (a culled nonce is an
    # accepted replay). Django's database cache culls *live* entries once it holds MAX_ENTRIES (300
    # by default); with this bound it first deletes expired rows, and live ones would only be culled
    # past 5 million (≈ 8,000 signed requests/s sustained for the 600 s nonce window).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "kuasheng_cache",
            "OPTIONS": {"MAX_ENTRIES": 5_000_000},
        }
    }

# --- celery ---------------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_ENABLE_UTC = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Sized to the close task: above its hard time limit (660 s, clearing.tasks.CLOSE_LIMITS; the 10M-item
# close takes ~10 s), so a running close is never redelivered; a killed worker's close is resumed by
# the next beat run (every 5 min), the redelivery after 15 min then finds it closed.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "900")),
}
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", REDIS_URL or None)

# --- the close's parallel fold (clearing/services/fold.py, docs/scaling.md) ------------------------
CLEARING_CLOSE_WORKERS = int(os.environ.get("CLEARING_CLOSE_WORKERS", "0"))  # processes; 0: one per core
CLEARING_CLOSE_PARALLEL_MIN_ITEMS = int(os.environ.get("CLEARING_CLOSE_PARALLEL_MIN_ITEMS", "200000"))

# --- i18n / time ----------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
# Pages and problem+json follow Accept-Language (or the /i18n/setlang/ cookie); without one,
# zh-hans (docs/decisions.md §Languages). Catalogues in locale/, compiled .mo files committed.
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# Static files (the API docs' Swagger UI from drf-spectacular-sidecar, the cardholder pages) are
# served by the application itself, also under gunicorn and without DEBUG: no CDN, no extra server.
# Straight from the apps' folders, so no collectstatic step is needed.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # what collectstatic fills; WhiteNoise warns when absent

# --- limits (spec/security.md §Limits) -------------------------------------------------------------
MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_BODY_BYTES = 50 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BODY_BYTES
SIGNATURE_MAX_SKEW_SECONDS = 300
NONCE_TTL_SECONDS = 600
GATEWAY_THROTTLE_PER_MIN = int(os.environ.get("GATEWAY_THROTTLE_PER_MIN", "6000"))  # per x-tif-paasid
STAFF_TOKEN_TTL_HOURS = 12
CARDHOLDER_TOKEN_TTL_HOURS = 12

# Audit sealing (spec/security.md §Audit): beat seals every 5 s (config/celery.py) and every close
# seals first; ``verify_audit`` fails on unsealed records older than this (seconds).
AUDIT_UNSEALED_MAX_AGE_SECONDS = int(os.environ.get("AUDIT_UNSEALED_MAX_AGE_SECONDS", "60"))

# --- clearing rules (spec/clearing.md) -------------------------------------------------------------
LOW_PREFUND_RATIO = "0.30"
DISPUTE_WINDOW_DAYS = int(os.environ.get("DISPUTE_WINDOW_DAYS", "30"))
DISPUTE_RESOLUTION_DAYS = int(os.environ.get("DISPUTE_RESOLUTION_DAYS", "60"))

# --- social-security cards (spec/cards.md) ----------------------------------------------------------
CARD_TEMP_LOSS_TTL_DAYS = int(os.environ.get("CARD_TEMP_LOSS_TTL_DAYS", "7"))
CARD_TEMP_LOSS_TTL_DAYS_BY_PROVINCE: dict[str, int] = {}  # e.g. {"320000": 7}; default above
CARD_ACPT_SEQ_DIGITS = int(os.environ.get("CARD_ACPT_SEQ_DIGITS", "9"))  # 6 in the spec's examples
DENY_LIST_MAX_AGE = 24 * 3600  # seconds: a list expires this long after issue
DENY_LIST_RETENTION = 30 * 86400  # seconds: deltas from older versions → 410 delta_unavailable
ACCEPTANCE_MAX_AGE = 7 * 86400  # seconds: the upload window of an acceptance record

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.auth.SignedRequestAuthentication",
        "core.auth.BearerTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.permissions.DenyAll"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.StrictJSONParser"],
    "EXCEPTION_HANDLER": "core.errors.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.PrincipalRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"principal": os.environ.get("THROTTLE_RATE", "6000/min")},
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kuasheng clearing house API",
    "DESCRIPTION": "Cross-provincial medical-insurance settlement and clearing (spec: docs/architecture.md).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every "0"/"1" flag (acct_used_flag, stmt_rslt, …) shares one enum component.
    "ENUM_NAME_OVERRIDES": {"ZeroOneFlagEnum": ["0", "1"]},
}

# Logs (spec/operations.md §Observability): one JSON object per line with the request's id, principal
# and route, every string masked (core.logging); LOG_FORMAT=plain for a human-readable console.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "mask_pii": {"()": "core.logging.MaskPersonalDataFilter"},
        "request_context": {"()": "core.observability.RequestContextFilter"},
    },
    "formatters": {
        "json": {"()": "core.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain" if LOG_FORMAT == "plain" else "json",
            "filters": ["request_context", "mask_pii"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {
        "kuasheng": {"level": os.environ.get("LOG_LEVEL", "INFO"), "propagate": True},
        # One line per request; ACCESS_LOG_LEVEL=WARNING silences it (e.g. behind a proxy that logs).
        "kuasheng.http.access": {"level": os.environ.get("ACCESS_LOG_LEVEL", "INFO"), "propagate": True},
    },
}
# /metrics (spec/operations.md §Observability): clearing staff's bearer token, or this scrape token
# (``Authorization: Bearer <token>``) for Prometheus; unset = staff tokens only.
METRICS_SCRAPE_TOKEN = os.environ.get("METRICS_SCRAPE_TOKEN", "")

if PRODUCTION:
    SECURE_SSL_REDIRECT = os.environ.get("DJANGO_SECURE_SSL_REDIRECT", "1") == "1"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
