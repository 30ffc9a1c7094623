"""Social contracts: only with a low-income family, one in force at a time, worked step by
step, with the family's income followed before, during and after."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from measures.enums import ContractStatus
from measures.models import SocialContract
from registries.models import IncomeRecord
from tests.measures.families import ON, child_of, income, person

pytestmark = pytest.mark.django_db

CONTRACTS = "/api/v1/measures/social-contracts/"


def body(who, **extra):  # type: ignore[no-untyped-def]
    return {
        "person": who.pk,
        "subject": "job_search",
        "recipient_obligations": "Встать на учёт в центре занятости, пройти обучение",
        "agency_obligations": "Ежемесячная выплата в размере прожиточного минимума",
        "term_from": "2025-10-01",
        "term_to": "2026-03-31",
        "steps": [
            {"title": "Регистрация в центре занятости", "due_on": "2025-10-15"},
            {"title": "Трудоустройство", "due_on": "2026-03-01"},
        ],
        "assistance": [{"kind": "monthly_cash", "amount": "20000.00", "months": 4}],
        **extra,
    }


def test_a_contract_with_a_low_income_family_is_signed_and_worked(
    client, loaded_catalogue, officer_27
):
    mother = person(date(1990, 1, 1), "F")
    child_of(mother, 5)
    income(mother, "8000", on=date(2025, 10, 1))
    client.force_login(officer_27)

    made = client.post(CONTRACTS, body(mother), content_type="application/json")
    assert made.status_code == 201, made.json()
    contract = made.json()
    assert contract["status"] == ContractStatus.DRAFT and len(contract["steps"]) == 2
    signed = client.post(f"{CONTRACTS}{contract['id']}/sign/").json()
    assert signed["status"] == ContractStatus.ACTIVE
    second = client.post(CONTRACTS, body(mother), content_type="application/json").json()
    assert client.post(f"{CONTRACTS}{second['id']}/sign/").status_code == 409  # one in force

    step = contract["steps"][0]["id"]
    done = client.post(
        f"{CONTRACTS}{contract['id']}/step-done/",
        {"step": step, "on": "2025-10-10"},
        content_type="application/json",
    ).json()
    assert done["steps"][0]["done_on"] == "2025-10-10"

    IncomeRecord.objects.create(
        person=mother, kind="salary", month=date(2026, 6, 1), amount=Decimal("60000"), source="t"
    )
    track = client.get(f"{CONTRACTS}{contract['id']}/income/").json()
    assert track["members"] == 2
    assert Decimal(track["before_average"]) == Decimal("4000.00")  # 8,000 for two people
    assert Decimal(track["after_average"]) == Decimal("30000.00")
    closed = client.post(
        f"{CONTRACTS}{contract['id']}/close/",
        {"completed": True, "outcome": "Трудоустроена"},
        content_type="application/json",
    ).json()
    assert closed["status"] == ContractStatus.COMPLETED


def test_a_contract_is_refused_with_the_reasons_by_field(client, loaded_catalogue, officer_27):
    rich = person(date(1990, 1, 1), "F")
    income(rich, "900000", on=date(2025, 10, 1))
    client.force_login(officer_27)
    wrong = body(
        rich,
        term_to="2025-09-01",
        steps=[{"title": "Шаг", "due_on": "2027-01-01"}],
    )
    answer = client.post(CONTRACTS, wrong, content_type="application/json")
    assert answer.status_code == 400
    fields = {e["field"] for e in answer.json()["errors"]}
    assert fields == {"term_to", "steps[0].due_on", "person"}
    assert not SocialContract.objects.exists()
    assert ON.year == 2025
