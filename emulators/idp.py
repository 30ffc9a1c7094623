"""An emulated identity provider (ESIA-like, OpenID Connect) for the demo and the tests.

A small HTTP server of its own (`manage.py idp --port 8105`), apart from the peers of
docs/peers.md: a provider does not sign requests with HMAC, it signs ID tokens with an RSA
key whose public half it publishes. It serves the discovery document, the JWKS, /authorize
(a page where the tester picks a demo citizen or types a SNILS, then is sent back with a
code and the state), /token (client secret and PKCE verifier checked, a code used once),
/userinfo (the SNILS as ESIA writes it: 123-456-789 01) and /end-session. Its state lives in
memory behind one lock; it is a test and demo tool, never part of a real deployment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

CODE_SECONDS = 60
TOKEN_SECONDS = 600
MAX_BODY_BYTES = 64 * 1024
# What the authorization page carries from the client's request to the tester's answer.
REQUEST_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)


@dataclass(frozen=True)
class Citizen:
    """Someone the provider knows: a SNILS (or none), a name, and whether the account is
    confirmed (`trusted`, as ESIA says: the identity checked in person or by a signature)."""

    snils: str | None
    family_name: str
    given_name: str
    middle_name: str = ""
    trusted: bool = True

    @property
    def sub(self) -> str:
        """A stable subject id, derived from the SNILS (as a provider's own id would be)."""
        seed = self.snils or f"{self.family_name} {self.given_name} {self.middle_name}"
        return hashlib.sha256(f"idp-subject:{seed}".encode()).hexdigest()[:24]

    def claims(self) -> dict[str, Any]:
        found = {
            "sub": self.sub,
            "family_name": self.family_name,
            "given_name": self.given_name,
            "middle_name": self.middle_name,
            "trusted": self.trusted,
        }
        return found | ({"snils": self.snils} if self.snils else {})


# An account with no SNILS (the claim is missing from userinfo), not confirmed.
UNCONFIRMED = Citizen(None, "Без СНИЛС", "Учётная запись", "не подтверждена", trusted=False)


@dataclass
class Grant:
    citizen: Citizen
    client_id: str
    redirect_uri: str
    nonce: str
    challenge: str
    expires: float


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: int, document: Any, **headers: str) -> Reply:
    body = json.dumps(document, ensure_ascii=False).encode()
    return Reply(status, body, headers={"Cache-Control": "no-store", **headers})


def _redirect(url: str) -> Reply:
    return Reply(302, headers={"Location": url})


def _with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"


def snils_format(text: str) -> str | None:
    """Return a typed SNILS written as ESIA writes it (123-456-789 01), or None."""
    digits = re.sub(r"[\s-]", "", text or "")
    if not re.fullmatch(r"[0-9]{11}", digits):
        return None
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}"


def key_load(path: str | None) -> rsa.RSAPrivateKey:
    """Return the RSA key in a PEM file, or a new one when no file is given."""
    if not path:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} does not hold an RSA private key")
    return key


class IdentityProvider:
    """One client registered (id, secret, redirect URIs), one signing key, codes and tokens."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        key: rsa.RSAPrivateKey,
        citizens: Sequence[Citizen],
        redirect_uris: Sequence[str] = (),
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = key
        self.citizens = list(citizens)
        self.redirect_uris = tuple(redirect_uris)
        self.issuer = ""  # the server's URL, known once it listens
        self.lock = threading.Lock()
        self.codes: dict[str, Grant] = {}
        self.tokens: dict[str, tuple[Citizen, float]] = {}
        self.counts: dict[str, int] = {}
        public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        thumbprint = json.dumps(
            {k: public[k] for k in ("e", "kty", "n")}, sort_keys=True, separators=(",", ":")
        )
        self.kid = (
            base64.urlsafe_b64encode(hashlib.sha256(thumbprint.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        self.jwk = {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def jwks(self) -> Reply:
        self._count("jwks")
        return _json(200, {"keys": [self.jwk]})

    def _count(self, name: str) -> None:
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + 1

    def handle(self, method: str, target: str, headers: Any, body: bytes) -> Reply:
        """Answer one request."""
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        routes = {
            ("GET", "/.well-known/openid-configuration"): lambda: _json(200, self.discovery()),
            ("GET", "/jwks"): self.jwks,
            ("GET", "/authorize"): lambda: self.authorize(query, None),
            ("POST", "/authorize"): lambda: self.authorize(form, form),
            ("POST", "/token"): lambda: self.token(form, headers),
            ("GET", "/userinfo"): lambda: self.userinfo(headers),
            ("GET", "/end-session"): lambda: self.end_session(query),
            ("GET", "/_stats"): lambda: _json(200, dict(self.counts)),
        }
        route = routes.get((method, parts.path))
        if route is None:
            known = any(path == parts.path for _m, path in routes)
            return _json(405 if known else 404, {"error": "not_found"})
        return route()

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/end-session",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "snils", "fullname"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": [
                "sub",
                "snils",
                "family_name",
                "given_name",
                "middle_name",
                "trusted",
            ],
        }

    # /authorize

    def _redirect_allowed(self, uri: str) -> bool:
        if self.redirect_uris:
            return uri in self.redirect_uris
        return urlsplit(uri).scheme in ("http", "https") and bool(urlsplit(uri).netloc)

    def authorize(self, params: dict[str, str], answer: dict[str, str] | None) -> Reply:
        """The login page (GET), or the tester's answer to it (POST)."""
        self._count("authorize")
        if params.get("client_id") != self.client_id:
            return self._page(400, "Неизвестная информационная система (client_id).")
        redirect_uri = params.get("redirect_uri", "")
        if not self._redirect_allowed(redirect_uri):
            return self._page(400, "Адрес возврата (redirect_uri) не зарегистрирован.")
        state = params.get("state", "")

        def refuse(error: str) -> Reply:
            return _redirect(_with_query(redirect_uri, {"error": error, "state": state}))

        if params.get("response_type") != "code":
            return refuse("unsupported_response_type")
        if "openid" not in params.get("scope", "").split():
            return refuse("invalid_scope")
        if not state or not params.get("code_challenge"):
            return refuse("invalid_request")
        if params.get("code_challenge_method") != "S256":
            return refuse("invalid_request")
        if answer is None:
            return self._page(200, "", params)
        if answer.get("decision") != "allow":
            return refuse("access_denied")
        citizen = self._chosen(answer)
        if citizen is None:
            return self._page(400, "Введите СНИЛС: 11 цифр, например 112-233-445 95.", params)
        code = secrets.token_urlsafe(32)
        with self.lock:
            self.codes[code] = Grant(
                citizen=citizen,
                client_id=self.client_id,
                redirect_uri=redirect_uri,
                nonce=params.get("nonce", ""),
                challenge=params["code_challenge"],
                expires=time.time() + CODE_SECONDS,
            )
        return _redirect(_with_query(redirect_uri, {"code": code, "state": state}))

    def _chosen(self, answer: dict[str, str]) -> Citizen | None:
        who = answer.get("who", "")
        if who == "unconfirmed":
            return UNCONFIRMED
        if who in ("typed", "standard"):  # standard: a SNILS, but the account not confirmed
            snils = snils_format(answer.get("snils", ""))
            trusted = who == "typed"
            return None if snils is None else Citizen(snils, "Тестовый", "Гражданин", "", trusted)
        return next((c for c in self.citizens if c.snils and c.snils == who), None)

    def _page(self, status: int, problem: str, params: dict[str, str] | None = None) -> Reply:
        e = html.escape
        parts = [
            "<!doctype html><html lang='ru'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<title>Вход: единая система идентификации (эмулятор)</title></head><body>"
            "<h1>Единая система идентификации и аутентификации</h1>"
            "<p>Эмулятор для демонстрации и тестов: выберите, кто входит.</p>"
        ]
        if problem:
            parts.append(f"<p role='alert'>{e(problem)}</p>")
        if params is not None:
            parts.append("<form method='post' action='/authorize'>")
            parts += [
                f"<input type='hidden' name='{name}' value='{e(params.get(name, ''))}'>"
                for name in REQUEST_FIELDS
            ]
            for number, citizen in enumerate(self.citizens):
                name = f"{citizen.family_name} {citizen.given_name} {citizen.middle_name}"
                checked = " checked" if number == 0 else ""
                parts.append(
                    f"<p><input type='radio' name='who' id='c{number}' "
                    f"value='{e(citizen.snils or '')}'{checked}>"
                    f"<label for='c{number}'>{e(name)}, СНИЛС {e(citizen.snils or '')}</label></p>"
                )
            parts.append(
                "<p><input type='radio' name='who' id='typed' value='typed'>"
                "<label for='typed'>Другой гражданин, СНИЛС:</label> "
                "<input name='snils' inputmode='numeric' placeholder='123-456-789 01'></p>"
                "<p><input type='radio' name='who' id='standard' value='standard'>"
                "<label for='standard'>Тот же СНИЛС, учётная запись не подтверждена</label></p>"
                "<p><input type='radio' name='who' id='unconfirmed' value='unconfirmed'>"
                "<label for='unconfirmed'>Учётная запись без СНИЛС (не подтверждена)</label></p>"
                "<button type='submit' name='decision' value='allow'>Войти</button> "
                "<button type='submit' name='decision' value='deny'>Отказать</button></form>"
            )
        parts.append("</body></html>")
        return Reply(status, "".join(parts).encode(), "text/html; charset=utf-8")

    # /token, /userinfo, /end-session

    def token(self, form: dict[str, str], headers: Any) -> Reply:
        """Exchange a code for tokens: the client's secret, the code (once, in time, for
        this redirect URI) and the PKCE verifier are checked."""
        self._count("token")
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        basic = headers.get("Authorization", "")
        if basic.startswith("Basic "):
            try:
                client_id, _sep, secret = base64.b64decode(basic[6:]).decode().partition(":")
            except ValueError:
                client_id = secret = ""
        if client_id != self.client_id or not hmac.compare_digest(
            secret.encode(), self.client_secret.encode()
        ):
            self._count("token_refused")
            return _json(401, {"error": "invalid_client"})
        if form.get("grant_type") != "authorization_code":
            return _json(400, {"error": "unsupported_grant_type"})
        with self.lock:
            grant = self.codes.pop(form.get("code", ""), None)  # a code is used once
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if (
            grant is None
            or grant.expires < time.time()
            or grant.redirect_uri != form.get("redirect_uri")
            or not verifier
            or not hmac.compare_digest(challenge, grant.challenge)
        ):
            self._count("token_refused")
            return _json(400, {"error": "invalid_grant"})
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": grant.citizen.sub,
            "aud": self.client_id,
            "iat": now,
            "auth_time": now,
            "exp": now + TOKEN_SECONDS,
        } | ({"nonce": grant.nonce} if grant.nonce else {})
        id_token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})
        access_token = secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[access_token] = (grant.citizen, time.time() + TOKEN_SECONDS)
        return _json(
            200,
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": TOKEN_SECONDS,
                "id_token": id_token,
            },
        )

    def userinfo(self, headers: Any) -> Reply:
        self._count("userinfo")
        auth = headers.get("Authorization", "")
        with self.lock:
            found = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if found is None or found[1] < time.time():
            return _json(
                401,
                {"error": "invalid_token"},
                **{"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return _json(200, found[0].claims())

    def end_session(self, query: dict[str, str]) -> Reply:
        """End the citizen's session here and send them back where the client asked."""
        self._count("end_session")
        back = query.get("post_logout_redirect_uri", "")
        allowed = back and (
            not self.redirect_uris
            or any(_origin(back) == _origin(uri) for uri in self.redirect_uris)
        )
        if allowed and urlsplit(back).scheme in ("http", "https"):
            state = query.get("state")
            return _redirect(_with_query(back, {"state": state}) if state else back)
        return Reply(
            200,
            "<!doctype html><html lang='ru'><meta charset='utf-8'><p>Вы вышли.</p></html>".encode(),
            "text/html; charset=utf-8",
        )


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


class IdpServer(ThreadingHTTPServer):
    """A threading HTTP server answering with its provider; the issuer is its own URL unless
    one is given."""

    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], idp: IdentityProvider, *, issuer: str = "", verbosity=1
    ) -> None:
        self.idp = idp
        self.verbosity = verbosity
        super().__init__(address, _Handler)
        host, port = self.server_address[:2]
        idp.issuer = issuer.rstrip("/") or f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return f"{self.idp.issuer}/"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120
    server: IdpServer

    def do_GET(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True
            self._write(_json(413 if length > 0 else 400, {"error": "invalid_request"}))
            return
        body = self.rfile.read(length) if length else b""
        try:
            reply = self.server.idp.handle(self.command, self.path, self.headers, body)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            reply = _json(500, {"error": "server_error"})
        self._write(reply)

    do_POST = do_GET

    def _write(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbosity >= 2:
            super().log_message(format, *args)
