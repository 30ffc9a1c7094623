"""The federal register feed over real HTTP to the emulated register (tests/peers.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integration.enums import PublicationStatus, SystemKind
from integration.models import ExternalSystem, FederalFact
from integration.services.publication import (
    ASSIGNMENT_EVENT,
    InvalidFact,
    fact_publish,
    fact_resend,
    facts_deliver,
    facts_publish,
)
from platform_core.bus import publish
from platform_core.errors import Conflict

pytestmark = pytest.mark.django_db

FACT = {
    "fact_id": "asg-1",
    "status": "assigned",
    "measure": {"code": "unified-allowance", "title": "Единое пособие", "level": "federal"},
    "person": {
        "snils": "112-233-445 95",
        "last_name": "Иванова",
        "first_name": "Мария",
        "birth_date": "1994-05-17",
    },
    "decision": {"number": "27-000001", "date": "2026-11-20", "proactive": True},
    "period_from": "2026-12-01",
    "period_to": "2027-11-30",
    "amount": "17800.00",
    "periodicity": "monthly",
    "region": "27",
    "provider": {"code": "min27", "name": "Министерство социальной защиты Хабаровского края"},
}


@pytest.fixture
def register(peers, db) -> ExternalSystem:
    peers.control("register", error_share=0, down=False, slow_share=0)
    yield ExternalSystem.objects.create(
        code="register",
        name="ЕГИССО",
        kind=SystemKind.FEDERAL_REGISTER,
        base_url=peers.register,
        secret="demo-register",
    )
    peers.control("register", error_share=0, down=False, slow_share=0)


def held_by_register(peers, fact_id: str) -> dict:
    answer = peers.call("register", "GET", f"v1/facts/{fact_id}")
    assert answer.status == 200, answer
    return answer.body


def test_a_fact_is_published_once_per_change_and_accepted(peers, register):
    now = timezone.now()
    first = fact_publish(fact=FACT, now=now)
    assert first.version == 1
    assert fact_publish(fact=FACT, now=now) is None  # the same content: nothing new

    assert facts_deliver(now=now) == {"accepted": 1, "rejected": 0, "retry": 0}
    first.refresh_from_db()
    assert first.status == PublicationStatus.ACCEPTED and first.delivered_at == now
    assert held_by_register(peers, "asg-1")["version"] == 1

    changed = fact_publish(fact={**FACT, "status": "changed", "amount": "18900.00"}, now=now)
    assert changed.version == 2
    facts_deliver(now=now)
    assert held_by_register(peers, "asg-1")["version"] == 2
    assert facts_deliver(now=now) == {}  # nothing left to send


def test_only_the_latest_version_waiting_is_sent(peers, register):
    now = timezone.now()
    fact_publish(fact={**FACT, "fact_id": "asg-2"}, now=now)
    fact_publish(fact={**FACT, "fact_id": "asg-2", "status": "terminated"}, now=now)
    assert list(
        FederalFact.objects.filter(fact_id="asg-2").order_by("version").values_list("status")
    ) == [(PublicationStatus.SUPERSEDED,), (PublicationStatus.PENDING,)]
    assert facts_deliver(now=now)["accepted"] == 1
    assert held_by_register(peers, "asg-2")["status"] == "terminated"


def test_many_facts_at_once_as_one_by_one(register):
    """A batch: two versions of one fact in order, a repeat, another fact, a repeat of the
    first's latest; then a batch with a broken fact stores nothing."""
    now = timezone.now()
    terminated = {**FACT, "fact_id": "asg-5", "status": "terminated"}
    stored = facts_publish(
        facts=[{**FACT, "fact_id": "asg-5"}, terminated, {**FACT, "fact_id": "asg-6"}, terminated],
        now=now,
    )
    assert [(f.fact_id, f.version) if f else None for f in stored] == [
        ("asg-5", 1),
        ("asg-5", 2),
        ("asg-6", 1),
        None,
    ]
    assert list(
        FederalFact.objects.order_by("fact_id", "version").values_list("fact_id", "status")
    ) == [
        ("asg-5", PublicationStatus.SUPERSEDED),
        ("asg-5", PublicationStatus.PENDING),
        ("asg-6", PublicationStatus.PENDING),
    ]
    with pytest.raises(InvalidFact):
        facts_publish(facts=[{**FACT, "fact_id": "asg-7"}, {**FACT, "amount": "x"}], now=now)
    assert not FederalFact.objects.filter(fact_id="asg-7").exists()


def test_a_register_that_fails_is_retried_with_backoff(peers, register):
    now = timezone.now()
    fact = fact_publish(fact={**FACT, "fact_id": "asg-3"}, now=now)
    peers.control("register", error_share=1)
    assert facts_deliver(now=now) == {"accepted": 0, "rejected": 0, "retry": 1}
    fact.refresh_from_db()
    assert fact.status == PublicationStatus.PENDING and fact.attempts == 1
    assert fact.next_attempt_at == now + timedelta(seconds=5)
    assert facts_deliver(now=now) == {}  # not due yet

    peers.control("register", error_share=0)
    assert facts_deliver(now=fact.next_attempt_at)["accepted"] == 1
    with pytest.raises(Conflict):
        fact_resend(fact=fact, now=now)  # only a rejected fact is sent again


def test_a_fact_breaking_the_contract_is_refused_with_its_fields(register, english_messages):
    broken = {**FACT, "amount": "17 800", "person": {**FACT["person"], "snils": "11223344595"}}
    del broken["decision"]
    with pytest.raises(InvalidFact) as caught:
        fact_publish(fact=broken, now=timezone.now())
    assert [p.field for p in caught.value.problems] == ["amount", "decision", "person.snils"]
    assert not FederalFact.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_assignment_event_publishes_its_fact(peers, register):
    publish(ASSIGNMENT_EVENT, {"fact": {**FACT, "fact_id": "asg-4"}})
    publish(ASSIGNMENT_EVENT, {"fact": {**FACT, "fact_id": "asg-4"}})  # delivered again
    assert FederalFact.objects.filter(fact_id="asg-4").count() == 1
