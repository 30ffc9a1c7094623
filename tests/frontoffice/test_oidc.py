"""The portal's login through an identity provider (OpenID Connect, ESIA-like): the emulated
provider runs as a separate process (`manage.py idp --port 0`) and is spoken to over real HTTP,
by the portal (code exchange, JWKS, userinfo) and by the test as the citizen's browser (its
login page). The citizen lands on "my rights" as themselves; every tampered or failed login
is a clear page with its status, and writes nothing."""

from __future__ import annotations

import html
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model

from frontoffice.auth import (
    ID_TOKEN,
    STATE_MAX_AGE_SECONDS,
    STATES,
    CitizenOIDCBackend,
    LoginRefused,
    TokenRejected,
)
from frontoffice.models import CitizenAccount
from frontoffice.services import ATTEMPTS, citizen_account_for
from platform_core.validators import snils_from_number
from registries.models import Person
from tests.peers import peer_stop
from tests.registries.factories import PersonFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "social-treasury-portal"
SECRET = "oidc-test-secret"
CALLBACK = "http://testserver/portal/oidc/callback/"
SNILS = snils_from_number(123_456_789)  # 123-456-789 ..
STRANGER = snils_from_number(987_654_321)  # valid, but nobody of the registry


def idp_start(*extra: str) -> tuple[subprocess.Popen[str], str]:
    """Start `manage.py idp --port 0` and return the process and its base URL."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", "idp", "--port", "0", "--client-secret", SECRET, *extra],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            found = re.search(r"http://\S+/", lines.get(timeout=0.1))
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        if found:
            return process, found.group(0)
    process.kill()
    process.wait()
    raise RuntimeError("the emulated identity provider did not start")


@pytest.fixture(scope="module")
def idp() -> Iterator[str]:
    process, url = idp_start("--redirect-uri", CALLBACK)
    yield url
    peer_stop(process)


@pytest.fixture(scope="module")
def other_idp() -> Iterator[str]:
    """Another provider, with a key of its own: its JWKS cannot check the first one's tokens."""
    process, url = idp_start()
    yield url
    peer_stop(process)


@pytest.fixture
def oidc(settings, idp) -> str:
    """The portal configured for the emulated provider, the demo login off."""
    settings.PORTAL_DEMO_LOGIN = False
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = SECRET
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{idp}authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{idp}token"
    settings.OIDC_OP_USER_ENDPOINT = f"{idp}userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{idp}jwks"
    settings.OIDC_OP_LOGOUT_ENDPOINT = f"{idp}end-session"
    settings.OIDC_OP_ISSUER = idp.rstrip("/")
    return idp


@pytest.fixture
def citizen(region_27) -> Person:
    return PersonFactory(snils=SNILS, last_name="Соколова", first_name="Анна", sex="F")


def at_provider(client, idp: str, *, next_url: str = "", **answer: str) -> str:  # type: ignore[no-untyped-def]
    """Start the login, answer the provider's page as the citizen would, and return the
    address the provider sends the browser back to."""
    start = client.get("/portal/oidc/start/" + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302
    asked = start["Location"]
    assert asked.startswith(f"{idp}authorize?")
    query = parse_qs(urlsplit(asked).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    page = requests.get(asked, timeout=10)
    assert page.status_code == 200, page.text
    form = {
        name: html.unescape(value)
        for name, value in re.findall(r"type='hidden' name='(\w+)' value='([^']*)'", page.text)
    }
    form |= {"decision": "allow"} | answer
    back = requests.post(f"{idp}authorize", data=form, allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text
    return back.headers["Location"]


def callback(client, back: str, **headers: str):  # type: ignore[no-untyped-def]
    assert back.startswith(CALLBACK), back
    return client.get(back.removeprefix("http://testserver"), **headers)


def test_a_citizen_logs_in_through_the_provider_and_lands_on_their_rights(client, oidc, citizen):
    back = at_provider(client, oidc, who="typed", snils=SNILS.replace("-", "").replace(" ", ""))
    before = client.session.session_key
    landed = callback(client, back)
    assert landed.status_code == 302
    assert landed["Location"] == "/portal/my/"
    assert client.session.session_key != before  # rotated at login: no fixation
    account = CitizenAccount.objects.get(person=citizen)
    assert int(client.session["_auth_user_id"]) == account.user_id
    assert client.session[ID_TOKEN].count(".") == 2  # kept for the end-session call
    rights = client.get("/portal/my/")
    assert rights.status_code == 200
    assert "Соколова Анна" in rights.content.decode()
    # A second login finds the same account, not a new one.
    client.post("/portal/logout/")
    callback(client, at_provider(client, oidc, who="typed", snils=SNILS))
    assert CitizenAccount.objects.filter(person=citizen).count() == 1
    assert int(client.session["_auth_user_id"]) == account.user_id


def test_the_login_page_offers_the_provider_and_the_demo_only_where_configured(
    client, settings, oidc, citizen
):
    demo = citizen_account_for(citizen, demo=True)
    page = client.get("/portal/login/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Войти через единую систему идентификации" in text
    assert f'value="{demo.pk}"' not in text  # no demo citizens without PORTAL_DEMO_LOGIN
    assert client.post("/portal/login/", {"account": demo.pk}).status_code == 404
    english = client.get("/portal/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Log in through the unified identification system" in english

    settings.PORTAL_DEMO_LOGIN = True
    text = client.get("/portal/login/").content.decode()
    assert "Войти через единую систему идентификации" in text
    assert f'value="{demo.pk}"' in text

    settings.OIDC_RP_CLIENT_ID = ""
    text = client.get("/portal/login/").content.decode()
    assert "Войти через единую систему идентификации" not in text
    assert client.get("/portal/oidc/start/").status_code == 404
    assert client.get("/portal/oidc/callback/?code=x&state=y").status_code == 404
    settings.PORTAL_DEMO_LOGIN = False
    assert client.get("/portal/login/").status_code == 404


def _nothing_written(users_before: int) -> None:
    assert CitizenAccount.objects.count() == 0
    assert get_user_model().objects.count() == users_before


def test_an_unknown_snils_is_a_clear_403_and_writes_nothing(client, oidc, citizen):
    users = get_user_model().objects.count()
    refused = callback(client, at_provider(client, oidc, who="typed", snils=STRANGER))
    assert refused.status_code == 403
    text = refused.content.decode()
    assert "Не удалось войти" in text
    assert f"Человека с вашим СНИЛС ({STRANGER})" in text
    assert "_auth_user_id" not in client.session
    _nothing_written(users)
    english = callback(
        client,
        at_provider(client, oidc, who="typed", snils=STRANGER),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert english.status_code == 403
    assert "No one with your SNILS" in english.content.decode()


def test_an_account_without_a_snils_is_a_clear_403(client, oidc, citizen):
    users = get_user_model().objects.count()
    refused = callback(client, at_provider(client, oidc, who="unconfirmed"))
    assert refused.status_code == 403
    assert "не передала ваш СНИЛС" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    _nothing_written(users)


def test_a_wrong_or_replayed_state_is_a_clear_400(client, oidc, citizen):
    back = at_provider(client, oidc, who="typed", snils=SNILS)
    tampered = re.sub(r"state=[^&]+", "state=forged", back)
    refused = callback(client, tampered)
    assert refused.status_code == 400
    assert "вход был начат не в этом браузере" in refused.content.decode()
    # Someone else's code and state, in another browser (a login CSRF), are refused too.
    from django.test import Client

    assert callback(Client(), back).status_code == 400
    assert callback(client, back).status_code == 302  # the right one still works once
    client.post("/portal/logout/")
    replayed = callback(client, back)  # its state was used up
    assert replayed.status_code == 400
    assert "_auth_user_id" not in client.session
    assert callback(client, CALLBACK + "?state=only").status_code == 400


def test_a_refusal_at_the_provider_is_a_clear_page(client, oidc, citizen):
    denied = callback(client, at_provider(client, oidc, decision="deny"))
    assert denied.status_code == 403
    assert "Вы не разрешили вход" in denied.content.decode()
    odd = callback(client, CALLBACK + "?error=<script>&error_description=call+me")
    assert odd.status_code == 400
    assert "<script>" not in odd.content.decode() and "call me" not in odd.content.decode()
    assert CitizenAccount.objects.count() == 0


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_provider_that_does_not_answer_is_a_clear_503_and_writes_nothing(
    client, settings, oidc, citizen
):
    users = get_user_model().objects.count()
    back = at_provider(client, oidc, who="typed", snils=SNILS)
    settings.OIDC_OP_TOKEN_ENDPOINT = f"http://127.0.0.1:{_closed_port()}/token"
    down = callback(client, back)
    assert down.status_code == 503
    assert "Система идентификации не отвечает" in down.content.decode()
    assert "_auth_user_id" not in client.session
    _nothing_written(users)


def test_a_token_the_providers_key_did_not_sign_is_refused(
    client, settings, oidc, other_idp, citizen
):
    settings.OIDC_OP_JWKS_ENDPOINT = f"{other_idp}jwks"
    refused = callback(client, at_provider(client, oidc, who="typed", snils=SNILS))
    assert refused.status_code == 400
    assert "не удалось проверить" in refused.content.decode()
    # The same with the key id ignored: the signature itself is checked and fails.
    settings.OIDC_VERIFY_KID = False
    refused = callback(client, at_provider(client, oidc, who="typed", snils=SNILS))
    assert refused.status_code == 400
    assert "_auth_user_id" not in client.session
    assert CitizenAccount.objects.count() == 0


def test_the_pkce_verifier_and_the_client_secret_are_checked_by_the_provider(
    client, settings, oidc, citizen
):
    back = at_provider(client, oidc, who="typed", snils=SNILS)
    session = client.session
    state = parse_qs(urlsplit(back).query)["state"][0]
    started = session[STATES]
    started[state]["code_verifier"] = "x" * 64  # not the one the challenge was made from
    session[STATES] = started
    session.save()
    assert callback(client, back).status_code == 400
    settings.OIDC_RP_CLIENT_SECRET = "wrong"
    assert callback(client, at_provider(client, oidc, who="typed", snils=SNILS)).status_code == 400
    counted = requests.get(f"{oidc}_stats", timeout=10).json()
    assert counted["token_refused"] >= 2
    assert CitizenAccount.objects.count() == 0


def test_a_token_from_another_issuer_is_refused(client, settings, oidc, citizen):
    back = at_provider(client, oidc, who="typed", snils=SNILS)
    settings.OIDC_OP_ISSUER = "https://esia.gosuslugi.ru/"
    assert callback(client, back).status_code == 400
    assert CitizenAccount.objects.count() == 0


def test_logout_ends_the_session_here_and_at_the_provider(client, oidc, citizen):
    callback(client, at_provider(client, oidc, who="typed", snils=SNILS))
    out = client.post("/portal/logout/")
    assert out.status_code == 302
    ending = out["Location"]
    assert ending.startswith(f"{oidc}end-session?")
    assert parse_qs(urlsplit(ending).query)["id_token_hint"]
    assert client.get("/portal/my/")["Location"].startswith("/portal/login/")
    back = requests.get(ending, allow_redirects=False, timeout=10)
    assert back.status_code == 302
    assert back.headers["Location"] == "http://testserver/portal/login/"


def test_next_stays_on_the_site(client, settings, oidc, citizen):
    landed = callback(
        client,
        at_provider(client, oidc, next_url="https://evil.example/", who="typed", snils=SNILS),
    )
    assert landed["Location"] == "/portal/my/"
    client.post("/portal/logout/")
    landed = callback(
        client, at_provider(client, oidc, next_url="/portal/my/cases/", who="typed", snils=SNILS)
    )
    assert landed["Location"] == "/portal/my/cases/"
    # The demo login keeps its next on the site too.
    settings.PORTAL_DEMO_LOGIN = True
    client.post("/portal/logout/")
    demo = citizen_account_for(citizen, demo=True)
    answer = client.post("/portal/login/", {"account": demo.pk, "next": "https://evil.example/"})
    assert answer["Location"] == "/portal/my/"


def test_the_snils_claim_is_read_in_any_usual_form(rf, settings, oidc, citizen):
    """ESIA writes 123-456-789 01; digits alone or with other spacing find the same person."""
    backend = CitizenOIDCBackend()
    payload = {"sub": "s1", "aud": CLIENT_ID, "iss": oidc.rstrip("/")}
    for written in (SNILS, SNILS.replace("-", "").replace(" ", ""), f" {SNILS.replace(' ', '-')} "):
        with mock.patch.object(
            backend, "get_userinfo", return_value={"sub": "s1", "snils": written, "trusted": True}
        ):
            user = backend.get_or_create_user("access", "id", payload)
        assert user.citizen.person == citizen
    # A SNILS with a wrong checksum, or not written as text (a number, a list), is refused.
    for wrong in ("12345", int(SNILS.replace("-", "").replace(" ", "")), [SNILS]):
        with (
            mock.patch.object(
                backend,
                "get_userinfo",
                return_value={"sub": "s1", "snils": wrong, "trusted": True},
            ),
            pytest.raises(LoginRefused) as refused,
        ):
            backend.get_or_create_user("access", "id", payload)
        assert refused.value.code == "bad_snils"
    for claims, problem in (
        ({"sub": "s2", "snils": SNILS, "trusted": True}, "someone else"),
        ({"snils": SNILS, "trusted": True}, "someone else"),
    ):
        with (
            mock.patch.object(backend, "get_userinfo", return_value=claims),
            pytest.raises(TokenRejected, match=problem),
        ):
            backend.get_or_create_user("access", "id", payload)
    # No subject on either side is no match ("None == None").
    with (
        mock.patch.object(backend, "get_userinfo", return_value={"snils": SNILS, "trusted": True}),
        pytest.raises(TokenRejected, match="no subject"),
    ):
        backend.get_or_create_user("access", "id", {k: v for k, v in payload.items() if k != "sub"})
    assert CitizenAccount.objects.count() == 1  # the first lookups' one, and no other


def test_a_login_left_too_long_or_a_malformed_answer_is_a_clear_400(client, oidc, citizen):
    back = at_provider(client, oidc, who="typed", snils=SNILS)
    session = client.session
    started = session[STATES]
    state = parse_qs(urlsplit(back).query)["state"][0]
    started[state]["added_on"] -= STATE_MAX_AGE_SECONDS + 1
    session[STATES] = started
    session.save()
    assert callback(client, back).status_code == 400
    for answer in ({"access_token": "a"}, ["not", "an", "object"]):
        back = at_provider(client, oidc, who="typed", snils=SNILS)
        with mock.patch.object(CitizenOIDCBackend, "get_token", return_value=answer):
            refused = callback(client, back)
        assert refused.status_code == 400
        assert "не удалось проверить" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    assert CitizenAccount.objects.count() == 0


def test_callbacks_are_rate_limited_per_address(client, oidc, citizen):
    for _ in range(ATTEMPTS):
        assert callback(client, CALLBACK + "?code=guess&state=guess").status_code == 400
    refused = callback(client, at_provider(client, oidc, who="typed", snils=SNILS))
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_emulated_provider_refuses_what_a_real_one_would(idp):
    discovery = requests.get(f"{idp}.well-known/openid-configuration", timeout=10).json()
    assert discovery["token_endpoint"] == f"{idp}token"
    assert requests.get(f"{idp}jwks", timeout=10).json()["keys"][0]["alg"] == "RS256"
    asked = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": CALLBACK,
        "scope": "openid snils",
        "state": "s1",
        "nonce": "n1",
        "code_challenge": "c" * 43,
        "code_challenge_method": "S256",
    }
    unknown = requests.get(f"{idp}authorize", params=asked | {"client_id": "x"}, timeout=10)
    assert unknown.status_code == 400 and "client_id" in unknown.text
    elsewhere = asked | {"redirect_uri": "https://evil.example/cb"}
    assert requests.get(f"{idp}authorize", params=elsewhere, timeout=10).status_code == 400
    no_pkce = {k: v for k, v in asked.items() if k != "code_challenge"}
    sent_back = requests.get(f"{idp}authorize", params=no_pkce, allow_redirects=False, timeout=10)
    assert sent_back.status_code == 302
    assert "error=invalid_request" in sent_back.headers["Location"]
    typo = requests.post(
        f"{idp}authorize", data=asked | {"decision": "allow", "who": "typed", "snils": "12"}
    )
    assert typo.status_code == 400 and "СНИЛС" in typo.text
    wrong_client = requests.post(
        f"{idp}token",
        data={"grant_type": "authorization_code", "code": "x", "client_id": CLIENT_ID},
        auth=(CLIENT_ID, "not-the-secret"),
        timeout=10,
    )
    assert wrong_client.status_code == 401
    assert wrong_client.json() == {"error": "invalid_client"}
    assert requests.get(f"{idp}userinfo", headers={"Authorization": "Bearer x"}).status_code == 401


def test_an_account_not_confirmed_at_the_provider_is_a_clear_403(client, oidc, citizen):
    """A SNILS of the registry, but an account whose identity the provider never checked:
    such an account could change where the citizen's payments go."""
    users = get_user_model().objects.count()
    refused = callback(client, at_provider(client, oidc, who="standard", snils=SNILS))
    assert refused.status_code == 403
    assert "учётная запись в системе идентификации не подтверждена" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    _nothing_written(users)


def _signed(key, **claims):  # type: ignore[no-untyped-def]
    import jwt

    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


def test_every_claim_of_the_id_token_is_required_and_checked(settings, oidc):
    """The library checks the signature, and expiry only where there is one; ours requires
    expiry, issue time, issuer, audience, subject and nonce, and checks each."""
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = private.public_key()
    now = int(time.time())
    good = {
        "iss": settings.OIDC_OP_ISSUER,
        "aud": CLIENT_ID,
        "sub": "s1",
        "nonce": "n1",
        "iat": now,
        "exp": now + 300,
    }
    backend = CitizenOIDCBackend()
    assert backend._verify_jws(_signed(private, **good), public)["sub"] == "s1"
    for name in ("exp", "iat", "iss", "aud", "sub", "nonce"):
        without = {k: v for k, v in good.items() if k != name}
        with pytest.raises(jwt.MissingRequiredClaimError):
            backend._verify_jws(_signed(private, **without), public)
    for wrong, error in (
        ({"exp": now - 3600}, jwt.ExpiredSignatureError),
        ({"aud": "another-portal"}, jwt.InvalidAudienceError),
        ({"aud": ["another-portal", "and-another"]}, jwt.InvalidAudienceError),
        ({"iss": "https://esia.gosuslugi.ru/"}, jwt.InvalidIssuerError),
    ):
        with pytest.raises(error):
            backend._verify_jws(_signed(private, **(good | wrong)), public)
    # Another signature scheme is refused whatever the key: no "none", no HS256 made with
    # the provider's public key as the secret.
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    unsigned = jwt.encode(good, None, algorithm="none")
    forged = _hs256(good, secret=pem)  # what a careless verifier would accept
    for token in (unsigned, forged):
        with pytest.raises(TokenRejected, match="signed with"):
            backend._verify_jws(token, public)


def _hs256(claims: dict, *, secret: bytes) -> str:
    """An HS256 token made by hand (PyJWT refuses to use a public key as an HMAC secret)."""
    import base64
    import hashlib
    import hmac
    import json

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing = (
        part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
        + "."
        + part(json.dumps(claims).encode())
    )
    signature = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{part(signature)}"


def test_the_client_address_is_the_one_our_proxy_saw(rf, settings):
    from frontoffice.auth import client_address

    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert client_address(request) == "10.0.0.2"  # no proxy of ours: the header is anyone's
    settings.TRUSTED_PROXY_HOPS = 1
    assert client_address(request) == "203.0.113.7"  # what the client wrote itself is ignored
    settings.TRUSTED_PROXY_HOPS = 3  # fewer hops than said: the connection's address
    assert client_address(request) == "10.0.0.2"


def test_behind_a_proxy_each_citizen_has_a_limit_of_their_own(client, settings, oidc, citizen):
    settings.TRUSTED_PROXY_HOPS = 1
    for _ in range(ATTEMPTS + 1):  # someone else, behind the same proxy, guessing
        callback(client, CALLBACK + "?code=guess&state=guess", HTTP_X_FORWARDED_FOR="6.6.6.6")
    landed = callback(
        client,
        at_provider(client, oidc, who="typed", snils=SNILS),
        HTTP_X_FORWARDED_FOR="203.0.113.7",
    )
    assert landed.status_code == 302
    assert client.session["_auth_user_id"]


def test_a_staff_account_never_logs_in_through_the_provider(oidc, citizen):
    account = citizen_account_for(citizen)
    account.user.is_staff = True
    account.user.save(update_fields=["is_staff"])
    backend = CitizenOIDCBackend()
    with (
        mock.patch.object(
            backend, "get_userinfo", return_value={"sub": "s1", "snils": SNILS, "trusted": True}
        ),
        pytest.raises(LoginRefused) as refused,
    ):
        backend.get_or_create_user("access", "id", {"sub": "s1"})
    assert refused.value.code == "not_a_citizen"


def test_an_answer_that_is_not_json_is_a_clear_400(client, oidc, citizen):
    back = at_provider(client, oidc, who="typed", snils=SNILS)
    broken = requests.JSONDecodeError("Expecting value", "<html>", 0)
    with mock.patch.object(CitizenOIDCBackend, "get_token", side_effect=broken):
        refused = callback(client, back)
    assert refused.status_code == 400
    assert "не удалось проверить" in refused.content.decode()
    assert CitizenAccount.objects.count() == 0


def test_a_demo_login_with_a_malformed_account_is_a_clear_400(client, settings, citizen):
    settings.PORTAL_DEMO_LOGIN = True
    citizen_account_for(citizen, demo=True)
    for account in ("abc", "²", "9" * 40, ""):
        answer = client.post("/portal/login/", {"account": account})
        assert answer.status_code == 400
        assert "_auth_user_id" not in client.session


def test_the_providers_keys_are_kept_and_fetched_again_when_it_rotates_them(
    client, settings, oidc, other_idp, citizen
):
    """One JWKS call for many logins; a token signed by a key the kept JWKS does not hold
    (the provider rotated its keys) makes it fetch them again at once."""

    def jwks_calls() -> int:
        return requests.get(f"{oidc}_stats", timeout=10).json().get("jwks", 0)

    before = jwks_calls()
    for _ in range(3):
        assert (
            callback(client, at_provider(client, oidc, who="typed", snils=SNILS)).status_code == 302
        )
        client.post("/portal/logout/")
    assert jwks_calls() == before + 1
    from django.core.cache import cache

    # The kept keys are another provider's: the token's key is not among them.
    cache.set(
        f"portal-oidc-jwks:{settings.OIDC_OP_JWKS_ENDPOINT}",
        requests.get(f"{other_idp}jwks", timeout=10).json(),
    )
    assert callback(client, at_provider(client, oidc, who="typed", snils=SNILS)).status_code == 302
    assert jwks_calls() == before + 2
