"""Entitlements over the loaded catalogue: one person's check, the count and the stored sweep."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from measures.enums import DataOwner, Outcome
from measures.models import Entitlement, RuleVersion
from measures.rules import PersonFactSource, rule_check, rule_evaluate
from measures.rules.sources import Status
from measures.selectors import entitlement_explanation
from measures.services.entitlements import (
    NoRuleInForce,
    entitlement_count,
    entitlement_sweep,
    entitlements_calculate,
    entitlements_for_person,
)
from platform_core.errors import DomainError
from registries.enums import StatusKind
from registries.models import Person
from tests.measures.families import (
    ON,
    SCHOOLCHILD,
    UNIFIED,
    child_of,
    income,
    measure,
)

pytestmark = pytest.mark.django_db


def by_code(outcomes) -> dict:  # type: ignore[no-untyped-def]
    return {o.measure.code: o for o in outcomes}


class TestForPerson:
    def test_mother_of_a_large_family_gets_5000_per_child_aged_7_to_17(self, families):
        outcomes = by_code(entitlements_for_person(person=families.mother, on=ON))

        schoolchild = outcomes[SCHOOLCHILD]
        assert schoolchild.outcome == Outcome.ELIGIBLE
        # Children aged 7 and 12 count; 3 is too young and 18 no longer a schoolchild.
        assert schoolchild.amount == Decimal("10000.00")
        assert schoolchild.rule_version.version == 1
        facts = {f.key: f.value for f in schoolchild.evaluation.facts}
        assert facts["children(max_age=18, min_age=7)"] == 2
        assert facts["large_family"] is True

    def test_eligible_come_first_then_unknown_then_not(self, families):
        outcomes = entitlements_for_person(person=families.mother, on=ON)
        order = {Outcome.ELIGIBLE: 0, Outcome.UNKNOWN: 1, Outcome.INELIGIBLE: 2}
        ranks = [order[o.outcome] for o in outcomes]
        assert ranks == sorted(ranks)

    def test_without_income_data_the_unified_allowance_is_unknown_asking_the_tax_service(
        self, families
    ):
        unified = by_code(entitlements_for_person(person=families.mother, on=ON))[UNIFIED]

        assert unified.outcome == Outcome.UNKNOWN
        assert unified.amount is None
        missing = {f.name: f.owner for f in unified.evaluation.missing}
        assert missing == {"family_income_per_capita": DataOwner.TAX_SERVICE}

    def test_low_income_family_gets_half_the_childs_subsistence_minimum_for_12_months(
        self, families
    ):
        unified = by_code(entitlements_for_person(person=families.poor, on=ON))[UNIFIED]

        assert unified.outcome == Outcome.ELIGIBLE
        assert unified.amount == Decimal("9500.00")  # 19 000 × 0.5 × one child
        assert unified.period_months == 12
        assert unified.evaluation.missing == []

    def test_only_federal_and_own_region_measures_are_offered(self, families):
        codes = set(by_code(entitlements_for_person(person=families.single, on=ON)))

        assert SCHOOLCHILD in codes and UNIFIED in codes
        assert not any(code.startswith("moscow.") for code in codes)

    def test_a_person_without_children_is_not_eligible_for_the_schoolchild_payment(self, families):
        schoolchild = by_code(entitlements_for_person(person=families.single, on=ON))[SCHOOLCHILD]

        assert schoolchild.outcome == Outcome.INELIGIBLE
        assert schoolchild.amount is None


class TestCalculator:
    def test_a_hypothetical_large_family_gets_the_same_answer_as_a_real_one(self, families):
        outcomes = by_code(
            entitlements_calculate(
                region_code="27",
                on=ON,
                age=40,
                sex="F",
                children_ages=[3, 7, 12, 18],
                statuses=[Status(StatusKind.LARGE_FAMILY)],
            )
        )
        assert outcomes[SCHOOLCHILD].outcome == Outcome.ELIGIBLE
        assert outcomes[SCHOOLCHILD].amount == Decimal("10000.00")
        assert outcomes[UNIFIED].outcome == Outcome.UNKNOWN

    def test_unknown_region_is_refused_naming_the_field(self, loaded_catalogue):
        with pytest.raises(DomainError) as caught:
            entitlements_calculate(region_code="99", on=ON, age=30, sex="M")
        assert caught.value.field == "region"


def stored(code: str) -> dict[int, Entitlement]:
    return {e.person_id: e for e in Entitlement.objects.filter(measure__code=code, as_of=ON)}


class TestSweep:
    def test_writes_one_entitlement_per_person_of_the_region(self, families):
        region_persons = Person.objects.filter(region_id="27").count()

        summary = entitlement_sweep(measure=measure(SCHOOLCHILD), region_code="27", on=ON)

        assert summary.written == region_persons == summary.persons
        assert summary.rule_version == 1
        rows = stored(SCHOOLCHILD)
        assert len(rows) == region_persons
        mother = rows[families.mother.pk]
        assert (mother.outcome, mother.amount) == (Outcome.ELIGIBLE, Decimal("10000.00"))
        assert mother.facts["children(max_age=18, min_age=7)"] == 2
        assert mother.facts["large_family"] is True
        assert rows[families.single.pk].outcome == Outcome.INELIGIBLE
        assert rows[families.single.pk].amount is None
        assert summary.outcomes == {Outcome.ELIGIBLE: 1, Outcome.INELIGIBLE: region_persons - 1}

    def test_sweeps_only_the_region_given(self, families, region_77):
        from tests.measures.families import person

        muscovite = person(date(1980, 1, 1), region="77")
        entitlement_sweep(measure=measure(UNIFIED), region_code="27", on=ON)
        assert muscovite.pk not in stored(UNIFIED)

    def test_a_second_sweep_writes_nothing_and_keeps_the_evaluation_moments(self, families):
        entitlement_sweep(measure=measure(UNIFIED), region_code="27", on=ON)
        before = {pk: e.evaluated_at for pk, e in stored(UNIFIED).items()}

        again = entitlement_sweep(measure=measure(UNIFIED), region_code="27", on=ON)

        assert again.written == 0
        assert again.persons == len(before)
        assert {pk: e.evaluated_at for pk, e in stored(UNIFIED).items()} == before

    def test_a_new_income_changes_only_that_persons_row(self, families):
        entitlement_sweep(measure=measure(UNIFIED), region_code="27", on=ON)
        before = stored(UNIFIED)
        assert before[families.mother.pk].outcome == Outcome.UNKNOWN

        income(families.mother, "400000")
        summary = entitlement_sweep(measure=measure(UNIFIED), region_code="27", on=ON)

        assert summary.written == 1
        after = stored(UNIFIED)
        assert after[families.mother.pk].outcome == Outcome.INELIGIBLE
        assert after[families.mother.pk].evaluated_at > before[families.mother.pk].evaluated_at
        unchanged = {pk: (e.outcome, e.amount, e.evaluated_at) for pk, e in before.items()}
        del unchanged[families.mother.pk]
        assert {
            pk: (e.outcome, e.amount, e.evaluated_at)
            for pk, e in after.items()
            if pk != families.mother.pk
        } == unchanged

    def test_a_new_child_changes_the_amount_and_adds_the_childs_row(self, families):
        entitlement_sweep(measure=measure(SCHOOLCHILD), region_code="27", on=ON)

        child_of(families.mother, 10)
        summary = entitlement_sweep(measure=measure(SCHOOLCHILD), region_code="27", on=ON)

        assert summary.written == 2  # the mother's changed row and the new child's own
        assert stored(SCHOOLCHILD)[families.mother.pk].amount == Decimal("15000.00")

    def test_the_stored_explanation_matches_the_python_evaluation(self, families):
        entitlement_sweep(measure=measure(UNIFIED), region_code="27", on=ON)
        rule = rule_check(RuleVersion.objects.get(measure__code=UNIFIED).eligibility)

        for who in (families.mother, families.poor, families.single):
            entitlement = Entitlement.objects.get(measure__code=UNIFIED, person=who)
            explained = entitlement_explanation(entitlement=entitlement)
            live = rule_evaluate(rule=rule, source=PersonFactSource(person=who, as_of=ON))
            assert explained.value == live.value
            assert explained.conditions == live.conditions
            assert explained.facts == live.facts
            assert (
                entitlement.outcome
                == {
                    True: Outcome.ELIGIBLE,
                    False: Outcome.INELIGIBLE,
                    None: Outcome.UNKNOWN,
                }[live.value]
            )

    def test_the_stored_amount_matches_the_person_check(self, families):
        entitlement_sweep(measure=measure(UNIFIED), region_code="27", on=ON)
        entitlement = Entitlement.objects.get(measure__code=UNIFIED, person=families.poor)
        live = by_code(entitlements_for_person(person=families.poor, on=ON))[UNIFIED]
        assert (entitlement.outcome, entitlement.amount) == (live.outcome, live.amount)

    def test_count_agrees_with_the_sweep(self, families):
        for code in (UNIFIED, SCHOOLCHILD):
            counts = entitlement_count(measure=measure(code), region_code="27", on=ON)
            summary = entitlement_sweep(measure=measure(code), region_code="27", on=ON)
            assert {k: v for k, v in counts.items() if v} == summary.outcomes

    def test_no_rule_in_force_before_the_first_version(self, families):
        early = date(2020, 1, 1)
        with pytest.raises(NoRuleInForce):
            entitlement_sweep(measure=measure(SCHOOLCHILD), region_code="27", on=early)
        with pytest.raises(NoRuleInForce):
            entitlement_count(measure=measure(SCHOOLCHILD), region_code="27", on=early)
        assert not Entitlement.objects.exists()

    def test_a_draft_is_not_in_force(self, families, officer_27):
        schoolchild = measure(SCHOOLCHILD)
        RuleVersion.objects.filter(measure=schoolchild).update(status="draft")
        with pytest.raises(NoRuleInForce):
            entitlement_sweep(measure=schoolchild, region_code="27", on=ON + timedelta(days=1))

    def test_another_regions_measure_is_not_swept(self, families):
        with pytest.raises(DomainError):
            entitlement_sweep(measure=measure("moscow.child_allowance"), region_code="27", on=ON)
        assert not Entitlement.objects.exists()


@pytest.mark.django_db(transaction=True)
class TestSweepWithConcurrentWriters:
    """Outside a transaction a sweep writes its chunks from several sessions at once, reading
    the staged rows from an unlogged table (measures/services/entitlements.py)."""

    def staged_tables(self) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname FROM pg_class WHERE relname LIKE 'measures_sweep_facts%%'"
            )
            return [row[0] for row in cursor.fetchall()]

    def test_writes_every_row_once_and_leaves_no_staged_table(self, families):
        region_persons = Person.objects.filter(region_id="27").count()

        summary = entitlement_sweep(
            measure=measure(SCHOOLCHILD), region_code="27", on=ON, chunk_size=2
        )

        assert summary.written == region_persons == len(stored(SCHOOLCHILD))
        assert stored(SCHOOLCHILD)[families.mother.pk].amount == Decimal("10000.00")
        assert self.staged_tables() == []

    def test_a_repeat_writes_nothing_and_a_change_writes_its_row_only(self, families):
        entitlement_sweep(measure=measure(UNIFIED), region_code="27", on=ON, chunk_size=2)
        before = {pk: e.evaluated_at for pk, e in stored(UNIFIED).items()}

        again = entitlement_sweep(measure=measure(UNIFIED), region_code="27", on=ON, chunk_size=2)
        income(families.mother, "400000")
        changed = entitlement_sweep(measure=measure(UNIFIED), region_code="27", on=ON, chunk_size=2)

        assert again.written == 0
        assert changed.written == 1
        after = stored(UNIFIED)
        assert after[families.mother.pk].outcome == Outcome.INELIGIBLE
        assert {pk: e.evaluated_at for pk, e in after.items() if pk != families.mother.pk} == {
            pk: at for pk, at in before.items() if pk != families.mother.pk
        }

    def test_a_row_written_by_another_sweep_meanwhile_is_updated_not_doubled(self, families):
        version = RuleVersion.objects.get(measure__code=UNIFIED)
        Entitlement.objects.create(
            person=families.single,
            measure=version.measure,
            rule_version=version,
            as_of=ON,
            outcome=Outcome.ELIGIBLE,
            facts={},
            evaluated_at=timezone.now(),
        )

        entitlement_sweep(measure=measure(UNIFIED), region_code="27", on=ON, chunk_size=1)

        rows = Entitlement.objects.filter(person=families.single, measure=version.measure)
        assert [r.outcome for r in rows] == [Outcome.INELIGIBLE]
