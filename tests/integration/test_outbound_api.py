"""The outbound API: officers ask for data within their region; operators watch the edges."""

from __future__ import annotations

import pytest
from django.utils import timezone

from integration.enums import DataKind, ExchangeStatus, SystemKind
from integration.models import DataComplaint, DataExchange, DataRequest, ExternalSystem
from integration.services.interagency import exchange_send
from platform_core.enums import Role
from platform_core.validators import snils_from_number
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

REQUESTS = "/api/v1/integration/requests/"
BODY = {
    "kind": "income",
    "subject": {
        "snils": snils_from_number(300_000_002),
        "last_name": "Сидорова",
        "first_name": "Ольга",
        "birth_date": "1990-04-12",
    },
    "params": {"from": "2025-10", "to": "2026-09"},
    "case_ref": "officer:42",
    "purpose": "Единое пособие: доходы семьи",
}


@pytest.fixture
def fns(peers, db) -> ExternalSystem:
    peers.control("fns", error_share=0, slow_share=0, down=False)
    return ExternalSystem.objects.create(
        code="fns",
        name="ФНС России",
        kind=SystemKind.TAX,
        provides=[DataKind.INCOME],
        base_url=f"{peers.agencies}fns/",
        secret="demo-fns",
    )


@pytest.fixture
def operator(federal_body):
    return make_staff("ops", federal_body, role=Role.PLATFORM_OPERATOR)


def test_an_officer_asks_for_data_and_sees_the_log_of_the_case(client, officer_27, fns):
    client.force_login(officer_27)
    made = client.post(REQUESTS, BODY, content_type="application/json")
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["region"] == "27" and body["requested_by"] == "officer27"
    assert body["exchange"]["status"] == ExchangeStatus.PENDING
    assert body["exchange"]["provider"] == "fns"

    exchange_send(exchange_id=body["exchange"]["id"], now=timezone.now())
    log = client.get(REQUESTS, {"case_ref": "officer:42"}).json()["results"]
    assert [r["exchange"]["status"] for r in log] == [ExchangeStatus.ANSWERED]
    assert log[0]["exchange"]["answer"]["incomes"]


def test_bad_asks_name_what_is_wrong(client, officer_27, fns):
    client.force_login(officer_27)
    wrong = {
        **BODY,
        "kind": "horoscope",
        "subject": {"first_name": "Ольга", "birth_date": "12.04.1990"},
        "params": {"from": "2025-13"},
    }
    answer = client.post(REQUESTS, wrong, content_type="application/json")
    assert answer.status_code == 400
    errors = answer.json()
    assert set(errors) == {"kind", "subject", "params"}
    assert set(errors["subject"]) == {"last_name", "birth_date"}

    backwards = {**BODY, "params": {"from": "2026-09", "to": "2025-10"}}
    answer = client.post(REQUESTS, backwards, content_type="application/json")
    assert answer.status_code == 400
    assert answer.json()["errors"] == [
        {"field": "params.to", "message": "Окончание раньше начала."}
    ]
    assert not DataRequest.objects.exists() and not DataExchange.objects.exists()

    # A region code PostgreSQL cannot hold (found by the API fuzzer: it was a 500).
    answer = client.post(REQUESTS, {**BODY, "region": "\x00"}, content_type="application/json")
    assert answer.status_code == 400 and list(answer.json()) == ["region"]


def test_officers_stay_in_their_region(client, officer_27, officer_77, fns, region_77):
    client.force_login(officer_27)
    other_region = client.post(REQUESTS, {**BODY, "region": "77"}, content_type="application/json")
    assert other_region.status_code == 403
    made = client.post(REQUESTS, BODY, content_type="application/json").json()

    client.force_login(officer_77)
    assert client.get(REQUESTS).json()["results"] == []
    assert client.get(f"{REQUESTS}{made['id']}/").status_code == 404
    complaint = client.post(
        "/api/v1/integration/complaints/",
        {"kind": "wrong_data", "text": "Неверно", "request": made["id"]},
        content_type="application/json",
    )
    assert complaint.status_code == 400 and "request" in complaint.json()
    assert client.get("/api/v1/integration/exchanges/").json()["results"] == []


def test_operators_watch_exchanges_circuits_and_the_feed(client, officer_27, operator, fns):
    client.force_login(officer_27)
    made = client.post(REQUESTS, BODY, content_type="application/json").json()
    exchange_send(exchange_id=made["exchange"]["id"], now=timezone.now())

    client.force_login(operator)
    stats = client.get("/api/v1/integration/exchanges/stats/").json()
    (row,) = stats["exchanges"]
    assert row["provider__code"] == "fns" and row["answered"] == 1 and row["attempts"] == 1
    assert row["latency_p95_ms"] is not None
    detail = client.get(f"/api/v1/integration/exchanges/{made['exchange']['id']}/").json()
    assert [t["outcome"] for t in detail["tries"]] == ["answered"]
    assert "answer" not in detail and "subject" not in detail  # the region's, not operators'
    retry = client.post(f"/api/v1/integration/exchanges/{made['exchange']['id']}/retry/")
    assert retry.status_code == 409  # an answered exchange is not asked again
    assert client.get("/api/v1/integration/facts/stats/").json()["total"] == 0


def test_the_back_office_lists_the_edges_and_files_complaints(client, officer_27, operator, fns):
    client.force_login(officer_27)
    made = client.post(REQUESTS, BODY, content_type="application/json").json()
    exchange_send(exchange_id=made["exchange"]["id"], now=timezone.now())

    client.force_login(operator)
    for page in ("dataexchange", "providercircuit", "federalfact"):
        assert client.get(f"/admin/integration/{page}/").status_code == 200, page
    for page in ("datarequest", "datacomplaint"):  # what agencies said of people: the regions'
        assert client.get(f"/admin/integration/{page}/").status_code == 403, page
    detail = client.get(f"/admin/integration/dataexchange/{made['exchange']['id']}/change/")
    assert detail.status_code == 200 and "answered" in detail.content.decode()

    client.force_login(officer_27)
    assert client.get("/admin/integration/datarequest/").status_code == 200
    add = "/admin/integration/datacomplaint/add/"
    empty = client.post(add, {"kind": "wrong_data", "region": "27", "text": "Неверно"})
    assert empty.status_code == 200  # the form again, with the fault by its field
    assert "exchange" in empty.context["adminform"].form.errors
    assert not DataComplaint.objects.exists()

    filed = client.post(
        add,
        {
            "kind": "wrong_data",
            "region": "27",
            "text": "Неверно",
            "exchange": made["exchange"]["id"],
        },
    )
    assert filed.status_code == 302
    complaint = DataComplaint.objects.get()
    assert complaint.filed_by == officer_27 and complaint.provider == fns


def test_a_time_filter_postgresql_cannot_hold_is_refused_by_name(client, officer_27):
    client.force_login(officer_27)
    answer = client.get(REQUESTS, {"requested_at__gte": "2026-01-01T00:00:00+20:00"})
    assert answer.status_code == 400
    assert answer.json() == {
        "requested_at__gte": ["Смещение от UTC должно быть от -15:59 до +15:59."]
    }
