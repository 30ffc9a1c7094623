"""How a citizen logs in to the portal: through the identity provider (OpenID Connect, an
ESIA-like one) or, in the demo only, by picking a seeded citizen. Both end in
`citizen_login`: the registry's person, its `CitizenAccount` (made once by
`citizen_account_for`), and a new session key.

The protocol is mozilla-django-oidc's: its request view sends the citizen to the provider with
a random state, a nonce and a PKCE challenge kept in the session; its backend exchanges the
code (with the client secret and the PKCE verifier), checks the ID token's signature against
the provider's JWKS and its nonce, and reads the userinfo. Ours: the callback (so that every
refusal is a clear page, not the library's silent redirect or a 500), the ID token's claims
all required and checked by PyJWT (expiry, issue time, audience, issuer, subject, nonce), the
subject of the userinfo, a confirmed account (the trust claim), and matching the citizen by
the SNILS claim. The backend is called directly, not listed in AUTHENTICATION_BACKENDS, so no
other login form can reach it, and it lets in citizens' accounts only.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib.auth import login
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from frontoffice.models import CitizenAccount
from frontoffice.services import TooManyAttempts, attempt_count, citizen_account_for
from platform_core.enums import Role
from platform_core.errors import DomainError
from platform_core.validators import normalize_snils
from registries.models import Person

# The session keys: the ID token (for the provider's end-session call at logout).
ID_TOKEN = "portal_oidc_id_token"  # noqa: S105 (a session key, not a secret)
# Where the session keeps the state, nonce and PKCE verifier of logins started (the library's).
STATES = "oidc_states"
ERROR_CODE = re.compile(r"[a-z_]{1,40}")
# A login not finished within this many seconds of its start is refused (its state expired).
STATE_MAX_AGE_SECONDS = 600
LOGGER = logging.getLogger(__name__)


class TokenRejected(Exception):
    """The provider's answer is not a valid one for this client (raised past the library,
    which would turn a SuspiciousOperation into a silent refusal)."""


class LoginRefused(DomainError):
    """The identity provider vouched for someone the portal cannot let in."""

    status = 403
    code = "login_refused"


def oidc_enabled() -> bool:
    """Tell whether citizens log in through an identity provider (its client id is set)."""
    return bool(settings.OIDC_RP_CLIENT_ID)


# The ID token's claims that must be there (PyJWT checks each that it can).
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "nonce"]
# Clock difference tolerated between the provider and us.
LEEWAY_SECONDS = 30
# How long the provider's keys are kept before they are fetched again.
JWKS_CACHE_SECONDS = 3600


def client_address(request: HttpRequest) -> str:
    """The client's address: behind `TRUSTED_PROXY_HOPS` proxies of ours, the address the
    outermost of them saw (X-Forwarded-For, counted from the right: what a client writes
    there itself is to the left), else the connection's."""
    hops = settings.TRUSTED_PROXY_HOPS
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def attempt_from(request: HttpRequest, kind: str) -> None:
    """Count an attempt of a kind (a login, a certificate check) from the request's client;
    raises TooManyAttempts past the limit."""
    attempt_count(f"{kind}:{client_address(request)}")


def safe_next(request: HttpRequest, url: str | None) -> str:
    """Return url if it stays on this site, else the portal's first page."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return resolve_url("frontoffice:rights")


def citizen_login(request: HttpRequest, account: CitizenAccount) -> None:
    """Log a citizen in under a new session key (no fixation); sessions are checked by the
    model backend on every request, so a deactivated user is out at once."""
    login(request, account.user, backend="django.contrib.auth.backends.ModelBackend")


class CitizenOIDCBackend(OIDCAuthenticationBackend):
    """The library's code exchange and token checks; the citizen is found by the SNILS."""

    id_token: str | None = None

    def _verify_jws(self, payload: str, key: Any) -> dict[str, Any]:  # type: ignore[override]
        """The ID token's signature by the provider's key, with the one algorithm configured,
        and every claim of REQUIRED_CLAIMS present; expiry, audience and issuer checked.
        Raises TokenRejected or a PyJWTError (the library checks only the signature, and
        expiry only where there is one)."""
        algorithm = jwt.get_unverified_header(payload).get("alg")
        if algorithm != self.OIDC_RP_SIGN_ALGO:
            raise TokenRejected(f"The ID token is signed with {algorithm!r}.")
        return jwt.decode(
            payload,
            key,
            algorithms=[self.OIDC_RP_SIGN_ALGO],
            audience=settings.OIDC_RP_CLIENT_ID,
            issuer=settings.OIDC_OP_ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )

    def retrieve_matching_jwk(self, token: str) -> jwt.PyJWK:
        """The provider's key for the token, from its JWKS kept for JWKS_CACHE_SECONDS (one
        call fewer per login); fetched again at once for a key it does not hold (the provider
        rotated its keys). Raises SuspiciousOperation when none matches."""
        header = jwt.get_unverified_header(token)
        cache_key = f"portal-oidc-jwks:{self.OIDC_OP_JWKS_ENDPOINT}"
        jwks = cache.get(cache_key)
        key = _matching_key(jwks, header) if jwks else None
        if key is None:
            answer = requests.get(
                self.OIDC_OP_JWKS_ENDPOINT,
                verify=self.get_settings("OIDC_VERIFY_SSL", True),
                timeout=self.get_settings("OIDC_TIMEOUT", None),
            )
            answer.raise_for_status()
            jwks = answer.json()
            cache.set(cache_key, jwks, JWKS_CACHE_SECONDS)
            key = _matching_key(jwks, header)
        if key is None:
            raise SuspiciousOperation("No key of the provider's JWKS matches the ID token.")
        return jwt.PyJWK(key)

    def store_tokens(self, access_token: str, id_token: str) -> None:
        # Kept on the instance and put in the session only after the login succeeded: a
        # refused login leaves nothing behind.
        self.id_token = id_token

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]):  # type: ignore[no-untyped-def]
        """Return the user of the citizen the provider vouched for; raises LoginRefused or
        TokenRejected (a token not meant for us)."""
        subject = payload.get("sub")
        claims = self.get_userinfo(access_token, id_token, payload)
        if not isinstance(subject, str) or not subject or not isinstance(claims, dict):
            raise TokenRejected("The ID token or the userinfo has no subject.")
        if claims.get("sub") != subject:
            raise TokenRejected("The userinfo is about someone else than the ID token.")
        raw = claims.get(settings.OIDC_SNILS_CLAIM) or payload.get(settings.OIDC_SNILS_CLAIM)
        if not raw:
            raise LoginRefused(
                _(
                    "The identity provider did not give your SNILS. Confirm your account there "
                    "(or allow the portal to read your SNILS) and log in again."
                ),
                code="no_snils",
            )
        trusted = settings.OIDC_TRUSTED_CLAIM
        if trusted and claims.get(trusted, payload.get(trusted)) is not True:
            raise LoginRefused(
                _(
                    "Your account at the identity provider is not confirmed. Confirm it (at a "
                    "client office, or online with an electronic signature) and log in again: "
                    "the portal shows personal data and lets you change where payments go."
                ),
                code="not_trusted",
            )
        try:
            if not isinstance(raw, str):
                raise ValidationError("not a text")
            snils = normalize_snils(raw)
        except ValidationError:
            raise LoginRefused(
                _("The identity provider gave a SNILS that is not valid."), code="bad_snils"
            ) from None
        person = Person.objects.filter(snils=snils).first()
        if person is None:
            raise LoginRefused(
                _(
                    "No one with your SNILS (%(snils)s) is in the registry of social support "
                    "recipients yet. Ask a client office or the contact centre to register you."
                )
                % {"snils": snils},
                code="unknown_snils",
            )
        user = citizen_account_for(person).user
        if user.role != Role.CITIZEN or user.is_staff or user.is_superuser:
            raise LoginRefused(_("This login is not allowed."), code="not_a_citizen")
        return user


def _matching_key(jwks: Any, header: dict[str, Any]) -> dict[str, Any] | None:
    """The key of a JWKS for a token's header: its key id (unless OIDC_VERIFY_KID is off)
    and algorithm; the last that matches, as the library picks it."""
    found = None
    for key in jwks.get("keys", []) if isinstance(jwks, dict) else []:
        if getattr(settings, "OIDC_VERIFY_KID", True) and key.get("kid") != header.get("kid"):
            continue
        if "alg" in key and key["alg"] != header.get("alg"):
            continue
        found = key
    return found


class OIDCStart(OIDCAuthenticationRequestView):
    """Send the citizen to the identity provider (state, nonce and PKCE kept in the session)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not oidc_enabled():
            raise Http404
        return super().dispatch(request, *args, **kwargs)


oidc_start = OIDCStart.as_view()


def _refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(
        request,
        "frontoffice/login_failed.html",
        {"message": message, "oidc": oidc_enabled(), "demo": settings.PORTAL_DEMO_LOGIN},
        status=status,
    )


@require_GET
def oidc_callback(request: HttpRequest) -> HttpResponse:
    """Where the identity provider sends the citizen back: check the state, exchange the code,
    find the citizen, log in. Every refusal is a page saying why, with a 4xx (503 when the
    provider does not answer), and writes nothing but the state it used up."""
    if not oidc_enabled():
        raise Http404
    try:
        attempt_from(request, "login")
    except TooManyAttempts as exc:
        return _refused(request, str(exc.message), 429)
    state = request.GET.get("state", "")
    started = request.session.get(STATES) or {}
    entry = started.pop(state, None) if state else None
    if entry is not None:  # used up whatever happens next: a replay finds nothing
        request.session[STATES] = started
    error = request.GET.get("error")
    if error:
        if error == "access_denied":
            return _refused(
                request, _("You did not allow the login at the identity provider."), 403
            )
        code = error if ERROR_CODE.fullmatch(error) else "?"
        return _refused(
            request,
            _("The identity provider refused the login (%(code)s). Try again later.")
            % {"code": code},
            400,
        )
    if not request.GET.get("code") or not state:
        return _refused(
            request,
            _("The identity provider's answer is incomplete. Start the login again."),
            400,
        )
    if entry is None or time.time() - entry.get("added_on", 0) > STATE_MAX_AGE_SECONDS:
        LOGGER.warning("Portal login refused: a state not started in this session, or expired")
        return _refused(
            request,
            _(
                "This login was not started in this browser, or it has expired. Start the "
                "login again."
            ),
            400,
        )
    backend = CitizenOIDCBackend()
    try:
        user = backend.authenticate(
            request, nonce=entry.get("nonce"), code_verifier=entry.get("code_verifier")
        )
    except LoginRefused as exc:
        LOGGER.warning("Portal login refused: %s", exc.code)
        return _refused(request, str(exc.message), exc.status)
    except requests.HTTPError as exc:
        answered = exc.response.status_code if exc.response is not None else 500
        LOGGER.warning("Portal login refused: the identity provider answered %s", answered)
        if answered >= 500:
            return _refused(request, _unavailable(), 503)
        return _refused(
            request,
            _("The identity provider did not accept the login. Start the login again."),
            400,
        )
    except (TokenRejected, SuspiciousOperation, jwt.PyJWTError, requests.JSONDecodeError) as exc:
        LOGGER.warning("Portal login refused: %s", exc)
        return _refused(request, _unverified(), 400)
    except requests.RequestException as exc:  # not reached or timed out
        LOGGER.warning("Portal login: the identity provider does not answer: %s", exc)
        return _refused(request, _unavailable(), 503)
    except (KeyError, AttributeError, TypeError, ValueError):
        # An answer not shaped as the protocol says (a token response without its fields, a
        # JWKS without keys...): the provider's fault, told as such; logged whole in case it
        # is ours.
        LOGGER.exception("Portal login refused: a malformed answer of the identity provider")
        return _refused(request, _unverified(), 400)
    if user is None or not user.is_active:
        # The library refuses silently what it finds suspicious in the userinfo.
        LOGGER.warning("Portal login refused: no active user for the provider's answer")
        return _refused(request, _("This login is not allowed."), 403)
    next_url = request.session.pop("oidc_login_next", None)
    citizen_login(request, user.citizen)
    request.session[ID_TOKEN] = backend.id_token
    return redirect(safe_next(request, next_url))


def _unverified() -> str:
    return _("The identity provider's answer could not be verified. Start the login again.")


def _unavailable() -> str:
    return _("The identity provider does not answer. Try again in a few minutes.")


def end_session_url(request: HttpRequest, id_token: str | None) -> str | None:
    """Return the provider's end-session address for a citizen who logged in through it, to
    come back to the portal's login page; None when there is none to call."""
    if not (oidc_enabled() and settings.OIDC_OP_LOGOUT_ENDPOINT and id_token):
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": settings.OIDC_RP_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("frontoffice:login")),
        }
    )
    return f"{settings.OIDC_OP_LOGOUT_ENDPOINT}?{query}"
