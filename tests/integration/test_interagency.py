"""Inter-agency requests over real HTTP to the emulated agencies (tests/peers.py).

Each test drives the services with explicit times, as the Celery tasks and beat would one
after another, and checks what the provider saw (its `_stats`) as well as what was stored.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from emulators.peers.agencies import complaint_answer
from integration.enums import AttemptOutcome, ComplaintStatus, DataKind, ExchangeStatus, SystemKind
from integration.models import (
    DataComplaint,
    DataExchange,
    DataRequest,
    ExchangeAttempt,
    ExternalSystem,
)
from integration.ports import KINDS, Outcome
from integration.services.complaints import ANSWERED_EVENT as COMPLAINT_ANSWERED
from integration.services.complaints import InvalidComplaint, complaint_file, complaint_send
from integration.services.interagency import (
    ANSWERED_EVENT,
    FAILED_EVENT,
    InvalidDataRequest,
    NoProvider,
    _claim,
    _record,
    data_release,
    data_request,
    exchange_retry,
    exchange_send,
    exchanges_due,
    exchanges_purge,
)
from platform_core.errors import Conflict
from platform_core.models import OutboxEvent
from platform_core.validators import snils_from_number

pytestmark = pytest.mark.django_db

PERSON = {
    "snils": snils_from_number(300_000_002),
    "last_name": "Сидорова",
    "first_name": "Ольга",
    "patronymic": "Ивановна",
    "birth_date": "1990-04-12",
}
PERIOD = {"from": "2025-10", "to": "2026-09"}


@pytest.fixture
def fns(peers, db) -> ExternalSystem:
    return ExternalSystem.objects.create(
        code="fns",
        name="ФНС России",
        kind=SystemKind.TAX,
        provides=[DataKind.INCOME],
        base_url=f"{peers.agencies}fns/",
        secret="demo-fns",
    )


@pytest.fixture
def calm(peers):
    """The agencies answer at once and without errors unless a test says otherwise."""
    peers.control("agencies", error_share=0, slow_share=0, down=False)
    yield
    peers.control("agencies", error_share=0, slow_share=0, down=False)


def ask(region, case: str = "case:1", person: dict | None = None, now=None, **options):  # type: ignore[no-untyped-def]
    return data_request(
        kind=options.pop("kind", DataKind.INCOME),
        subject=person or PERSON,
        params=options.pop("params", PERIOD),
        region_id=region.pk,
        case_ref=case,
        now=now or timezone.now(),
        **options,
    )


def events(kind: str) -> list[dict]:
    return [e.payload for e in OutboxEvent.objects.filter(event_type=kind).order_by("created_at")]


def income_asked(peers) -> int:
    return peers.stats("fns").get("by_kind", {}).get("income", 0)


def test_an_income_request_is_answered_by_the_tax_service_over_http(peers, calm, fns, region_27):
    before = income_asked(peers)
    request = ask(region_27)
    exchange = exchange_send(exchange_id=request.exchange_id, now=timezone.now())

    assert exchange.status == ExchangeStatus.ANSWERED
    months = [row["month"] for row in exchange.answer["incomes"]]
    assert months[0] >= "2025-10" and months[-1] <= "2026-09"
    assert exchange.valid_until - exchange.answered_at == KINDS[DataKind.INCOME].validity
    attempt = ExchangeAttempt.objects.get(exchange=exchange)
    assert attempt.outcome == AttemptOutcome.ANSWERED and attempt.http_status == 200
    assert attempt.latency_ms is not None
    assert income_asked(peers) == before + 1
    (answered,) = events(ANSWERED_EVENT)
    assert answered["cases"] == ["case:1"] and answered["requests"] == [request.pk]


def test_the_same_data_is_asked_once_and_reused_while_valid(peers, calm, fns, region_27):
    first = ask(region_27, "case:1")
    now = timezone.now()
    exchange_send(exchange_id=first.exchange_id, now=now)
    asked = income_asked(peers)

    second = ask(region_27, "case:2", now=now + timedelta(days=29))

    assert second.reused and second.exchange_id == first.exchange_id
    assert income_asked(peers) == asked  # the agency was not asked again
    assert events(ANSWERED_EVENT)[-1]["cases"] == ["case:2"]  # answered at once, from before

    later = ask(region_27, "case:3", now=now + timedelta(days=31))
    assert not later.reused and later.exchange_id != first.exchange_id


def test_asks_while_the_answer_is_awaited_share_the_exchange(peers, calm, fns, region_27):
    peers.control("agencies", slow_share=1)
    now = timezone.now()
    first = ask(region_27, "case:1", now=now)
    exchange = exchange_send(exchange_id=first.exchange_id, now=now)
    assert exchange.status == ExchangeStatus.WAITING

    second = ask(region_27, "case:2", now=now)
    assert second.reused and second.exchange_id == first.exchange_id
    assert exchange_send(exchange_id=exchange.pk, now=now) is None  # not due yet

    time.sleep(0.4)  # the emulated agency takes slow_seconds to answer
    later = now + timedelta(seconds=10)
    answered = exchange_send(exchange_id=exchange.pk, now=later)
    assert answered.status == ExchangeStatus.ANSWERED
    assert sorted(events(ANSWERED_EVENT)[-1]["cases"]) == ["case:1", "case:2"]
    assert [a.outcome for a in answered.tries.all()] == [
        AttemptOutcome.ACCEPTED,
        AttemptOutcome.ANSWERED,
    ]


def test_failures_are_retried_with_backoff_until_the_answer(peers, calm, fns, region_27):
    peers.control("agencies", error_share=1)
    now = timezone.now()
    request = ask(region_27, now=now)
    first = exchange_send(exchange_id=request.exchange_id, now=now)
    assert first.status == ExchangeStatus.PENDING
    assert first.next_attempt_at == now + timedelta(seconds=5)
    second = exchange_send(exchange_id=request.exchange_id, now=first.next_attempt_at)
    assert second.next_attempt_at == first.next_attempt_at + timedelta(seconds=10)

    peers.control("agencies", error_share=0)
    third = exchange_send(exchange_id=request.exchange_id, now=second.next_attempt_at)
    assert third.status == ExchangeStatus.ANSWERED
    assert [a.http_status for a in third.tries.all()] == [503, 503, 200]


@override_settings(INTEGRATION_CIRCUIT_FAILURES=2, INTEGRATION_CIRCUIT_COOLDOWN_SECONDS=30)
def test_a_failing_provider_trips_its_circuit_and_is_left_alone(peers, calm, fns, region_27):
    peers.control("agencies", error_share=1)
    now = timezone.now()
    request = ask(region_27, now=now)
    exchange_send(exchange_id=request.exchange_id, now=now)
    second = exchange_send(exchange_id=request.exchange_id, now=now + timedelta(seconds=5))
    fns.circuit.refresh_from_db()
    assert fns.circuit.open_until == now + timedelta(seconds=35)

    asked = peers.stats("fns")["requests"]
    other = ask(region_27, "case:2", person={**PERSON, "snils": snils_from_number(300_000_005)})
    held = exchange_send(exchange_id=other.exchange_id, now=now + timedelta(seconds=6))
    assert held.status == ExchangeStatus.PENDING and held.next_attempt_at == fns.circuit.open_until
    assert held.attempts == 0  # not sent, not counted
    assert peers.stats("fns")["requests"] == asked  # the provider was not called

    peers.control("agencies", error_share=0)
    trial = exchange_send(
        exchange_id=request.exchange_id, now=second.next_attempt_at + timedelta(seconds=30)
    )
    assert trial.status == ExchangeStatus.ANSWERED
    fns.circuit.refresh_from_db()
    assert fns.circuit.open_until is None and fns.circuit.failures == 0
    assert fns.circuit.opened_times == 1


def test_no_answer_by_the_deadline_expires_the_exchange_for_its_cases(peers, calm, fns, region_27):
    peers.control("agencies", error_share=1)
    now = timezone.now()
    request = ask(region_27, now=now)
    exchange_send(exchange_id=request.exchange_id, now=now)

    late = now + KINDS[DataKind.INCOME].deadline + timedelta(seconds=1)
    assert exchanges_due(now=late) == []  # expired, so nothing left to send
    exchange = DataExchange.objects.get(pk=request.exchange_id)
    assert exchange.status == ExchangeStatus.EXPIRED
    (failed,) = events(FAILED_EVENT)
    assert failed["cases"] == ["case:1"] and failed["status"] == ExchangeStatus.EXPIRED

    peers.control("agencies", error_share=0)
    fresh = exchange_retry(exchange=exchange, now=late)
    assert fresh.requests.get() == request  # the case's ask moves to the new exchange
    assert exchange_send(exchange_id=fresh.pk, now=late).status == ExchangeStatus.ANSWERED
    with pytest.raises(Conflict):
        exchange_retry(exchange=fresh, now=late)


def test_a_request_the_provider_refuses_fails_without_retrying(peers, calm, fns, region_27):
    fns.provides = [DataKind.INCOME, DataKind.PENSION]  # the tax service knows no pensions
    fns.save()
    request = ask(region_27, kind=DataKind.PENSION, params={})
    exchange = exchange_send(exchange_id=request.exchange_id, now=timezone.now())
    assert exchange.status == ExchangeStatus.FAILED
    assert exchange.next_attempt_at is None and '"field": "kind"' in exchange.problem
    assert events(FAILED_EVENT)[0]["status"] == ExchangeStatus.FAILED


def test_bad_requests_name_their_fields(fns, region_27, english_messages):
    with pytest.raises(InvalidDataRequest) as caught:
        ask(
            region_27,
            case=" ",
            person={"last_name": "", "first_name": "Ольга", "birth_date": "12.04.1990"},
            params={"from": "2026-13", "to": "2026-01"},
        )
    assert caught.value.problems == {
        "case_ref": "This field is required.",
        "subject.last_name": "This field is required.",
        "subject.birth_date": "Must be a date as YYYY-MM-DD.",
        "params.from": "Must be a month as YYYY-MM.",
    }
    with pytest.raises(InvalidDataRequest) as caught:
        ask(region_27, params={"from": "2026-05", "to": "2026-01"})
    assert caught.value.problems == {"params.to": "Ends before it starts."}
    with pytest.raises(NoProvider):
        ask(region_27, kind=DataKind.ADDRESS, params={})
    assert not DataRequest.objects.exists()


def test_a_worker_that_lost_its_lease_does_not_overwrite_the_next_one(fns, region_27):
    now = timezone.now()
    request = ask(region_27, now=now)
    stale = _claim(str(request.exchange_id), now)
    assert _claim(str(request.exchange_id), now) is None  # held
    fresh = _claim(str(request.exchange_id), now + timedelta(minutes=2))  # lease ran out
    assert fresh is not None

    _record(stale, Outcome(AttemptOutcome.ANSWERED, 200, 5, {"incomes": []}), now=now, reopen=None)
    assert DataExchange.objects.get(pk=request.exchange_id).status == ExchangeStatus.PENDING
    _record(fresh, Outcome(AttemptOutcome.NOT_FOUND, 200, 5, {}), now=now, reopen=None)
    assert DataExchange.objects.get(pk=request.exchange_id).status == ExchangeStatus.NOT_FOUND
    assert ExchangeAttempt.objects.filter(exchange_id=request.exchange_id).count() == 1


def test_answers_are_erased_after_use_and_the_log_stays(peers, calm, fns, region_27):
    now = timezone.now()
    kept = ask(region_27, "case:kept", now=now)
    released = ask(
        region_27, "case:done", now=now, person={**PERSON, "snils": snils_from_number(300_000_006)}
    )
    for request in (kept, released):
        exchange_send(exchange_id=request.exchange_id, now=now)
    assert data_release(case_ref="case:done", now=now) == 1

    after_reuse = now + KINDS[DataKind.INCOME].validity + timedelta(seconds=1)
    assert exchanges_purge(now=after_reuse) == 1
    gone = DataExchange.objects.get(pk=released.exchange_id)
    assert gone.answer is None and gone.purged_at == after_reuse
    assert gone.requests.get().case_ref == "case:done"  # who asked, and when, stays
    assert DataExchange.objects.get(pk=kept.exchange_id).answer is not None  # still needed

    after_retention = now + KINDS[DataKind.INCOME].retention + timedelta(seconds=1)
    assert exchanges_purge(now=after_retention) == 1
    assert DataExchange.objects.get(pk=kept.exchange_id).answer is None


def test_a_complaint_reaches_the_provider_and_its_answer_comes_back(
    peers, calm, fns, region_27, officer_27, english_messages
):
    now = timezone.now()
    request = ask(region_27, now=now)
    exchange = exchange_send(exchange_id=request.exchange_id, now=now)
    with pytest.raises(InvalidComplaint) as caught:
        complaint_file(kind="wrong_data", text=" ", filed_by=officer_27, region_id="27", now=now)
    assert caught.value.problems == {
        "text": "Say what is wrong.",
        "exchange": "Name the exchange whose answer is wrong.",
    }

    complaint = complaint_file(
        kind="wrong_data",
        exchange=exchange,
        text="Доход за январь указан дважды",
        filed_by=officer_27,
        region_id="27",
        now=now,
    )
    # The emulated agency upholds a complaint or not by its id: take one it upholds.
    upheld = next(
        str(uuid.UUID(int=n))
        for n in range(1, 1000)
        if complaint_answer(str(uuid.UUID(int=n)), "wrong_data")[1]
    )
    DataComplaint.objects.filter(pk=complaint.pk).update(id=upheld)
    sent = complaint_send(complaint_id=upheld, now=now)
    assert sent.status == ComplaintStatus.SENT and sent.provider == fns
    assert peers.stats("fns")["complaints"] >= 1
    assert complaint_send(complaint_id=upheld, now=now) is None  # not due yet

    time.sleep(0.3)  # the emulated agency settles complaints after settle_seconds
    answered = complaint_send(complaint_id=upheld, now=sent.next_attempt_at)
    assert answered.status == ComplaintStatus.ANSWERED and answered.corrected
    assert answered.answer
    exchange.refresh_from_db()
    assert exchange.valid_until == sent.next_attempt_at  # the wrong answer is reused no more
    assert not ask(region_27, "case:9", now=sent.next_attempt_at).reused
    (told,) = events(COMPLAINT_ANSWERED)
    assert told == {"complaint": upheld, "exchange": str(exchange.pk), "corrected": True}
