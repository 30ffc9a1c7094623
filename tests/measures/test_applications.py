"""Applications from any channel: by the person or a representative, one at a time, joining
the case that offered the measure; a refusal is an outcome with its explanation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from measures.enums import ApplicationStatus, CaseStatus, DecisionOutcome, TriggerKind
from measures.models import Application, Assignment, Case, Measure
from measures.services.cases import case_open, case_work
from platform_core.calendar import calendar_load_year
from registries.enums import SubsistenceGroup
from registries.models import SubsistenceMinimum
from tests.measures.families import ON, UNIFIED, child_of, income, person

pytestmark = pytest.mark.django_db

APPLICATIONS = "/api/v1/measures/applications/"


@pytest.fixture
def calendar(loaded_catalogue):
    """Working days for deadlines, and this year's subsistence minimums (cases are as of today)."""
    for year in (2025, 2026, 2027):
        calendar_load_year(year=year)
    today = timezone.localdate()
    for group, amount in (
        (SubsistenceGroup.PER_CAPITA, "20000"),
        (SubsistenceGroup.CHILD, "19000"),
    ):
        SubsistenceMinimum.objects.get_or_create(
            region_id="27",
            year=today.year,
            group=group,
            defaults={"amount": Decimal(amount), "valid_from": date(today.year, 1, 1)},
        )


def apply(client, who, measure: str = UNIFIED, applicant=None, **extra):  # type: ignore[no-untyped-def]
    return client.post(
        APPLICATIONS,
        {
            "person": who.pk,
            "applicant": (applicant or who).pk,
            "measure": measure,
            "channel": "client_office",
            **extra,
        },
        content_type="application/json",
    )


def test_an_application_is_decided_by_the_rules_at_once(client, calendar, officer_27):
    mother = person(date(1990, 1, 1), "F")
    child_of(mother, 0, on=timezone.localdate())
    income(mother, "5000", on=timezone.localdate())
    client.force_login(officer_27)

    made = apply(client, mother)
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["status"] == ApplicationStatus.DONE
    case = Case.objects.get(pk=body["case"])
    assert case.trigger_kind == TriggerKind.APPLICATION and case.channel == "client_office"
    assert case.decision.outcome == DecisionOutcome.GRANT and case.decision.automatic
    assert Assignment.objects.get(decision=case.decision).periodic


def test_a_second_application_while_one_is_open_points_to_its_case(client, calendar, officer_27):
    mother = person(date(1990, 1, 1), "F")
    client.force_login(officer_27)
    draft = apply(client, mother, submit=False).json()
    again = apply(client, mother)
    assert again.status_code == 409
    assert again.json()["application"] == draft["id"]
    assert Application.objects.filter(person=mother).count() == 1


def test_a_refusal_is_an_outcome_with_its_explanation(client, calendar, officer_27):
    mother = person(date(1990, 1, 1), "F")
    child_of(mother, 0, on=timezone.localdate())
    income(mother, "900000", on=timezone.localdate())  # far above the subsistence minimum
    client.force_login(officer_27)
    body = apply(client, mother).json()
    decision = Case.objects.get(pk=body["case"]).decision
    assert decision.outcome == DecisionOutcome.REFUSE and decision.automatic
    failed = [c for c in decision.explanation["conditions"] if c["value"] is False]
    assert any("family_income_per_capita" in c["condition"] for c in failed)
    assert not Assignment.objects.filter(decision=decision).exists()


def test_only_the_person_or_a_representative_applies(client, calendar, officer_27):
    mother = person(date(1990, 1, 1), "F")
    stranger = person(date(1980, 1, 1), "M")
    child = child_of(mother, 5, on=timezone.localdate())
    client.force_login(officer_27)
    refused = apply(client, child, measure=UNIFIED, applicant=stranger)
    assert refused.status_code == 403 and refused.json()["field"] == "applicant"
    by_parent = apply(client, child, measure=UNIFIED, applicant=mother, submit=False)
    assert by_parent.status_code == 201


def test_an_application_joins_the_case_that_offered_the_measure(client, calendar, officer_27):
    mother = person(date(1990, 1, 1), "F")
    child = child_of(mother, 0, on=timezone.localdate())
    income(mother, "5000", on=timezone.localdate())
    offered, _ = case_open(
        person=mother,
        measure=Measure.objects.get(code=UNIFIED),
        trigger_kind=TriggerKind.LIFE_EVENT,
        trigger_key=f"test:{child.pk}",
        as_of=timezone.localdate(),
        now=timezone.now(),
    )
    assert case_work(case_id=offered.pk, now=timezone.now()).status == CaseStatus.OFFERED

    client.force_login(officer_27)
    body = apply(client, mother).json()
    assert body["case"] == offered.pk
    assert Case.objects.get(pk=offered.pk).status == CaseStatus.DECIDED
    assert Case.objects.filter(person=mother).count() == 1  # no second case


def test_another_regions_person_cannot_be_applied_for(client, calendar, officer_77):
    mother = person(date(1990, 1, 1), "F")
    client.force_login(officer_77)
    answer = apply(client, mother)
    assert answer.status_code == 400 and "person" in answer.json()
    assert ON  # the families' reference date stays what the other tests use
    answer = apply(client, mother, measure="federal\x00")  # no measure's code holds a NUL
    assert answer.status_code == 400 and list(answer.json()) == ["measure"]
