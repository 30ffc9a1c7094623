"""The proactive pipeline end to end: a birth posted by the civil registry becomes cases,
signed decisions and assignments, with no application; delivered again, nothing changes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import IntegrityError
from django.utils import timezone

from integration.enums import DataKind, SystemKind
from integration.models import DataRequest, ExternalSystem, FederalFact
from integration.ports import KINDS
from integration.services.interagency import exchanges_due
from measures.enums import AssignmentStatus, CaseEntryKind, CaseStatus, DecisionOutcome
from measures.models import Assignment, Case, CaseEntry, Decision
from measures.services.cases import cases_for_life_event, local_day
from platform_core.bus import Event, handler_by_name
from platform_core.models import EventDelivery
from platform_core.signing import signature_valid
from platform_core.validators import snils_from_number
from registries.enums import LifeEventKind, SubsistenceGroup
from registries.models import IncomeRecord, LifeEvent, SubsistenceMinimum
from tests.integration.helpers import CIVIL, birth, make_system, person, post
from tests.measures.births import MOTHER_SNILS, born
from tests.measures.families import child_of
from tests.measures.families import person as resident
from tests.registries.factories import PersonFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_birth_decides_and_assigns_the_proactive_measures_of_the_region(client, mother):
    event = born(client, mother)

    cases = {c.measure.code: c for c in Case.objects.filter(person=mother)}
    assert set(cases) >= {"federal.birth_allowance", "federal.unified_allowance"}
    allowance = cases["federal.birth_allowance"]
    assert allowance.status == CaseStatus.DECIDED
    assert (
        allowance.trigger_key == f"life_event:{event.pk}" and allowance.as_of == event.occurred_on
    )
    decision = allowance.decision
    assert decision.outcome == DecisionOutcome.GRANT and decision.automatic
    assert str(decision.amount) == "26940.37"
    assert decision.explanation["rule_version"] >= 1
    assert {f["fact"] for f in decision.explanation["facts"]} >= {"alive", "children"}
    assert signature_valid(decision.signed, decision.signature)
    assert not signature_valid({**decision.signed, "amount": "99999.00"}, decision.signature)

    assignment = Assignment.objects.get(decision=decision)
    assert (assignment.active_from, assignment.active_to) == (event.occurred_on, event.occurred_on)
    assert assignment.status == AssignmentStatus.ACTIVE and not assignment.periodic
    fact = FederalFact.objects.get(fact_id=f"asg-{assignment.pk}")  # for the federal register
    assert fact.payload["person"]["snils"] == MOTHER_SNILS
    assert fact.payload["decision"] == {
        "number": decision.number,
        "date": local_day(decision.decided_at, allowance.region).isoformat(),  # Khabarovsk's
        "proactive": True,
    }

    # The unified allowance needs an application: it is offered, not decided.
    assert cases["federal.unified_allowance"].status in (CaseStatus.OFFERED, CaseStatus.REVIEW)
    timeline = list(CaseEntry.objects.filter(case=allowance).values_list("kind", flat=True))
    assert timeline[:3] == [CaseEntryKind.OPENED, CaseEntryKind.EVALUATED, CaseEntryKind.STATUS]
    assert CaseEntryKind.ASSIGNED in timeline


def test_the_same_event_delivered_again_decides_nothing_twice(client, mother):
    event = born(client, mother)
    counts = (Case.objects.count(), Decision.objects.count(), Assignment.objects.count())

    cases_for_life_event(life_event_id=event.pk, now=event.learned_at)
    again = Event(
        "again", "registries.life_event_recorded", {"life_event_id": event.pk}, timezone.now()
    )
    handler_by_name("measures.open_cases")([again, again])  # twice in one batch, too
    assert (Case.objects.count(), Decision.objects.count(), Assignment.objects.count()) == counts


def test_births_of_one_request_are_worked_as_one_batch_each_case_as_alone(client, mother):
    """Twins posted in one batch request: their cases are opened and worked in one
    transaction (one delivery batch), each with its own complete timeline and decision."""
    zags = make_system()
    mum = person("Иванова", "Мария", "1994-03-02", snils=MOTHER_SNILS, sex="F")
    documents = [
        birth("t-1", mum, person("Иванов", "Пётр", "2026-11-01", sex="M")),
        birth("t-2", mum, person("Иванова", "Анна", "2026-11-01", sex="F")),
    ]
    assert post(client, f"{CIVIL}/batch", {"events": documents}, zags).status_code == 200
    deliveries = EventDelivery.objects.filter(handler="measures.open_cases")
    assert deliveries.count() == 2
    assert len({d.finished_at for d in deliveries}) == 1  # done together

    allowances = Case.objects.filter(person=mother, measure__code="federal.birth_allowance")
    assert sorted(c.trigger_key for c in allowances) == sorted(
        f"life_event:{e.pk}" for e in LifeEvent.objects.filter(kind=LifeEventKind.BIRTH)
    )
    for case in allowances:
        assert case.status == CaseStatus.DECIDED
        assert signature_valid(case.decision.signed, case.decision.signature)
        timeline = list(case.entries.order_by("pk").values_list("kind", "to_status"))
        assert timeline == [
            (CaseEntryKind.OPENED, ""),
            (CaseEntryKind.EVALUATED, ""),
            (CaseEntryKind.STATUS, CaseStatus.DECIDED),
            (CaseEntryKind.DECIDED, ""),
            (CaseEntryKind.ASSIGNED, ""),
        ]
        assert Assignment.objects.filter(decision=case.decision).count() == 1


def test_a_conflict_in_a_batch_is_handled_event_by_event(client, mother):
    """A batch of many takes no savepoints: an assignment over an existing one (here the
    database refuses the first mother's birth allowance) fails the batch, and the bus runs
    each event alone, where that case goes to an officer and the other is decided."""
    other = PersonFactory(
        birth_date=date(1995, 5, 5),
        sex="F",
        region_id="27",
        snils=snils_from_number(200_000_778),
        last_name="Петрова",
        first_name="Анна",
        patronymic="",
    )
    zags = make_system()
    documents = [
        birth(
            "c-1",
            person("Иванова", "Мария", "1994-03-02", snils=MOTHER_SNILS, sex="F"),
            person("Иванов", "Пётр", "2026-11-01", sex="M"),
        ),
        birth(
            "c-2",
            person("Петрова", "Анна", "1995-05-05", snils=other.snils, sex="F"),
            person("Петров", "Иван", "2026-11-01", sex="M"),
        ),
    ]
    create = Assignment.objects.create

    def refused(**fields):  # type: ignore[no-untyped-def]
        if fields["person"] == mother and fields["measure"].code == "federal.birth_allowance":
            raise IntegrityError("assignment over an existing one")
        return create(**fields)

    with mock.patch.object(Assignment.objects, "create", side_effect=refused):
        response = post(client, f"{CIVIL}/batch", {"events": documents}, zags)
    assert response.status_code == 200, response.content

    refused_case = Case.objects.get(person=mother, measure__code="federal.birth_allowance")
    assert refused_case.status == CaseStatus.REVIEW
    assert "уже назначена" in refused_case.summary, refused_case.summary
    assert not Decision.objects.filter(case=refused_case).exists()
    kinds = list(refused_case.entries.order_by("pk").values_list("kind", flat=True))
    assert kinds == [CaseEntryKind.OPENED, CaseEntryKind.EVALUATED, CaseEntryKind.STATUS]
    decided = Case.objects.get(person=other, measure__code="federal.birth_allowance")
    assert decided.status == CaseStatus.DECIDED
    assert Case.objects.filter(person=mother, measure__code="federal.birth_allowance").count() == 1
    deliveries = EventDelivery.objects.filter(handler="measures.open_cases")
    assert [d.status for d in deliveries] == ["done", "done"]


def test_a_parent_measure_goes_to_one_parent(client, mother):
    father = resident(date(1990, 1, 15), "M", last_name="Иванов", first_name="Иван")
    child = child_of(mother, 0)
    from registries.enums import RelationBasis, RelationKind
    from registries.models import Relation
    from registries.services.life_events import life_event_record

    Relation.objects.create(
        kind=RelationKind.PARENT,
        basis=RelationBasis.BIRTH,
        from_person=father,
        to_person=child,
        valid_from=child.birth_date,
    )
    life_event_record(
        person=child,
        kind=LifeEventKind.BIRTH,
        occurred_on=child.birth_date,
        learned_at=timezone.now(),
        source_system="test",
        source_event_id="b-2",
    )
    granted = Decision.objects.filter(case__measure__code="federal.birth_allowance")
    assert [d.case.person for d in granted] == [mother]


@pytest.fixture
def tax_service(peers, mother):
    """The emulated tax service as the income provider; this year's subsistence minimums."""
    peers.control("fns", error_share=0, slow_share=0, down=False)
    ExternalSystem.objects.create(
        code="fns",
        name="ФНС России",
        kind=SystemKind.TAX,
        provides=[DataKind.INCOME],
        base_url=f"{peers.agencies}fns/",
        secret="demo-fns",
    )
    for group, amount in (
        (SubsistenceGroup.PER_CAPITA, "20000"),
        (SubsistenceGroup.CHILD, "19000"),
    ):
        SubsistenceMinimum.objects.get_or_create(
            region_id="27",
            year=2026,
            group=group,
            defaults={"amount": Decimal(amount), "valid_from": date(2026, 1, 1)},
        )
    yield peers
    peers.control("fns", error_share=0, slow_share=0, down=False)


def test_missing_incomes_are_asked_of_the_tax_service_and_the_case_goes_on(
    client, mother, tax_service
):
    """The unified allowance needs the family's incomes: the platform asks the emulated tax
    service over HTTP, keeps its answer as income records, and works the case again."""
    born(client, mother)

    case = Case.objects.get(person=mother, measure__code="federal.unified_allowance")
    (asked,) = DataRequest.objects.filter(case_ref=f"case:{case.pk}")
    assert asked.kind == DataKind.INCOME and asked.person_id == mother.pk
    assert asked.exchange.status == "answered"
    kept = IncomeRecord.objects.filter(person=mother, source=f"fns:{asked.exchange_id}")
    assert kept.count() == len(asked.exchange.answer["incomes"]) > 0
    kinds = list(CaseEntry.objects.filter(case=case).values_list("kind", flat=True))
    assert CaseEntryKind.DATA_REQUESTED in kinds and CaseEntryKind.DATA_RECEIVED in kinds
    assert case.status in (CaseStatus.OFFERED, CaseStatus.NO_RIGHT)  # decided by the rules now
    evaluated = CaseEntry.objects.filter(case=case, kind=CaseEntryKind.EVALUATED).last()
    assert evaluated.data["outcome"] in ("eligible", "ineligible")


def test_an_answer_that_never_comes_flags_the_case_for_an_officer(client, mother, tax_service):
    tax_service.control("fns", error_share=1)
    event = born(client, mother)
    case = Case.objects.get(person=mother, measure__code="federal.unified_allowance")
    assert case.status == CaseStatus.WAITING_DATA and case.decision_due_at is None

    exchanges_due(now=event.learned_at + KINDS[DataKind.INCOME].deadline + timedelta(minutes=1))
    flagged = Case.objects.get(pk=case.pk)
    assert flagged.status == CaseStatus.REVIEW and flagged.decision_due_at is not None
    assert "deadline" in flagged.summary or "срок" in flagged.summary


def test_a_corrected_birth_act_grants_nothing_twice_and_keeps_the_child(client, mother):
    born(client, mother, event_id="b-1")
    zags = ExternalSystem.objects.get(code="zags-27")
    correction = birth(
        "b-1-fix",
        person("Иванова", "Мария", "1994-03-02", snils=MOTHER_SNILS, sex="F"),
        person("Иванов", "Павел", "2026-11-01", sex="M"),  # the child's name corrected
        corrects_event_id="b-1",
    )
    assert post(client, CIVIL, correction, zags).status_code == 202

    from registries.models import Person

    children = Person.objects.filter(relations_to__from_person=mother)
    assert [c.first_name for c in children] == ["Павел"]  # the same child, renamed
    granted = Decision.objects.filter(case__measure__code="federal.birth_allowance")
    assert granted.count() == 1
    assert Assignment.objects.filter(decision__in=granted).count() == 1
