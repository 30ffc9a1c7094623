"""The Python evaluator and the SQL compiler agree on every rule, for any family and date.

Hypothesis draws a family (the person, a spouse, children, parents, statuses, incomes,
employment, pregnancy registrations, subsistence minimums) with dates clustered around the
date of evaluation and its age boundaries, and well-typed random rules over every fact; each
rule and each fact must give the same outcome both ways (True, False, unknown, or an equal
number or text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from measures.enums import ValueType
from measures.rules import FACTS, PersonFactSource, rule_check, rule_evaluate
from measures.rules.query import rule_counts, rule_sample, rule_values
from measures.rules.sources import months_before, years_before
from registries.enums import (
    DisabilityGroup,
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
from tests.registries.factories import PersonFactory

DAY = timedelta(days=1)
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2032, 12, 31)

# Dates and periods, drawn relative to the date of evaluation so boundaries are hit often.


def _clamp(day: date) -> date:
    return min(max(day, FIRST_DAY), LAST_DAY)


@st.composite
def birthdays(draw, as_of: date, min_age: int, max_age: int) -> date:
    """A birth date making the age a whole number of years give or take a day, or any."""
    if draw(st.booleans()):
        years = draw(st.integers(min_age, max_age))
        return _clamp(years_before(as_of, years) + draw(st.sampled_from([-DAY, 0 * DAY, DAY])))
    low, high = years_before(as_of, max_age + 1), years_before(as_of, min_age) + 3 * DAY
    return _clamp(draw(st.dates(min_value=_clamp(low), max_value=_clamp(high))))


@st.composite
def days_near(draw, as_of: date, before: int = 3000, after: int = 60) -> date:
    """A day near the date of evaluation: often the day itself or one either side."""
    if draw(st.booleans()):
        return as_of + draw(st.sampled_from([-DAY, 0 * DAY, DAY]))
    return as_of + timedelta(days=draw(st.integers(-before, after)))


@st.composite
def periods(draw, as_of: date, start: date | None = None) -> tuple[date, date | None]:
    since = start or draw(days_near(as_of))
    until = draw(st.one_of(st.none(), days_near(as_of)))
    return since, (None if until is None or until < since else until)


@st.composite
def deaths(draw, as_of: date, birth: date) -> date | None:
    if draw(st.integers(0, 3)):
        return None
    return max(birth, draw(days_near(as_of)))


# A family as plain data; `build` writes it with the ORM.


@dataclass
class Relative:
    birth: date
    sex: str
    death: date | None = None
    since: date | None = None
    until: date | None = None
    incomes: list[tuple[int, Decimal]] = field(default_factory=list)


@dataclass
class Family:
    as_of: date
    person: Relative
    citizenship: str
    recorded_municipality: bool
    children: list[Relative]
    spouse: Relative | None
    spouse_is_from: bool
    mother: Relative | None
    siblings: list[Relative]
    father: Relative | None
    statuses: list[tuple[str, date, date | None, str, bool]]
    employments: list[tuple[date, date | None]]
    pregnancies: list[tuple[date, Any, str]]
    subsistence: list[tuple[int, str, date, Decimal]]


amounts = st.decimals(min_value=0, max_value=200_000, places=2)


@st.composite
def incomes(draw) -> list[tuple[int, Decimal]]:
    months = draw(st.lists(st.integers(-1, 38), max_size=4, unique=True))
    return [(m, draw(amounts)) for m in months]


@st.composite
def families(draw) -> Family:
    as_of = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2028, 12, 31)))
    if draw(st.integers(0, 9)) == 0:
        as_of = date(draw(st.sampled_from([2020, 2024, 2028])), 2, 29)
    birth = draw(birthdays(as_of, 0, 70))
    person = Relative(
        birth=birth,
        sex=draw(st.sampled_from("MF")),
        death=draw(deaths(as_of, birth)),
        incomes=draw(incomes()),
    )

    children = []
    for _child in range(draw(st.integers(0, 4))):
        child_birth = draw(birthdays(as_of, 0, 25))
        since, until = draw(
            periods(as_of, start=draw(st.sampled_from([child_birth, child_birth + 30 * DAY])))
        )
        children.append(
            Relative(
                birth=child_birth,
                sex=draw(st.sampled_from("MF")),
                death=draw(deaths(as_of, child_birth)),
                since=since,
                until=until,
                incomes=draw(incomes()),
            )
        )
        if draw(st.integers(0, 5)) == 0:  # twins
            children.append(Relative(**{**children[-1].__dict__, "incomes": []}))

    spouse = None
    if draw(st.booleans()):
        spouse_birth = draw(birthdays(as_of, 18, 70))
        since, until = draw(periods(as_of))
        spouse = Relative(
            birth=spouse_birth,
            sex=draw(st.sampled_from("MF")),
            death=draw(deaths(as_of, spouse_birth)),
            since=since,
            until=until,
            incomes=draw(incomes()),
        )

    mother = father = None
    siblings = []
    if draw(st.booleans()):
        since = draw(st.sampled_from([birth, as_of, as_of + DAY]))
        mother = Relative(birth=birth - 25 * 365 * DAY, sex="F", since=since)
        siblings = [
            Relative(
                birth=draw(st.sampled_from([birth, birth - 400 * DAY, birth + 800 * DAY])), sex="M"
            )
            for _sibling in range(draw(st.integers(0, 2)))
        ]
    if draw(st.booleans()):
        father_birth = birth - 30 * 365 * DAY
        father = Relative(
            birth=father_birth,
            sex="M",
            death=draw(deaths(as_of, birth)),
            since=draw(st.sampled_from([birth, as_of + DAY])),
        )

    statuses = []
    for _status in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(StatusKind.values))
        since, until = draw(periods(as_of))
        disabled = kind == StatusKind.DISABILITY
        statuses.append(
            (
                kind,
                since,
                until,
                draw(st.sampled_from(DisabilityGroup.values)) if disabled else "",
                disabled and draw(st.booleans()),
            )
        )

    weeks = st.one_of(st.integers(0, 42), st.sampled_from(["12", "x", -1, 7.5, None, True]))
    pregnancies = [
        (
            draw(days_near(as_of, before=320, after=5)),
            draw(weeks),
            draw(st.sampled_from([LifeEventStatus.ACTIVE, LifeEventStatus.CANCELLED])),
        )
        for _event in range(draw(st.integers(0, 2)))
    ]
    if draw(st.booleans()) and pregnancies:
        pregnancies.append((as_of - 300 * DAY + draw(st.sampled_from([0, 1])) * DAY, 20, "active"))

    subsistence = {
        (year, group): (valid_from, draw(st.decimals(min_value=10_000, max_value=40_000, places=2)))
        for year, group, valid_from in draw(
            st.lists(
                st.tuples(
                    st.sampled_from([as_of.year, as_of.year - 1]),
                    st.sampled_from(SubsistenceGroup.values),
                    st.sampled_from(
                        [date(as_of.year, 1, 1), as_of, as_of + DAY, date(as_of.year - 1, 1, 1)]
                    ),
                ),
                max_size=4,
            )
        )
    }

    return Family(
        as_of=as_of,
        person=person,
        citizenship=draw(st.sampled_from(["RUS", "RUS", "KAZ"])),
        recorded_municipality=draw(st.booleans()),
        children=children,
        spouse=spouse,
        spouse_is_from=draw(st.booleans()),
        mother=mother,
        siblings=siblings,
        father=father,
        statuses=statuses,
        employments=[draw(periods(as_of)) for _job in range(draw(st.integers(0, 2)))],
        pregnancies=pregnancies,
        subsistence=[(y, g, f, a) for (y, g), (f, a) in subsistence.items()],
    )


def _person(relative: Relative, **fields: Any) -> Person:
    return PersonFactory(
        snils=None, birth_date=relative.birth, sex=relative.sex, death_date=relative.death, **fields
    )


def _relation(kind: str, source: Person, target: Person, since: date, until: date | None) -> None:
    Relation.objects.create(
        kind=kind,
        basis=RelationBasis.MARRIAGE if kind == RelationKind.SPOUSE else RelationBasis.BIRTH,
        from_person=source,
        to_person=target,
        valid_from=since,
        valid_to=until,
    )


def _incomes(who: Person, relative: Relative, as_of: date) -> None:
    IncomeRecord.objects.bulk_create(
        IncomeRecord(
            person=who,
            kind=IncomeKind.SALARY,
            month=months_before(as_of, months),
            amount=amount,
            source="test",
        )
        for months, amount in relative.incomes
    )


def build(family: Family, insurer: Insurer, municipality: str) -> Person:
    """Write the family to the registries and return the person."""
    as_of = family.as_of
    person = _person(
        family.person,
        citizenship=family.citizenship,
        municipality_id=municipality if family.recorded_municipality else None,
    )
    _incomes(person, family.person, as_of)
    for relative in family.children:
        child = _person(relative)
        _relation(RelationKind.PARENT, person, child, relative.since, relative.until)
        _incomes(child, relative, as_of)
    if family.spouse:
        spouse = _person(family.spouse)
        couple = (spouse, person) if family.spouse_is_from else (person, spouse)
        _relation(RelationKind.SPOUSE, *couple, family.spouse.since, family.spouse.until)
        _incomes(spouse, family.spouse, as_of)
    if family.mother:
        mother = _person(family.mother)
        _relation(RelationKind.PARENT, mother, person, family.mother.since, None)
        for relative in family.siblings:
            _relation(RelationKind.PARENT, mother, _person(relative), relative.birth, None)
    if family.father:
        _relation(RelationKind.PARENT, _person(family.father), person, family.father.since, None)
    PersonStatus.objects.bulk_create(
        PersonStatus(
            person=person,
            kind=kind,
            valid_from=since,
            valid_to=until,
            disability_group=group,
            from_childhood=from_childhood,
            source="test",
        )
        for kind, since, until, group, from_childhood in family.statuses
    )
    EmploymentRecord.objects.bulk_create(
        EmploymentRecord(
            person=person, insurer=insurer, started_on=since, ended_on=until, source="test"
        )
        for since, until in family.employments
    )
    LifeEvent.objects.bulk_create(
        LifeEvent(
            kind=LifeEventKind.PREGNANCY_REGISTERED,
            person=person,
            occurred_on=day,
            learned_at=timezone.now(),
            source_system="clinic",
            source_event_id=str(n),
            status=status,
            details={"week": week},
        )
        for n, (day, week, status) in enumerate(family.pregnancies)
    )
    SubsistenceMinimum.objects.bulk_create(
        SubsistenceMinimum(region_id="27", year=year, group=group, amount=amount, valid_from=since)
        for year, group, since, amount in family.subsistence
    )
    return person


# Well-typed rules over every fact.

NUMBER, BOOL, TEXT = ValueType.NUMBER, ValueType.BOOL, ValueType.TEXT
TEXTS = ["M", "F", "27", "77", "08701000", "none", "1", "2", "3", "child", ""]


@st.composite
def age_bands(draw) -> str:
    low = draw(st.integers(0, 20))
    high = draw(st.integers(low + 1, low + 20))
    return draw(
        st.sampled_from(
            [f"min_age={low}, max_age={high}", f"max_age={high}", f"{low}, {high}", f"{low}"]
        )
    )


def fact_calls(value_type: str) -> st.SearchStrategy[str]:
    """Every fact of a type, with drawn arguments where it takes any."""
    calls: list[st.SearchStrategy[str]] = []
    for name, fact in FACTS.items():
        if fact.type != value_type:
            continue
        if name == "children":
            calls.append(age_bands().map(lambda band: f"children({band})"))
        elif name == "family_income_per_capita":
            calls.append(
                st.integers(1, 36).map(lambda m: f"family_income_per_capita(months={m})")
                | st.just("family_income_per_capita")
            )
        elif name == "subsistence_minimum":
            calls.append(
                st.sampled_from(SubsistenceGroup.values).map(
                    lambda g: f'subsistence_minimum(group="{g}")'
                )
                | st.just("subsistence_minimum()")
            )
        else:
            assert not fact.params, f"draw the arguments of {name}"
            calls.append(st.just(name))
    return st.one_of(calls)


numbers = st.one_of(
    st.integers(0, 40).map(str),
    st.decimals(min_value=0, max_value=100_000, places=2).map(lambda d: f"{d:f}"),
    # Large enough for PostgreSQL's division to keep fewer decimals than Python's by default.
    st.sampled_from(["1000000000", "123456789012.34", "987654321987"]),
)
texts = st.sampled_from(TEXTS).map(lambda t: f'"{t}"')
booleans = st.sampled_from(["true", "false"])


COMPOUND = {
    NUMBER: ["arith", "arith", "neg", "min_max", "round", "if"],
    BOOL: ["logic", "logic", "not", "order", "order", "equal", "in", "if"],
    TEXT: ["if"],
}


@st.composite
def expressions(draw, value_type: str, depth: int, *, top: bool = False) -> str:
    """A rule text of a type, nested up to `depth` operators deep, each one parenthesised.

    A whole rule is never a lone fact (every_fact below checks those); inside, a fact or a
    literal is about as likely as any one operator.
    """
    kinds = COMPOUND[value_type] if depth else []
    kind = draw(st.sampled_from(kinds if top else ["leaf", "leaf", *kinds]))
    if kind == "leaf":
        literal = {NUMBER: numbers, BOOL: booleans, TEXT: texts}[value_type]
        return draw(fact_calls(value_type) | literal)

    def sub(of: str = value_type) -> str:
        return draw(expressions(of, depth - 1))

    if kind == "if":
        return f"(if {sub(BOOL)} then {sub()} else {sub()})"
    if kind == "arith":
        return f"({sub()} {draw(st.sampled_from('+-*//'))} {sub()})"
    if kind == "neg":
        return f"(-{sub()})"
    if kind == "min_max":
        function = draw(st.sampled_from(["min", "max"]))
        return f"{function}({', '.join(sub() for _arg in range(draw(st.integers(2, 3))))})"
    if kind == "round":
        return f"round({sub()}{draw(st.sampled_from(['', ', 0', ', 1', ', 2', ', 3']))})"
    if kind == "logic":
        return f"({sub()} {draw(st.sampled_from(['and', 'or']))} {sub()})"
    if kind == "not":
        return f"(not {sub()})"
    if kind == "order":
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
        right = sub(NUMBER) if draw(st.booleans()) else draw(numbers)
        return f"({sub(NUMBER)} {op} {right})"
    if kind == "equal":
        op = draw(st.sampled_from(["==", "!="]))
        if draw(st.booleans()):
            return f"({sub(TEXT)} {op} {draw(texts)})"
        return f"({sub(BOOL)} {op} {sub(BOOL)})"
    assert kind == "in"
    if draw(st.booleans()):
        options = draw(st.lists(texts, min_size=1, max_size=3))
        return f"({sub(TEXT)} in [{', '.join(options)}])"
    options = draw(st.lists(numbers, min_size=1, max_size=3))
    return f"({sub(NUMBER)} in [{', '.join(options)}])"


rules = st.lists(
    st.sampled_from([BOOL, NUMBER, BOOL, NUMBER, TEXT]).flatmap(
        lambda t: st.tuples(st.just(t), expressions(t, 3, top=True))
    ),
    min_size=4,
    max_size=8,
)

# Every fact alone too, so a disagreement in a fact is not hidden behind a rule's logic.
every_fact = st.tuples(*(fact_calls(t).map(lambda c, t=t: (t, c)) for t in (NUMBER, BOOL, TEXT)))


def outcomes_disagree(person: Person, as_of: date, drawn: list[tuple[str, str]]) -> list[str]:
    """Every rule for every person of the family: Python one by one, SQL set-based at once."""
    checked = [rule_check(text, expect=value_type) for value_type, text in drawn]
    in_sql = [rule_values(rule=rule, on=as_of, persons=Person.objects.all()) for rule in checked]
    disagreements = []
    for member in Person.objects.all():
        source = PersonFactSource(person=member, as_of=as_of)
        for (_type, text), rule, values in zip(drawn, checked, in_sql, strict=True):
            python = rule_evaluate(rule=rule, source=source).value
            if python != values[member.pk]:
                role = "the person" if member.pk == person.pk else f"relative {member.pk}"
                disagreements.append(
                    f"{text!r} for {role}: Python {python!r}, SQL {values[member.pk]!r}"
                )
    return disagreements


@pytest.fixture
def insurer(region_27, khabarovsk) -> Insurer:
    return Insurer.objects.create(
        kind=InsurerKind.LEGAL_ENTITY,
        name="ООО «Амур»",
        inn="2721000001",
        ogrn="1022700000001",
        kpp="272101001",
        region_id="27",
        registered_on=date(2000, 1, 1),
    )


@pytest.mark.slow
def test_python_and_sql_give_the_same_outcome(insurer, khabarovsk):
    @settings(
        max_examples=80,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(family=families(), drawn=rules, facts=st.lists(every_fact, min_size=2, max_size=2))
    def agree(family: Family, drawn: list[tuple[str, str]], facts: list) -> None:
        with transaction.atomic():
            person = build(family, insurer, khabarovsk.oktmo)
            every = [pair for three in facts for pair in three]
            disagreements = outcomes_disagree(person, family.as_of, [*drawn, *every])
            transaction.set_rollback(True)
        assert not disagreements, f"as of {family.as_of}:\n" + "\n".join(disagreements)

    agree()
    assert not Person.objects.exists()


# Rules whose first condition rules out everyone without a row of its fact: rule_counts and
# rule_sample then evaluate only those persons (the "candidates" of measures/rules/query.py):
# a family row (children under 18), family member rows (older children), statuses.
CANDIDATE_PREFIXES = (
    "children(max_age=17) >= 1",
    "children(min_age=3, max_age=18) > 1",
    "children(min_age=16, max_age=24) >= 1",
    "large_family",
)


@pytest.mark.slow
def test_counts_and_samples_of_candidates_agree_with_python(insurer, khabarovsk):
    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        family=families(),
        condition=expressions(BOOL, 2, top=True),
        prefix=st.sampled_from(CANDIDATE_PREFIXES),
    )
    def agree(family: Family, condition: str, prefix: str) -> None:
        with transaction.atomic():
            build(family, insurer, khabarovsk.oktmo)
            rule = rule_check(f"{prefix} and {condition}")
            persons = Person.objects.all()
            python = {
                p.pk: rule_evaluate(
                    rule=rule, source=PersonFactSource(person=p, as_of=family.as_of)
                ).value
                for p in persons
            }
            counts = rule_counts(rule=rule, on=family.as_of, persons=persons)
            sample = rule_sample(rule=rule, on=family.as_of, persons=persons, size=1000)
            transaction.set_rollback(True)
        expected = {
            "true": sum(v is True for v in python.values()),
            "false": sum(v is False for v in python.values()),
            "unknown": sum(v is None for v in python.values()),
        }
        assert counts == expected, f"{prefix} and {condition} as of {family.as_of}"
        assert sample == sorted(pk for pk, v in python.items() if v is not False)

    agree()
    assert not Person.objects.exists()
