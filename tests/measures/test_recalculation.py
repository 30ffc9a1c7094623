"""Recalculation: a corrected or cancelled life event and rules changed retroactively work
an assignment out again; the difference becomes arrears or an overpayment, never twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from integration.models import ExternalSystem, FederalFact
from measures.enums import (
    AssignmentStatus,
    CaseStatus,
    DecisionOutcome,
    ProvisionKind,
    RecalculationCause,
    RuleStatus,
    TriggerKind,
)
from measures.models import Assignment, Case, Decision, Measure, Recalculation, RuleVersion
from measures.services.cases import case_decide, case_open, case_work
from measures.services.dues import amount_due
from measures.services.recalculation import recalculations_for_measure
from platform_core.calendar import calendar_load_year
from platform_core.signing import signature_valid
from registries.enums import IncomeKind, LifeEventStatus, SubsistenceGroup
from registries.models import IncomeRecord, LifeEvent, SubsistenceMinimum
from registries.services.agency_data import incomes_changed
from tests.conftest import make_staff
from tests.integration.helpers import CIVIL, act, birth, person, post
from tests.measures.births import MOTHER_SNILS, born
from tests.measures.families import ON, UNIFIED, child_of, income
from tests.measures.families import person as resident

BIRTH = "federal.birth_allowance"


def test_what_terms_owe_is_counted_by_month_and_its_days():
    monthly, once = ProvisionKind.CASH_MONTHLY, ProvisionKind.CASH_ONCE
    nov, dec = date(2025, 11, 1), date(2025, 12, 1)
    due = amount_due(amount=Decimal("3000"), provision=monthly, start=nov, end=None, until=dec)
    assert due == Decimal("3096.77")  # November whole, 1 of December's 31 days
    half = amount_due(
        amount=Decimal("3000"),
        provision=monthly,
        start=date(2025, 11, 16),
        end=None,
        until=date(2025, 11, 30),
    )
    assert half == Decimal("1500.00")
    ended = amount_due(
        amount=Decimal("3000"),
        provision=monthly,
        start=nov,
        end=date(2025, 11, 30),
        until=date(2026, 6, 1),
    )
    assert ended == Decimal("3000.00")
    quarter = amount_due(
        amount=Decimal("9000"),
        provision=ProvisionKind.CASH_QUARTERLY,
        start=nov,
        end=None,
        until=date(2025, 11, 30),
    )
    assert quarter == Decimal("3000.00")
    assert amount_due(amount=Decimal("500"), provision=once, start=dec, end=dec, until=nov) == 0
    assert amount_due(amount=Decimal("500"), provision=once, start=nov, end=nov, until=dec) == 500
    assert amount_due(amount=None, provision=monthly, start=nov, end=None, until=dec) == 0


@pytest.mark.django_db
class TestRulesChanged:
    @pytest.fixture
    def granted(self, loaded_catalogue) -> Assignment:
        """The unified allowance granted on an application from ON: 9,500 a month (half
        the child's subsistence minimum of 19,000), for 12 months."""
        for year in (2025, 2026, 2027):
            calendar_load_year(year=year)
        poor = resident(date(1992, 2, 2), "F", last_name="Малоимущая")
        child_of(poor, 5)
        income(poor, "15000")
        for month in (date(2025, 9, 1), date(2025, 10, 1)):  # known up to the change
            IncomeRecord.objects.create(
                person=poor, kind=IncomeKind.SALARY, month=month, amount=15000, source="test"
            )
        case, _ = case_open(
            person=poor,
            measure=Measure.objects.get(code=UNIFIED),
            trigger_kind=TriggerKind.APPLICATION,
            trigger_key="application:test",
            as_of=ON,
            now=timezone.now(),
        )
        case = case_work(case_id=case.pk, now=timezone.now())
        assert case.status == CaseStatus.DECIDED
        return Assignment.objects.get(decision__case=case)

    def test_a_raised_minimum_recalculates_the_rest_of_the_period_with_arrears(self, granted):
        assert (granted.amount, granted.active_to) == (Decimal("9500.00"), date(2026, 8, 31))
        SubsistenceMinimum.objects.create(
            region_id="27",
            year=2025,
            group=SubsistenceGroup.CHILD,
            amount=Decimal("21000"),
            valid_from=date(2025, 11, 1),
        )
        now = datetime(2025, 12, 1, 3, 0, tzinfo=UTC)  # 1 December in Khabarovsk
        [case] = recalculations_for_measure(
            measure=granted.measure, effective_from=date(2025, 11, 1), now=now
        )

        assert case.status == CaseStatus.DECIDED and case.trigger_kind == "recalculation"
        decision = case.decision
        assert decision.amount == Decimal("10500.00") and decision.automatic
        assert signature_valid(decision.signed, decision.signature)
        old = Assignment.objects.get(pk=granted.pk)
        assert (old.status, old.active_to) == (AssignmentStatus.TERMINATED, date(2025, 10, 31))
        new = Assignment.objects.get(decision=decision)
        assert (new.active_from, new.active_to) == (date(2025, 11, 1), date(2026, 8, 31))
        recalculation = Recalculation.objects.get(case=case)
        assert recalculation.cause == RecalculationCause.PARAMETERS
        assert recalculation.replacement == new and recalculation.old_amount == Decimal("9500")
        # 1,000 more for November and for 1 of December's 31 days: arrears
        assert recalculation.difference == Decimal("1032.26")
        assert recalculation.computed_to == date(2025, 12, 1)

        again = recalculations_for_measure(
            measure=granted.measure, effective_from=date(2025, 11, 1), now=now
        )
        assert [c.pk for c in again] == [case.pk]  # the same cause changes nothing twice
        assert Decision.objects.count() == 2 and Recalculation.objects.count() == 1

    def test_unchanged_rules_change_nothing(self, granted):
        recalculations_for_measure(
            measure=granted.measure, effective_from=date(2025, 11, 1), now=timezone.now()
        )
        case = Case.objects.get(trigger_kind="recalculation")
        assert case.status == CaseStatus.CLOSED
        assert not Decision.objects.filter(case=case).exists()
        assert Assignment.objects.get(pk=granted.pk).status == AssignmentStatus.ACTIVE

    def test_lost_right_goes_to_two_officers_and_is_an_overpayment(self, granted, ministry_27):
        IncomeRecord.objects.create(
            person=granted.person,
            kind=IncomeKind.OTHER,
            month=date(2025, 10, 1),
            amount=Decimal("900000"),
            source="test",
        )
        now = datetime(2025, 12, 1, 3, 0, tzinfo=UTC)
        [case] = recalculations_for_measure(
            measure=granted.measure, effective_from=date(2025, 11, 1), now=now
        )
        assert case.status == CaseStatus.REVIEW  # the rules alone take no right away
        assert Assignment.objects.get(pk=granted.pk).status == AssignmentStatus.ACTIVE
        first, second = make_staff("maker", ministry_27), make_staff("checker", ministry_27)
        for officer in (first, second):
            case = case_decide(
                case=case,
                outcome=DecisionOutcome.REFUSE,
                reason="Доход превышен",
                officer=officer,
                now=now,
            )
        recalculation = Recalculation.objects.get(case=case)
        assert recalculation.replacement is None
        assert recalculation.difference == Decimal("-9806.45")  # November and 1/31 of December
        old = Assignment.objects.get(pk=granted.pk)
        assert (old.status, old.active_to) == (AssignmentStatus.TERMINATED, date(2025, 10, 31))

    def test_income_corrected_for_a_counted_month_recalculates_from_the_first_day(
        self, granted, admin_client, django_capture_on_commit_callbacks
    ):
        # The tax service's late correction: a large income in March 2025, counted by the
        # decision (the 12 months before September), entered by an officer.
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                "/admin/registries/incomerecord/add/",
                {
                    "person": granted.person.pk,
                    "kind": IncomeKind.OTHER,
                    "month": "2025-03-01",
                    "amount": "900000",
                    "payer_inn": "",
                    "source": "tax-correction",
                },
            )
        assert response.status_code == 302
        case = Case.objects.get(trigger_kind=TriggerKind.RECALCULATION)
        assert case.status == CaseStatus.REVIEW  # the right would be lost: officers decide
        assert Recalculation.objects.get(case=case).cause == RecalculationCause.INCOME
        assert case.as_of == granted.active_from == ON

        # A month no decision counted (after September) recalculates nothing.
        with django_capture_on_commit_callbacks(execute=True):
            incomes_changed(person_id=granted.person.pk, months=[date(2025, 10, 1)], key="x")
        assert Case.objects.filter(trigger_kind=TriggerKind.RECALCULATION).count() == 1

    def test_a_counted_income_that_changes_nothing_closes_the_recalculation(
        self, granted, django_capture_on_commit_callbacks
    ):
        record = IncomeRecord.objects.filter(person=granted.person).earliest("month")
        record.amount += 1  # a kopeck-level correction: the same outcome
        record.save()
        for _ in range(2):  # the same change told twice is worked once
            with django_capture_on_commit_callbacks(execute=True):
                incomes_changed(person_id=granted.person.pk, months=[record.month], key="fix-1")
        case = Case.objects.get(trigger_kind=TriggerKind.RECALCULATION)
        assert case.status == CaseStatus.CLOSED
        assert Assignment.objects.get(pk=granted.pk).status == AssignmentStatus.ACTIVE


@pytest.mark.django_db(transaction=True)
def test_a_corrected_birth_date_recalculates_the_grant_with_an_overpayment(
    client,
    mother,
):
    measure = Measure.objects.get(code=BIRTH)
    shipped = measure.rule_versions.get(status=RuleStatus.PUBLISHED)
    shipped.valid_to = date(2026, 10, 31)
    shipped.save(update_fields=["valid_to"])
    RuleVersion.objects.create(
        measure=measure,
        version=shipped.version + 1,
        status=RuleStatus.PUBLISHED,
        eligibility=shipped.eligibility,
        amount="30000",
        valid_from=date(2026, 11, 1),
        published_at=timezone.now(),
    )
    born(client, mother, event_id="b-1", on="2026-11-01")
    first = Assignment.objects.get(measure=measure)
    assert first.amount == Decimal("30000.00")

    zags = ExternalSystem.objects.get(code="zags-27")
    correction = birth(
        "b-1-fix",
        person("Иванова", "Мария", "1994-03-02", snils=MOTHER_SNILS, sex="F"),
        person("Иванов", "Пётр", "2026-10-20", sex="M"),  # born earlier than recorded
        corrects_event_id="b-1",
    )
    assert post(client, CIVIL, correction, zags).status_code == 202
    assert post(client, CIVIL, correction, zags).status_code == 202  # repeated: nothing new

    recalculation = Recalculation.objects.get(case__measure=measure)
    assert recalculation.cause == RecalculationCause.CORRECTION
    assert recalculation.effective_from == date(2026, 10, 20)
    new = recalculation.replacement
    assert new is not None
    assert (new.amount, new.active_from) == (Decimal("26940.37"), date(2026, 10, 20))
    assert recalculation.difference == Decimal("-3059.63")  # an overpayment
    old = Assignment.objects.get(pk=first.pk)
    assert old.status == AssignmentStatus.TERMINATED
    assert Decision.objects.filter(case__measure=measure).count() == 2
    facts = FederalFact.objects.filter(payload__measure__code=BIRTH)
    assert {f.payload["status"] for f in facts} >= {"assigned", "terminated"}


@pytest.mark.django_db(transaction=True)
def test_a_corrected_birth_date_grants_what_the_recorded_date_gave_no_right_to(client, mother):
    measure = Measure.objects.get(code=BIRTH)
    shipped = measure.rule_versions.get(status=RuleStatus.PUBLISHED)
    shipped.valid_from = date(2026, 11, 1)  # no right for births before November
    shipped.save(update_fields=["valid_from"])
    RuleVersion.objects.create(
        measure=measure,
        version=shipped.version + 1,
        status=RuleStatus.PUBLISHED,
        eligibility="false",
        valid_from=date(2020, 1, 1),
        valid_to=date(2026, 10, 31),
        published_at=timezone.now(),
    )
    born(client, mother, event_id="b-1", on="2026-10-20")
    first = Case.objects.get(measure=measure)
    assert first.status == CaseStatus.NO_RIGHT
    assert not Assignment.objects.filter(measure=measure).exists()

    zags = ExternalSystem.objects.get(code="zags-27")
    correction = birth(
        "b-1-fix",
        person("Иванова", "Мария", "1994-03-02", snils=MOTHER_SNILS, sex="F"),
        person("Иванов", "Пётр", "2026-11-02", sex="M"),  # born later than recorded
        corrects_event_id="b-1",
    )
    for _ in range(2):  # repeated: nothing new
        assert post(client, CIVIL, correction, zags).status_code == 202

    again = Case.objects.exclude(pk=first.pk).get(measure=measure)
    assert again.status == CaseStatus.DECIDED and again.as_of == date(2026, 11, 2)
    assert again.trigger_key.startswith(f"{first.trigger_key}:corrected:")
    granted = Assignment.objects.get(measure=measure)
    assert (granted.person, granted.active_from) == (mother, date(2026, 11, 2))
    # What the earlier version granted is recalculation's, not tried again.
    others = Case.objects.exclude(measure=measure).exclude(status=CaseStatus.NO_RIGHT)
    assert not others.filter(trigger_key__contains=":corrected:").exists()


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_birth_act_sends_the_grant_to_officers_to_revoke(
    client,
    mother,
    ministry_27,
):
    born(client, mother, event_id="b-1", on="2026-11-01")
    granted = Assignment.objects.get(measure__code=BIRTH)
    zags = ExternalSystem.objects.get(code="zags-27")
    cancel = act("b-1-cancel", "birth", "2026-11-01", {}, corrects_event_id="b-1", cancelled=True)
    response = post(client, CIVIL, cancel, zags)
    assert response.status_code == 202, response.content
    assert LifeEvent.objects.get(source_event_id="b-1").status == LifeEventStatus.CANCELLED

    case = Case.objects.get(trigger_kind="recalculation", measure__code=BIRTH)
    assert case.status == CaseStatus.REVIEW and case.decision_due_at is not None
    assert Assignment.objects.get(pk=granted.pk).status == AssignmentStatus.ACTIVE
    now = timezone.now()
    for name in ("maker", "checker"):
        case = case_decide(
            case=case,
            outcome=DecisionOutcome.REFUSE,
            reason="Запись акта аннулирована",
            officer=make_staff(name, ministry_27),
            now=now,
        )
    recalculation = Recalculation.objects.get(case=case)
    assert recalculation.difference == -granted.amount and recalculation.replacement is None
    assert Assignment.objects.get(pk=granted.pk).status == AssignmentStatus.TERMINATED


@pytest.mark.django_db
def test_the_recalculate_command_names_what_is_wrong(loaded_catalogue):
    with pytest.raises(CommandError, match="--from"):
        call_command("recalculate", "--measure", UNIFIED, "--from", "2025-13-01")
    with pytest.raises(CommandError, match=r"--measure.*nope"):
        call_command("recalculate", "--measure", "nope", "--from", "2025-11-01")
    with pytest.raises(CommandError, match="--region"):
        call_command("recalculate", "--measure", UNIFIED, "--from", "2025-11-01", "--region", "99")
    assert timedelta  # used above for dates
