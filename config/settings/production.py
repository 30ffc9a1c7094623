"""A real deployment (docker-compose or beyond): secure defaults, external services required."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import env, env_bool, env_list

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY or SECRET_KEY.startswith("insecure"):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a long random value.")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost")

SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(env("DJANGO_SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))

# Counters every server process shares (the portal's attempt limits): never per process.
if not CACHE_URL:  # noqa: F405
    raise ImproperlyConfigured("CACHE_URL must name a Redis database, e.g. redis://redis:6379/1.")
# Citizens log in through the identity provider only, over TLS.
if PORTAL_DEMO_LOGIN:  # noqa: F405
    raise ImproperlyConfigured("PORTAL_DEMO_LOGIN lets anyone in as a demo citizen: not here.")
_plain_http = [
    url
    for url in (
        OIDC_OP_AUTHORIZATION_ENDPOINT,  # noqa: F405
        OIDC_OP_TOKEN_ENDPOINT,  # noqa: F405
        OIDC_OP_USER_ENDPOINT,  # noqa: F405
        OIDC_OP_JWKS_ENDPOINT,  # noqa: F405
        OIDC_OP_LOGOUT_ENDPOINT,  # noqa: F405
    )
    if url and not url.startswith("https://")
]
if _plain_http:
    raise ImproperlyConfigured(
        "The identity provider's endpoints must be https: " + ", ".join(_plain_http)
    )

# A decision is signed with a key the operators keep, never one made on the fly.
PLATFORM_SIGNING_KEY_CREATE = False
