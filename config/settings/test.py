"""The test suite: base settings with fast password hashing and in-process events."""

from config.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests that need the real broker and worker opt in (marker `redis`); the rest run eagerly.
CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = True
EVENTS_BACKOFF_BASE_SECONDS = 0.0
EVENTS_EXTRA_HANDLER_MODULES = ["tests.platform_core.handlers"]
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

# Parallel runs on one server (several developers, or CI beside a dev run) need their own
# test database name.
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", "test_social_treasury")}  # noqa: F405

# Emulated peers of other agencies (never in production settings).
INSTALLED_APPS = [*INSTALLED_APPS, "emulators"]  # noqa: F405

PORTAL_DEMO_LOGIN = True
