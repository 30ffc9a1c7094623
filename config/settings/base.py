"""Settings shared by every environment. Every knob is read from the environment here, once.

Each variable is documented in the README with its default; the defaults are safe for the
embedded mode (one machine, no external services).
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


SECRET_KEY = env("DJANGO_SECRET_KEY", "insecure-embedded-demo-key-change-me-in-production")
DEBUG = env_bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

DATA_DIR = Path(env("PLATFORM_DATA_DIR", str(BASE_DIR / ".data")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "guardian",
    "simple_history",
    "django_htmx",
    "django_fsm",
    "platform_core",
    "registries",
    "integration",
    "measures",
    "treasury",
    "frontoffice",
    "contact_center",
    "insurers",
    "analytics",
]

# What every answer needs comes first; the middleware of people (sessions, CSRF, users...) comes
# after MachineEndpointMiddleware, which lets other systems' signed requests skip it. The
# locale no longer reads the session (Django 4.0), so it may precede SessionMiddleware.
MIDDLEWARE = [
    "config.middleware.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.MachineEndpointMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: DATABASE_URL when set (docker-compose, CI, production); otherwise the embedded
# PostgreSQL from the pgserver wheel. Never SQLite: the code relies on PostgreSQL.
DATABASE_URL = env("DATABASE_URL")
if not DATABASE_URL:
    from config.embedded import embedded_database_url

    DATABASE_URL = embedded_database_url(DATA_DIR / "pg")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "platform_core.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# Russian first, English available.
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "platform_core.api.FilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "platform_core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Social Treasury platform API",
    "DESCRIPTION": "Unified digital platform for the social sphere: registries, measures, "
    "payments. Every list is scoped to the caller's jurisdiction.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Closed government networks have no CDN: Swagger UI is served from our own static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set that several apps use.
    "ENUM_NAME_OVERRIDES": {
        "SexEnum": "registries.enums.Sex",
        "LifeEventKindEnum": "registries.enums.LifeEventKind",
        "StatusKindEnum": "registries.enums.StatusKind",
        "OrganisationKindEnum": "platform_core.enums.OrganisationKind",
        "DisabilityGroupEnum": "registries.enums.DisabilityGroup",
        "InboxStatusEnum": "integration.enums.InboxStatus",
        "DataKindEnum": "integration.enums.DataKind",
        "CaseStatusEnum": "measures.enums.CaseStatus",
        "DecisionOutcomeEnum": "measures.enums.DecisionOutcome",
        "AssignmentStatusEnum": "measures.enums.AssignmentStatus",
        "CaseEntryKindEnum": "measures.enums.CaseEntryKind",
        "TriggerKindEnum": "measures.enums.TriggerKind",
        "ChannelEnum": "measures.enums.Channel",
        "ComplaintKindEnum": "integration.enums.ComplaintKind",
        "ExchangeStatusEnum": "integration.enums.ExchangeStatus",
        "ComplaintStatusEnum": "integration.enums.ComplaintStatus",
        "PublicationStatusEnum": "integration.enums.PublicationStatus",
        "AttemptOutcomeEnum": "integration.enums.AttemptOutcome",
        "PaymentChannelEnum": "treasury.enums.PaymentChannel",
        "PaymentStatusEnum": "treasury.enums.PaymentStatus",
        "BatchStatusEnum": "treasury.enums.BatchStatus",
        "BudgetSourceEnum": "treasury.enums.BudgetSource",
    },
}

# Celery: with no broker configured, tasks run in-process (eager) so the demo works alone.
CELERY_TASK_ALWAYS_EAGER = not env("CELERY_BROKER_URL")
CELERY_BROKER_URL = env("CELERY_BROKER_URL") or "memory://"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "platform_core.*": {"queue": "events"},
    # Region-wide sweeps take seconds to minutes: apart, so they never delay event handlers.
    "measures.*": {"queue": "measures"},
    # Calls to other agencies wait on the network: apart, so a slow agency delays no handler.
    "integration.*": {"queue": "integration"},
    # E-mail and SMS wait on their servers: apart, so a slow gateway delays nothing else.
    "contact_center.*": {"queue": "notifications"},
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# How often beat dispatches committed events not dispatched yet: those published with
# dispatch_now=False, and any whose after-commit hook was lost in a crash.
OUTBOX_POLL_SECONDS = float(env("OUTBOX_POLL_SECONDS", "1"))
CELERY_BEAT_SCHEDULE = {
    "dispatch-outbox": {"task": "platform_core.dispatch_outbox", "schedule": OUTBOX_POLL_SECONDS},
    "redeliver-due": {"task": "platform_core.redeliver_due", "schedule": 30.0},
    "integration-due": {"task": "integration.run_due", "schedule": 5.0},
    "integration-purge": {"task": "integration.purge_answers", "schedule": 3600.0},
    # Notifications whose retry is due (and any whose after-commit task was lost).
    "notifications-due": {"task": "contact_center.send_due", "schedule": 30.0},
    # Ages reached and periods ended (idempotent per day, so running it hourly is harmless).
    "daily-milestones": {"task": "measures.daily_milestones", "schedule": 3600.0},
    # The month's payroll, once, from TREASURY_PAYROLL_DAY on.
    "monthly-payroll": {"task": "treasury.monthly_payroll", "schedule": 3600.0},
    # Approved batches to the bank and its statement back.
    "bank-exchange": {"task": "treasury.bank_exchange", "schedule": 600.0},
}

# The event bus: how often a failing handler is retried before it becomes a dead letter.
EVENTS_MAX_ATTEMPTS = int(env("EVENTS_MAX_ATTEMPTS", "6"))
EVENTS_BACKOFF_BASE_SECONDS = float(env("EVENTS_BACKOFF_BASE_SECONDS", "2"))
# How many dispatches and deliveries one bus task runs itself of the cascade its handler set
# off, before handing the rest to the broker (platform_core/bus.py); 0: each its own task.
EVENTS_CASCADE_LIMIT = int(env("EVENTS_CASCADE_LIMIT", "100"))
# How many events a batch handler (subscribed with batch=True) takes in one transaction.
EVENTS_BATCH_SIZE = int(env("EVENTS_BATCH_SIZE", "100"))
EVENTS_EXTRA_HANDLER_MODULES = env_list("EVENTS_EXTRA_HANDLER_MODULES", "")

# Integration: how old a signed request may be, and how many events one batch may carry.
INTEGRATION_SIGNATURE_MAX_AGE_SECONDS = int(env("INTEGRATION_SIGNATURE_MAX_AGE_SECONDS", "300"))
INTEGRATION_BATCH_MAX_EVENTS = int(env("INTEGRATION_BATCH_MAX_EVENTS", "1000"))
# Outbound (docs/peers.md): who the platform says it is, how long it waits for a provider,
# how it backs off, when a provider's circuit opens and for how long; a kind's port class.
INTEGRATION_PLATFORM_CODE = env("INTEGRATION_PLATFORM_CODE", "social-treasury")
INTEGRATION_HTTP_TIMEOUT_SECONDS = float(env("INTEGRATION_HTTP_TIMEOUT_SECONDS", "10"))
INTEGRATION_RETRY_BASE_SECONDS = float(env("INTEGRATION_RETRY_BASE_SECONDS", "5"))
INTEGRATION_RETRY_MAX_SECONDS = float(env("INTEGRATION_RETRY_MAX_SECONDS", "600"))
INTEGRATION_POLL_SECONDS = float(env("INTEGRATION_POLL_SECONDS", "5"))
INTEGRATION_CIRCUIT_FAILURES = int(env("INTEGRATION_CIRCUIT_FAILURES", "5"))
INTEGRATION_CIRCUIT_COOLDOWN_SECONDS = float(env("INTEGRATION_CIRCUIT_COOLDOWN_SECONDS", "30"))
INTEGRATION_DATA_PORTS: dict[str, str] = {}

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = DATA_DIR / "mail"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Социальное казначейство <no-reply@localhost>")

# Notifications of citizens (contact_center). The citizen portal's root: links in
# notifications point under it (an offer's one-click application: <root>/my/offers/<case>/).
PORTAL_BASE_URL = env("PORTAL_BASE_URL", "http://127.0.0.1:8000/portal")
# Where counters shared by every server process live (the portal's limits of attempts per
# client): Redis in a real deployment (CACHE_URL, e.g. redis://redis:6379/1), else this
# process's memory.
CACHE_URL = env("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# How many proxies of ours stand in front of the servers: a client's address is the one the
# outermost of them saw (X-Forwarded-For, counted from the right). 0: clients connect directly.
TRUSTED_PROXY_HOPS = int(env("TRUSTED_PROXY_HOPS", "0"))
# The portal's demo login (pick a seeded citizen): the embedded demo's; off where citizens log
# in through a real identity provider.
PORTAL_DEMO_LOGIN = env_bool("PORTAL_DEMO_LOGIN", False)
# The portal's login through an OpenID Connect identity provider (an ESIA-like one; the
# authorization code flow with PKCE, state and nonce: frontoffice/auth.py). Off unless the
# client id is set; then every endpoint but end-session is required. Read by
# mozilla-django-oidc under its own names.
OIDC_RP_CLIENT_ID = env("PORTAL_OIDC_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env("PORTAL_OIDC_CLIENT_SECRET")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("PORTAL_OIDC_AUTHORIZATION_URL")
OIDC_OP_TOKEN_ENDPOINT = env("PORTAL_OIDC_TOKEN_URL")
OIDC_OP_USER_ENDPOINT = env("PORTAL_OIDC_USERINFO_URL")
OIDC_OP_JWKS_ENDPOINT = env("PORTAL_OIDC_JWKS_URL")
OIDC_OP_LOGOUT_ENDPOINT = env("PORTAL_OIDC_END_SESSION_URL")  # optional
OIDC_OP_ISSUER = env("PORTAL_OIDC_ISSUER")  # the ID token's `iss` must equal it
OIDC_RP_SCOPES = env("PORTAL_OIDC_SCOPES", "openid snils")
OIDC_SNILS_CLAIM = env("PORTAL_OIDC_SNILS_CLAIM", "snils")  # ESIA writes 123-456-789 01
# The claim saying the account is confirmed (ESIA's "trusted"): it must be true; empty: none.
OIDC_TRUSTED_CLAIM = env("PORTAL_OIDC_TRUSTED_CLAIM", "trusted")
OIDC_RP_SIGN_ALGO = env("PORTAL_OIDC_SIGN_ALGO", "RS256")
# Seconds to connect to the provider, and to wait for each answer.
OIDC_TIMEOUT = (3.0, float(env("PORTAL_OIDC_TIMEOUT_SECONDS", "10")))
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_AUTHENTICATION_CALLBACK_URL = "frontoffice:oidc_callback"
if OIDC_RP_CLIENT_ID:
    _missing = [
        name
        for name, value in {
            "PORTAL_OIDC_CLIENT_SECRET": OIDC_RP_CLIENT_SECRET,
            "PORTAL_OIDC_AUTHORIZATION_URL": OIDC_OP_AUTHORIZATION_ENDPOINT,
            "PORTAL_OIDC_TOKEN_URL": OIDC_OP_TOKEN_ENDPOINT,
            "PORTAL_OIDC_USERINFO_URL": OIDC_OP_USER_ENDPOINT,
            "PORTAL_OIDC_JWKS_URL": OIDC_OP_JWKS_ENDPOINT,
            "PORTAL_OIDC_ISSUER": OIDC_OP_ISSUER,
        }.items()
        if not value
    ]
    if _missing:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "PORTAL_OIDC_CLIENT_ID is set, so these must be too: " + ", ".join(_missing)
        )
# The SMS gateway (docs/peers.md, "SMS gateway"); empty: SMS are skipped, with the reason.
# Requests are signed with its secret as every peer call is.
SMS_GATEWAY_URL = env("SMS_GATEWAY_URL", "")
SMS_GATEWAY_SECRET = env("SMS_GATEWAY_SECRET", "")
SMS_GATEWAY_TIMEOUT_SECONDS = float(env("SMS_GATEWAY_TIMEOUT_SECONDS", "10"))
# A failed e-mail or SMS is tried again after base x 2^(n-1) seconds (at most max), up to
# max attempts; a sending run holds a notification for the lease so no other run sends it.
# Treasury: the first month the platform pays (earlier months were paid by the systems it
# replaced), the day of the month payments go out, the day beat runs the month's payroll, and
# where payment files are written.
TREASURY_FIRST_PERIOD = env("TREASURY_FIRST_PERIOD", "2026-01-01")
TREASURY_PAY_DAY = int(env("TREASURY_PAY_DAY", "20"))
TREASURY_PAYROLL_DAY = int(env("TREASURY_PAYROLL_DAY", "15"))  # beat forms the month's batches
TREASURY_FILES_DIR = Path(env("TREASURY_FILES_DIR", str(DATA_DIR / "payments")))
# A report longer than this is refused as PDF (laid out in memory; CSV streams any length).
TREASURY_REPORT_PDF_MAX_ROWS = int(env("TREASURY_REPORT_PDF_MAX_ROWS", "20000"))
# The share of each payment an earlier overpayment may take back (the pension law's and the
# Labour Code's general limit: 20 per cent); the rest of it waits for later payments.
TREASURY_WITHHOLDING_PERCENT = Decimal(env("TREASURY_WITHHOLDING_PERCENT", "20"))

NOTIFICATIONS_MAX_ATTEMPTS = int(env("NOTIFICATIONS_MAX_ATTEMPTS", "6"))
NOTIFICATIONS_RETRY_BASE_SECONDS = float(env("NOTIFICATIONS_RETRY_BASE_SECONDS", "60"))
NOTIFICATIONS_RETRY_MAX_SECONDS = float(env("NOTIFICATIONS_RETRY_MAX_SECONDS", "3600"))
NOTIFICATIONS_LEASE_SECONDS = float(env("NOTIFICATIONS_LEASE_SECONDS", "120"))

# The platform's Ed25519 key that signs decisions (platform_core/signing.py); the demo makes
# one on first use, production must be given one.
PLATFORM_SIGNING_KEY_FILE = env(
    "PLATFORM_SIGNING_KEY_FILE", str(DATA_DIR / "keys" / "platform-ed25519.pem")
)
PLATFORM_SIGNING_KEY_CREATE = env("PLATFORM_SIGNING_KEY_CREATE", "true").lower() == "true"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # pgserver logs every process exit at INFO; only its warnings matter.
    "loggers": {"pgserver": {"level": "WARNING"}},
}
