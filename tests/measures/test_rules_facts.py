"""Every fact of the library on a small real family, each value the same in Python and SQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from measures.enums import DataOwner
from measures.rules import FACTS, PersonFactSource, rule_check, rule_evaluate
from registries.enums import (
    IncomeKind,
    InsurerKind,
    LifeEventKind,
    LifeEventStatus,
    RelationBasis,
    RelationKind,
    StatusKind,
    SubsistenceGroup,
)
from registries.models import (
    EmploymentRecord,
    IncomeRecord,
    Insurer,
    LifeEvent,
    Person,
    PersonStatus,
    Relation,
    SubsistenceMinimum,
)
from tests.measures.rules_helpers import both, number, text
from tests.registries.factories import PersonFactory

pytestmark = pytest.mark.usefixtures("region_27", "english_messages")

ON = date(2026, 6, 15)
DAY = timedelta(days=1)

COVERED: set[str] = set()


def covers(*names: str) -> Callable:
    """Record that a test proves the named facts; see test_every_fact_is_covered."""

    def mark(test: Callable) -> Callable:
        COVERED.update(names)
        return test

    return mark


def person(birth: date, sex: str = "M", **fields) -> Person:
    return PersonFactory(snils=None, birth_date=birth, sex=sex, **fields)


def parent_of(
    parent: Person, child: Person, *, since: date | None = None, until: date | None = None
) -> Relation:
    return Relation.objects.create(
        kind=RelationKind.PARENT,
        basis=RelationBasis.BIRTH,
        from_person=parent,
        to_person=child,
        valid_from=since or child.birth_date,
        valid_to=until,
    )


def marry(husband: Person, wife: Person, *, since: date, until: date | None = None) -> Relation:
    return Relation.objects.create(
        kind=RelationKind.SPOUSE,
        basis=RelationBasis.MARRIAGE,
        from_person=husband,
        to_person=wife,
        valid_from=since,
        valid_to=until,
    )


def status(
    who: Person,
    kind: str,
    *,
    since: date,
    until: date | None = None,
    group: str = "",
    from_childhood: bool = False,
) -> PersonStatus:
    return PersonStatus.objects.create(
        person=who,
        kind=kind,
        valid_from=since,
        valid_to=until,
        disability_group=group,
        from_childhood=from_childhood,
        source="test",
    )


def income(who: Person, month: date, amount: str, kind: str = IncomeKind.SALARY) -> None:
    IncomeRecord.objects.create(
        person=who, kind=kind, month=month, amount=Decimal(amount), source="test"
    )


def employ(who: Person, *, since: date, until: date | None = None) -> None:
    insurer, _created = Insurer.objects.get_or_create(
        inn="2721000001",
        defaults={
            "kind": InsurerKind.LEGAL_ENTITY,
            "name": "ООО «Амур»",
            "ogrn": "1022700000001",
            "kpp": "272101001",
            "region_id": "27",
            "registered_on": date(2000, 1, 1),
        },
    )
    EmploymentRecord.objects.create(
        person=who, insurer=insurer, started_on=since, ended_on=until, source="test"
    )


def pregnancy(
    who: Person, day: date, week: object, status: str = LifeEventStatus.ACTIVE
) -> LifeEvent:
    return LifeEvent.objects.create(
        kind=LifeEventKind.PREGNANCY_REGISTERED,
        person=who,
        occurred_on=day,
        learned_at=timezone.now(),
        source_system="clinic",
        source_event_id=f"{who.pk}-{day.isoformat()}",
        status=status,
        details={"week": week},
    )


def subsistence(region: str, year: int, group: str, amount: str, since: date) -> None:
    SubsistenceMinimum.objects.create(
        region_id=region, year=year, group=group, amount=Decimal(amount), valid_from=since
    )


# Who the person is.


@covers("age")
def test_age_turns_on_the_birthday():
    someone = person(date(2000, 6, 15))

    assert number("age", someone, ON) == 26
    assert number("age", someone, ON - DAY) == 25
    assert number("age", someone, someone.birth_date) == 0


@covers("age")
def test_age_of_someone_born_on_29_february():
    leapling = person(date(2000, 2, 29))

    assert number("age", leapling, date(2026, 2, 28)) == 25
    assert number("age", leapling, date(2026, 3, 1)) == 26
    assert number("age", leapling, date(2028, 2, 28)) == 27
    assert number("age", leapling, date(2028, 2, 29)) == 28


@covers("age")
def test_age_before_birth_is_unknown():
    unborn = person(ON + DAY)

    assert number("age", unborn, ON) is None
    assert both("age >= 0", unborn, ON) is None


@covers("sex")
def test_sex():
    assert text("sex", person(date(1990, 1, 1), sex="F"), ON) == "F"
    assert both('sex == "M"', person(date(1990, 1, 1), sex="M"), ON) is True


@covers("region")
def test_region_is_the_code_of_the_region_of_registration(region_77):
    assert text("region", person(date(1990, 1, 1)), ON) == "27"
    assert both('region in ["77", "50"]', person(date(1990, 1, 1), region_id="77"), ON) is True


@covers("municipality")
def test_municipality_is_the_oktmo_code_or_unknown(khabarovsk):
    assert text("municipality", person(date(1990, 1, 1), municipality=khabarovsk), ON) == (
        "08701000"
    )
    unrecorded = person(date(1990, 1, 1))
    assert text("municipality", unrecorded, ON) is None
    assert both('municipality == "08701000"', unrecorded, ON) is None


@covers("citizen")
def test_citizen_of_russia():
    assert both("citizen", person(date(1990, 1, 1)), ON) is True
    assert both("citizen", person(date(1990, 1, 1), citizenship="KAZ"), ON) is False


@covers("alive")
def test_alive_until_the_day_of_death():
    died = person(date(1950, 1, 1), death_date=ON)

    assert both("alive", died, ON - DAY) is True
    assert both("alive", died, ON) is False
    assert both("alive", person(ON + DAY), ON) is False
    assert both("alive", person(ON), ON) is True


# Children.


@pytest.fixture
def mother_of_many() -> Person:
    """A mother on ON with children of every kind the children facts tell apart."""
    mother = person(date(1980, 3, 1), sex="F")
    for birth, died, ended in [
        (date(2024, 1, 1), None, None),  # 2 years old
        (date(2020, 6, 15), None, None),  # 6 years old on ON exactly
        (date(2020, 6, 16), None, None),  # 6 years old from tomorrow
        (date(2023, 5, 5), date(2025, 1, 1), None),  # died
        (date(2019, 1, 1), None, date(2025, 1, 1)),  # parent relation ended (adoption undone)
        (date(2000, 1, 1), None, None),  # adult
        (ON + DAY, None, None),  # not yet born
    ]:
        parent_of(mother, person(birth, death_date=died), until=ended)
    return mother


@covers("children")
def test_children_by_age_band(mother_of_many):
    assert number("children(max_age=3)", mother_of_many, ON) == 1
    assert number("children(min_age=3, max_age=6)", mother_of_many, ON) == 1
    assert number("children(min_age=6)", mother_of_many, ON) == 2
    assert number("children(min_age=6, max_age=7)", mother_of_many, ON) == 1
    assert number("children(max_age=18)", mother_of_many, ON) == 3
    assert number("children()", mother_of_many, ON) == 4
    assert number("children", mother_of_many, ON) == 4


@covers("children")
def test_a_child_is_counted_from_the_birthday_in_the_next_band(mother_of_many):
    assert number("children(min_age=3, max_age=6)", mother_of_many, ON - DAY) == 2
    assert number("children(max_age=1)", mother_of_many, ON + DAY) == 1


@covers("children")
def test_a_child_tied_before_birth_is_counted_only_once_born():
    mother = person(date(1995, 1, 1), sex="F")
    baby = person(ON + DAY)
    parent_of(mother, baby, since=ON - 30 * DAY)

    assert number("children(max_age=1)", mother, ON) == 0
    assert number("children(max_age=1)", mother, ON + DAY) == 1


@covers("children")
def test_children_without_any_is_zero():
    assert number("children(max_age=3)", person(date(1990, 1, 1)), ON) == 0


@covers("children_born")
def test_children_born_counts_the_dead_and_ended_ties_but_not_the_unborn(mother_of_many):
    assert number("children_born", mother_of_many, ON) == 6
    assert number("children_born", mother_of_many, ON + DAY) == 7


@covers("children_born")
def test_children_born_counts_a_child_once_with_two_ties():
    father = person(date(1985, 1, 1))
    child = person(date(2015, 1, 1))
    parent_of(father, child, until=date(2016, 1, 1))
    parent_of(father, child, since=date(2018, 1, 1))

    assert number("children_born", father, ON) == 1


@covers("children_born_at_once")
def test_children_born_at_once_for_twins():
    mother = person(date(1990, 1, 1), sex="F")
    parent_of(mother, person(date(2015, 1, 1)))
    for _twin in range(2):
        parent_of(mother, person(date(2025, 2, 3)))

    assert number("children_born_at_once", mother, ON) == 2
    assert number("children_born_at_once", mother, date(2020, 1, 1)) == 1


@covers("children_born_at_once")
def test_children_born_at_once_counts_a_dead_triplet():
    father = person(date(1990, 1, 1))
    for died in (None, None, date(2025, 3, 1)):
        parent_of(father, person(date(2025, 2, 3), death_date=died))

    assert number("children_born_at_once", father, ON) == 3


@covers("children_born_at_once")
def test_children_born_at_once_without_children_is_zero():
    # Enough relations of other people that a relation's id could pass for this person's.
    others = [person(date(1990, 1, 1)) for _ in range(3)]
    parent_of(others[0], others[1], since=ON)
    lonely = person(date(1990, 1, 1))

    assert number("children_born_at_once", lonely, ON) == 0


@covers("birth_order")
def test_birth_order_among_the_mothers_children():
    mother = person(date(1985, 1, 1), sex="F")
    father = person(date(1984, 1, 1))
    first, second, third = (person(date(year, 5, 1)) for year in (2010, 2014, 2020))
    for child in (first, second, third):
        parent_of(mother, child)
    parent_of(father, third)

    assert number("birth_order", first, ON) == 1
    assert number("birth_order", second, ON) == 2
    assert number("birth_order", third, ON) == 3


@covers("birth_order")
def test_birth_order_of_twins_is_shared():
    mother = person(date(1985, 1, 1), sex="F")
    parent_of(mother, person(date(2010, 5, 1)))
    twins = [person(date(2015, 5, 1)) for _ in range(2)]
    for twin in twins:
        parent_of(mother, twin)

    assert [number("birth_order", twin, ON) for twin in twins] == [2, 2]


@covers("birth_order")
def test_birth_order_without_a_mother_is_unknown():
    father = person(date(1984, 1, 1))
    child = person(date(2015, 1, 1))
    parent_of(father, child)
    mother = person(date(1986, 1, 1), sex="F")
    parent_of(mother, child, since=ON + DAY)

    assert number("birth_order", child, ON) is None
    assert number("birth_order", person(date(2000, 1, 1)), ON) is None
    assert number("birth_order", child, ON + DAY) == 1


# The family and its income.


@pytest.fixture
def family() -> dict[str, Person]:
    """A couple married since 2012 with a minor child and an adult son."""
    members = {
        "husband": person(date(1985, 1, 1)),
        "wife": person(date(1987, 1, 1), sex="F"),
        "child": person(date(2015, 9, 1)),
        "adult": person(date(2005, 1, 1)),
    }
    marry(members["husband"], members["wife"], since=date(2012, 1, 1))
    for parent in (members["husband"], members["wife"]):
        parent_of(parent, members["child"])
        parent_of(parent, members["adult"])
    return members


@covers("family_size")
def test_family_size_is_the_couple_and_their_minor_children(family):
    assert number("family_size", family["husband"], ON) == 3
    assert number("family_size", family["wife"], ON) == 3
    assert number("family_size", family["adult"], ON) == 1
    # In 2010 the couple was not married yet and the elder son was a minor.
    assert number("family_size", family["husband"], date(2010, 1, 1)) == 2


@covers("family_size")
def test_family_size_leaves_out_a_dead_spouse():
    widower = person(date(1960, 1, 1))
    marry(widower, person(date(1962, 1, 1), sex="F", death_date=ON - DAY), since=date(1985, 1, 1))

    assert number("family_size", widower, ON) == 1
    assert number("family_size", widower, ON - 2 * DAY) == 2


@covers("family_size")
def test_family_size_leaves_out_a_divorced_spouse_from_the_day_after_the_divorce():
    husband = person(date(1980, 1, 1))
    marry(husband, person(date(1982, 1, 1), sex="F"), since=date(2005, 1, 1), until=ON - DAY)

    assert number("family_size", husband, ON) == 1
    assert number("family_size", husband, ON - DAY) == 2


@covers("family_size")
def test_family_size_counts_a_marriage_recorded_from_both_sides_once():
    husband, wife = person(date(1980, 1, 1)), person(date(1982, 1, 1), sex="F")
    marry(husband, wife, since=date(2005, 1, 1))
    marry(wife, husband, since=date(2005, 1, 1))

    assert number("family_size", husband, ON) == 2
    assert number("family_size", wife, ON) == 2


@covers("family_income_per_capita")
def test_family_income_counts_the_couple_and_minor_children_in_whole_past_months(family):
    husband, wife, child, adult = family.values()
    for month in (date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)):
        income(husband, month, "30000.00")
    income(wife, date(2026, 5, 1), "15000.00")
    income(child, date(2026, 4, 1), "1500.00", kind=IncomeKind.BENEFIT)
    income(adult, date(2026, 5, 1), "50000.00")  # an adult child is a family of his own
    income(husband, date(2026, 6, 1), "99999.00")  # the month of the date is not over yet
    income(husband, date(2026, 2, 1), "12345.00")  # before the three months

    # (90 000 + 15 000 + 1 500) / 3 months / 3 people
    assert number("family_income_per_capita(months=3)", husband, ON) == Decimal("11833.33")
    assert number("family_income_per_capita(months=3)", wife, ON) == Decimal("11833.33")
    # (106 500 + 12 345) / 12 months / 3 people = 3301.25
    assert number("family_income_per_capita", husband, ON) == Decimal("3301.25")
    assert number("family_income_per_capita(months=1)", adult, ON) == Decimal("50000.00")


@covers("family_income_per_capita")
def test_family_income_rounds_half_up_to_kopecks():
    single = person(date(1990, 1, 1))
    income(single, date(2026, 5, 1), "0.05")
    income(single, date(2026, 4, 1), "0.00")

    assert number("family_income_per_capita(months=2)", single, ON) == Decimal("0.03")


@covers("family_income_per_capita")
def test_family_income_without_any_income_is_unknown(family):
    income(family["adult"], date(2026, 5, 1), "50000.00")
    income(family["husband"], date(2025, 1, 1), "30000.00")

    assert number("family_income_per_capita(months=3)", family["husband"], ON) is None


@covers("family_income_per_capita")
def test_family_income_of_zero_is_known():
    single = person(date(1990, 1, 1))
    income(single, date(2026, 5, 1), "0.00")

    assert number("family_income_per_capita(months=3)", single, ON) == 0


@covers("subsistence_minimum")
def test_subsistence_minimum_of_the_region_year_and_group(region_77):
    subsistence("27", 2026, SubsistenceGroup.PER_CAPITA, "20000.00", date(2026, 1, 1))
    subsistence("27", 2026, SubsistenceGroup.PER_CAPITA, "21000.00", date(2026, 7, 1))
    subsistence("27", 2026, SubsistenceGroup.CHILD, "18500.00", date(2026, 1, 1))
    subsistence("27", 2025, SubsistenceGroup.PER_CAPITA, "17000.00", date(2025, 1, 1))
    subsistence("77", 2026, SubsistenceGroup.PER_CAPITA, "25000.00", date(2026, 1, 1))
    someone = person(date(1990, 1, 1))

    assert number("subsistence_minimum", someone, ON) == Decimal("20000.00")
    assert number("subsistence_minimum()", someone, date(2026, 7, 1)) == Decimal("21000.00")
    assert number('subsistence_minimum(group="child")', someone, ON) == Decimal("18500.00")
    assert number('subsistence_minimum("per_capita")', someone, date(2025, 6, 1)) == 17000
    assert number("subsistence_minimum", person(date(1990, 1, 1), region_id="77"), ON) == 25000


@covers("subsistence_minimum")
def test_subsistence_minimum_missing_is_unknown():
    subsistence("27", 2025, SubsistenceGroup.PER_CAPITA, "17000.00", date(2025, 1, 1))
    someone = person(date(1990, 1, 1))

    assert number("subsistence_minimum", someone, ON) is None
    assert number('subsistence_minimum(group="pensioner")', someone, date(2025, 6, 1)) is None


# Statuses, work and events.


@covers("disability_group", "disabled_from_childhood")
def test_no_disability():
    someone = person(date(1990, 1, 1))
    status(someone, StatusKind.PENSIONER, since=date(2020, 1, 1))

    assert text("disability_group", someone, ON) == "none"
    assert both("disabled_from_childhood", someone, ON) is False


@covers("disability_group", "disabled_from_childhood")
def test_disability_group_of_the_latest_active_status():
    someone = person(date(2005, 1, 1))
    status(
        someone,
        StatusKind.DISABILITY,
        since=date(2008, 1, 1),
        until=date(2022, 12, 31),
        group="child",
        from_childhood=True,
    )
    status(someone, StatusKind.DISABILITY, since=date(2023, 1, 1), group="3")
    status(someone, StatusKind.DISABILITY, since=date(2025, 1, 1), group="2", from_childhood=True)

    assert text("disability_group", someone, date(2020, 1, 1)) == "child"
    assert both("disabled_from_childhood", someone, date(2020, 1, 1)) is True
    assert text("disability_group", someone, date(2024, 1, 1)) == "3"
    assert both("disabled_from_childhood", someone, date(2024, 1, 1)) is False
    assert text("disability_group", someone, ON) == "2"
    assert both('disabled_from_childhood and disability_group in ["1", "2"]', someone, ON)


@covers("disability_group", "disabled_from_childhood")
def test_an_expired_disability_is_none():
    someone = person(date(1990, 1, 1))
    status(
        someone,
        StatusKind.DISABILITY,
        since=date(2000, 1, 1),
        until=ON - DAY,
        group="1",
        from_childhood=True,
    )

    assert text("disability_group", someone, ON - DAY) == "1"
    assert text("disability_group", someone, ON) == "none"
    assert both("disabled_from_childhood", someone, ON) is False


STATUS_FACTS = {
    "large_family": StatusKind.LARGE_FAMILY,
    "low_income": StatusKind.LOW_INCOME,
    "pensioner": StatusKind.PENSIONER,
    "unemployed": StatusKind.UNEMPLOYED,
    "student": StatusKind.STUDENT,
}


@covers(*STATUS_FACTS)
@pytest.mark.parametrize(("fact", "kind"), STATUS_FACTS.items())
def test_status_facts_hold_while_the_status_is_active(fact, kind):
    someone = person(date(1960, 1, 1))
    other_kind = next(k for k in STATUS_FACTS.values() if k != kind)
    status(someone, other_kind, since=date(2020, 1, 1))
    status(someone, kind, since=date(2024, 1, 1), until=ON)

    assert both(fact, someone, date(2023, 12, 31)) is False
    assert both(fact, someone, date(2024, 1, 1)) is True
    assert both(fact, someone, ON) is True
    assert both(fact, someone, ON + DAY) is False


@covers("employed")
def test_employed_while_an_employment_lasts():
    worker = person(date(1990, 1, 1))
    employ(worker, since=date(2015, 1, 1), until=date(2020, 12, 31))
    employ(worker, since=ON + DAY)

    assert both("employed", worker, date(2020, 12, 31)) is True
    assert both("employed", worker, date(2021, 1, 1)) is False
    assert both("employed", worker, ON) is False
    assert both("employed", worker, ON + DAY) is True
    assert both("employed", person(date(1990, 1, 1)), ON) is False


@covers("lost_breadwinner")
def test_lost_breadwinner_from_the_day_a_parent_dies():
    child = person(date(2012, 1, 1))
    parent_of(person(date(1985, 1, 1), sex="F"), child)
    parent_of(person(date(1980, 1, 1), death_date=ON), child)

    assert both("lost_breadwinner", child, ON - DAY) is False
    assert both("lost_breadwinner", child, ON) is True
    assert both("lost_breadwinner", person(date(2012, 1, 1)), ON) is False


@covers("pregnancy_week_at_registration")
def test_pregnancy_week_from_the_latest_registration():
    woman = person(date(1995, 1, 1), sex="F")
    pregnancy(woman, ON - 100 * DAY, 12)
    pregnancy(woman, ON - 30 * DAY, "8")
    pregnancy(woman, ON + DAY, 5)  # after the date

    assert number("pregnancy_week_at_registration", woman, ON) == 8
    assert number("pregnancy_week_at_registration", woman, ON - 31 * DAY) == 12


@covers("pregnancy_week_at_registration")
def test_a_cancelled_registration_is_ignored():
    woman = person(date(1995, 1, 1), sex="F")
    pregnancy(woman, ON - 100 * DAY, 12)
    pregnancy(woman, ON - 30 * DAY, 8, status=LifeEventStatus.CANCELLED)

    assert number("pregnancy_week_at_registration", woman, ON) == 12


@covers("pregnancy_week_at_registration")
def test_a_registration_older_than_300_days_is_not_counted():
    woman = person(date(1995, 1, 1), sex="F")
    pregnancy(woman, ON - 300 * DAY, 10)

    assert number("pregnancy_week_at_registration", woman, ON - DAY) == 10
    assert number("pregnancy_week_at_registration", woman, ON) is None
    assert number("pregnancy_week_at_registration", person(date(1995, 1, 1), sex="F"), ON) is None


@covers("pregnancy_week_at_registration")
def test_a_latest_registration_without_a_whole_week_is_unknown():
    woman = person(date(1995, 1, 1), sex="F")
    pregnancy(woman, ON - 100 * DAY, 12)
    latest = pregnancy(woman, ON - 30 * DAY, "eight")

    assert number("pregnancy_week_at_registration", woman, ON) is None
    for week in (-3, 7.5, True, None):
        latest.details = {"week": week}
        latest.save(update_fields=["details"])
        assert number("pregnancy_week_at_registration", woman, ON) is None


def test_every_fact_is_covered():
    assert set(FACTS) == COVERED


# The explanation and three-valued logic.


def explain(rule: str, who: Person, on: date = ON):
    return rule_evaluate(rule=rule_check(rule), source=PersonFactSource(person=who, as_of=on))


def test_the_explanation_lists_each_condition_and_fact():
    mother = person(date(1990, 1, 1), sex="F")
    parent_of(mother, person(date(2024, 1, 1)))

    result = explain("alive and children(max_age=3) >= 1\n and not (age > 60)", mother)

    assert result.value is True
    assert [(c.text, c.value) for c in result.conditions] == [
        ("alive", True),
        ("children(max_age=3) >= 1", True),
        ("not (age > 60)", True),  # a negated condition is recorded as required
    ]
    assert [(f.name, f.args, f.value, f.owner, f.label) for f in result.facts] == [
        ("alive", {}, True, DataOwner.CIVIL_REGISTRY, "alive"),
        (
            "children",
            {"min_age": 0, "max_age": 3},
            1,
            DataOwner.CIVIL_REGISTRY,
            "children in an age band",
        ),
        ("age", {}, 36, DataOwner.CIVIL_REGISTRY, "age"),
    ]
    assert result.missing == []


def test_a_fact_used_twice_is_listed_once():
    result = explain("age > 18 and age < 60", person(date(1990, 1, 1)))

    assert [f.name for f in result.facts] == ["age"]
    assert [c.text for c in result.conditions] == ["age > 18", "age < 60"]


def test_an_unknown_outcome_names_the_missing_facts_and_their_owners():
    subsistence("27", 2026, SubsistenceGroup.PER_CAPITA, "20000.00", date(2026, 1, 1))

    result = explain(
        "citizen and family_income_per_capita(months=3) < subsistence_minimum()",
        person(date(1990, 1, 1)),
    )

    assert result.value is None
    assert [(c.text, c.value) for c in result.conditions] == [
        ("citizen", True),
        ("family_income_per_capita(months=3) < subsistence_minimum()", None),
    ]
    assert [(f.name, f.args, f.owner) for f in result.missing] == [
        ("family_income_per_capita", {"months": 3}, DataOwner.TAX_SERVICE)
    ]


def test_nothing_is_missing_when_an_unknown_fact_does_not_matter():
    result = explain("not citizen and family_income_per_capita() > 0", person(date(1990, 1, 1)))

    assert result.value is False
    assert result.missing == []
    assert [f.value for f in result.facts] == [True, None]


@pytest.mark.parametrize(
    "rule",
    ["citizen != employed", "citizen == alive", "(alive == citizen) == (employed != citizen)"],
)
def test_yes_or_no_facts_compare_with_each_other(rule):
    # `citizen` compiles to a bare `citizenship = 'RUS'` in SQL: it must be parenthesised.
    assert both(rule, person(date(1990, 1, 1)), ON) is True


UNKNOWN_INCOME = "family_income_per_capita() > 0"


@pytest.mark.parametrize(
    ("rule", "outcome"),
    [
        (f"false and {UNKNOWN_INCOME}", False),
        (f"{UNKNOWN_INCOME} and false", False),
        (f"true and {UNKNOWN_INCOME}", None),
        (f"true or {UNKNOWN_INCOME}", True),
        (f"{UNKNOWN_INCOME} or true", True),
        (f"false or {UNKNOWN_INCOME}", None),
        (f"not ({UNKNOWN_INCOME})", None),
        (f"age in [1, 2] or {UNKNOWN_INCOME}", None),
        (f"(if {UNKNOWN_INCOME} then true else false) or false", None),
        ("family_income_per_capita() == family_income_per_capita()", None),
        ("birth_order in [1, 2]", None),
        ("min(age, birth_order) > 0", None),
        ("age / 0 > 0", None),
        ("age / (age - age) > 0 or false", None),
        ("age / 0 > 0 or true", True),
    ],
)
def test_three_valued_logic(rule, outcome):
    assert both(rule, person(date(1990, 1, 1)), ON) is outcome


@pytest.mark.parametrize(
    ("rule", "value"),
    [
        (f"if {UNKNOWN_INCOME} then 1 else 2", None),
        ("if age > 30 then 1 else family_income_per_capita()", 1),
        ("if age > 50 then 1 else family_income_per_capita()", None),
        ("age / 0", None),
        ("-birth_order", None),
        ("round(birth_order, 2)", None),
        ("max(1, 2, birth_order)", None),
        ("age / 7", Decimal("5.1428571429")),
        ("round(age / 7, 2) + round(2.5) - min(1, 0.5) * max(3, 4)", Decimal("6.14")),
        ("round(-2.5)", -3),
        ("1000000000 / 3", Decimal("333333333.3333333333")),
        ("(1000000 / 3) * (1000000 / 7)", Decimal("47619047619.04762857142857142857")),
    ],
)
def test_arithmetic_with_unknowns_and_rounding(rule, value):
    assert number(rule, person(date(1990, 1, 1)), ON) == value
