"""The acknowledgement of a signed event: cheap, and answered exactly as before.

An event and the bus event announcing it are written by one statement; the usual request is
answered by a plain Django view in front of DRF's, anything else by DRF, with the same bytes
and headers; the middleware of people (sessions, users) is skipped, the language is not.
"""

from __future__ import annotations

import json
import re
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.views import APIView

from integration.enums import Scope
from integration.models import InboundEvent
from integration.services.inbox import RECEIVED_EVENT
from platform_core.models import OutboxEvent
from platform_core.validators import snils_from_number
from registries.models import LifeEvent, Person
from tests.integration.helpers import CIVIL, birth, make_system, person, signed_headers

MOTHER = person("Иванова", "Мария", "1994-03-02", snils=snils_from_number(200_000_001), sex="F")


def child(born: str = "2026-11-01") -> dict:
    return person("Иванов", "Пётр", born, sex="M")


@pytest.fixture
def zags(region_27):
    return make_system()


def send(  # type: ignore[no-untyped-def]
    client,
    system,
    document,
    *,
    path: str = CIVIL,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
):
    body = json.dumps(document).encode()
    return client.post(
        path,
        data=body,
        content_type=content_type,
        headers={**signed_headers(system, body), **(headers or {})},
    )


def announcements() -> list[dict]:
    return list(
        OutboxEvent.objects.filter(event_type=RECEIVED_EVENT)
        .order_by("created_at")
        .values_list("payload", flat=True)
    )


def test_an_event_and_its_bus_event_are_written_by_one_statement(client, zags):
    send(client, zags, birth("warm", MOTHER, child()))  # the system's credentials are cached

    with CaptureQueriesContext(connection) as queries:
        response = send(client, zags, birth("a-1", MOTHER, child()))

    assert response.status_code == 202, response.content
    assert len(queries) == 1
    stored = InboundEvent.objects.get(event_id="a-1")
    assert announcements()[-1] == {
        "system": "zags-27",
        "contract": "civil_registry_event",
        "ids": [stored.pk],
    }
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 2  # for the poller


def test_a_repeat_gets_the_first_answer_and_announces_nothing(client, zags):
    document = birth("a-2", MOTHER, child())
    first = send(client, zags, document)
    again = send(client, zags, document)
    conflict = send(client, zags, birth("a-2", MOTHER, child("2026-11-02")))

    assert again.status_code == first.status_code == 202
    assert again.json() == first.json()
    assert conflict.status_code == 409
    assert len(announcements()) == 1


def test_a_batch_is_announced_once_naming_its_new_events_in_order(client, zags):
    send(client, zags, birth("b-0", MOTHER, child("2026-10-01")))
    documents = [birth(f"b-{n}", MOTHER, child(f"2026-10-{n + 1:02d}")) for n in range(3)]

    response = send(client, zags, {"events": documents}, path=f"{CIVIL}/batch")

    assert (response.json()["received"], response.json()["repeated"]) == (2, 1)
    new = InboundEvent.objects.filter(event_id__in=["b-1", "b-2"]).order_by("event_id")
    assert announcements()[-1]["ids"] == [row.pk for row in new]
    assert len(announcements()) == 2


RECEIVED_AT = re.compile(rb'"received_at":"[^"]+"')


@pytest.mark.parametrize("broken", [False, True], ids=["received", "refused"])
def test_the_plain_view_answers_as_drf_does(client, zags, broken):
    def document(event_id: str) -> dict:
        found = birth(event_id, MOTHER, child())
        if broken:
            del found["act"]["number"]
        return found

    drf = mock.patch.object(APIView, "dispatch", autospec=True, side_effect=APIView.dispatch)
    with drf as dispatched:
        plain = send(client, zags, document("p-1"))
        assert dispatched.call_count == 0
        # An Accept the plain view leaves to DRF's negotiation, which answers the same JSON.
        negotiated = send(
            client, zags, document("p-2"), headers={"Accept": "application/json; indent=0"}
        )
        assert dispatched.call_count == 1

    assert plain.status_code == negotiated.status_code == (400 if broken else 202)
    assert RECEIVED_AT.sub(b"", plain.content) == RECEIVED_AT.sub(
        b"", negotiated.content.replace(b"p-2", b"p-1")
    )
    for header in (
        "Content-Type",
        "Allow",
        "Vary",
        "Content-Language",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Cross-Origin-Opener-Policy",
    ):
        assert plain.get(header) == negotiated.get(header), header


def test_a_refused_request_is_answered_by_drf_as_before(client, zags):
    document = birth("r-1", MOTHER, child())
    badly_signed = send(client, zags, document, headers={"X-Signature": "0" * 64})
    not_json = send(client, zags, document, content_type="text/plain")
    school = make_system("school-27", scopes=[Scope.EDUCATION_EVENTS])
    out_of_scope = send(client, school, document)

    assert badly_signed.status_code == 401
    assert "HMAC-SHA256" in badly_signed["WWW-Authenticate"]
    assert not_json.status_code == 415
    assert out_of_scope.status_code == 403
    assert not InboundEvent.objects.exists()


def test_signed_endpoints_skip_sessions_and_users_but_not_the_language(client, zags):
    document = birth("m-1", MOTHER, child())
    del document["act"]["number"]
    body = json.dumps(document).encode()
    headers = signed_headers(zags, body)
    del headers["Accept-Language"]

    response = client.post(CIVIL, data=body, content_type="application/json", headers=headers)

    assert response.status_code == 400
    assert response.json()["detail"] == "Событие не соответствует формату обмена."
    assert response["Content-Language"] == "ru"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Cookie" not in response.get("Vary", "")
    assert not hasattr(response.wsgi_request, "session")
    assert not hasattr(response.wsgi_request, "user")
    # A person's endpoint still has them.
    people = client.get("/api/v1/integration/inbox/")
    assert hasattr(people.wsgi_request, "session")
    assert hasattr(people.wsgi_request, "user")


def test_a_large_request_is_applied_a_batch_at_a_time(
    client, zags, settings, django_capture_on_commit_callbacks
):
    settings.EVENTS_BATCH_SIZE = 2
    documents = [
        birth(f"big-{n}", MOTHER, person("Иванов", f"Сын{n}", "2026-11-01", sex="M"))
        for n in range(5)
    ]
    with django_capture_on_commit_callbacks(execute=True):  # the bus runs in this process
        response = send(client, zags, {"events": documents}, path=f"{CIVIL}/batch")
    assert response.status_code == 200, response.content

    stored = list(InboundEvent.objects.order_by("pk").values_list("pk", flat=True))
    # Announced once as stored, then the rest again in batches for other workers.
    assert [a["ids"] for a in announcements()] == [stored, stored[2:4], stored[4:]]
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {"applied"}


def test_a_batch_with_one_for_review_applies_the_others_once(
    client, zags, django_capture_on_commit_callbacks
):
    """Applied all at once without savepoints, the batch fails on the correction of an event
    never received; then each alone: that one goes to review, the births are applied once."""
    documents = [
        birth("r-1", MOTHER, person("Иванов", "Пётр", "2026-11-01", sex="M")),
        {**birth("r-2", MOTHER, child()), "corrects_event_id": "never-received"},
        birth("r-3", MOTHER, person("Иванова", "Анна", "2026-11-02", sex="F")),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, zags, {"events": documents}, path=f"{CIVIL}/batch")
    assert response.status_code == 200, response.content
    statuses = dict(InboundEvent.objects.values_list("event_id", "status"))
    assert statuses == {"r-1": "applied", "r-2": "review", "r-3": "applied"}
    assert "never-received" in InboundEvent.objects.get(event_id="r-2").problem
    births = LifeEvent.objects.filter(kind="birth")
    assert sorted(births.values_list("source_event_id", flat=True)) == ["r-1", "r-3"]
    assert Person.objects.filter(first_name__in=["Пётр", "Анна"]).count() == 2
