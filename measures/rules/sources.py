"""What the facts are computed from, for one person at a date.

Facts evaluated in Python read a FactSource: `PersonFactSource` loads it from the registries
(one query per kind of data, only when a fact needs it), `HypotheticalFactSource` takes it
from a calculator's inputs. The set-based SQL (fact_sql.py) reads the same tables; the
definitions here and there must agree, which tests/measures/test_rules_agree.py proves.

Definitions shared by both:
- alive at D: born on or before D and not dead on or before D;
- a relation is active at D when valid_from <= D and (no valid_to or valid_to >= D);
- the family at D: the person, their spouses by an active marriage who are alive, and their
  alive children (active parent relation) younger than 18.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property

from django.db.models import Q, Sum

from registries.enums import LifeEventKind, LifeEventStatus, RelationKind
from registries.models import (
    EmploymentRecord,
    IncomeRecord,
    LifeEvent,
    Person,
    PersonStatus,
    Relation,
)
from registries.selectors import active_on, subsistence_minimums

FAMILY_CHILD_AGE = 18
INCOME_MONTHS_MAX = 36
PREGNANCY_LOOKBACK_DAYS = 300


def years_before(day: date, years: int) -> date:
    """The date `years` years before `day` (29 February becomes 28 February)."""
    year = day.year - years
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def months_before(day: date, months: int) -> date:
    """The first day of the month `months` months before the month of `day`."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def month_number(day: date) -> int:
    """The month of `day` as one number (year * 12 + month - 1), as registries_incomeseries counts."""
    return day.year * 12 + day.month - 1


def age_on(birth_date: date, on: date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def alive_on(birth_date: date, death_date: date | None, on: date) -> bool:
    return birth_date <= on and (death_date is None or death_date > on)


@dataclass(frozen=True)
class Member:
    """A relative as the facts see them; `key` tells members apart within one source."""

    key: object
    birth_date: date
    death_date: date | None = None
    sex: str = ""

    def alive_on(self, on: date) -> bool:
        return alive_on(self.birth_date, self.death_date, on)


@dataclass(frozen=True)
class Status:
    kind: str
    disability_group: str = ""
    from_childhood: bool = False


@dataclass
class FactSource:
    """The data behind the facts of one person at one date."""

    as_of: date
    birth_date: date
    sex: str
    death_date: date | None
    region: str | None
    municipality: str | None
    citizenship: str

    @property
    def children(self) -> list[Member]:
        """Distinct children by a parent relation active at as_of (alive or not)."""
        raise NotImplementedError

    @property
    def children_born(self) -> list[Member]:
        """Distinct children by any parent relation that began on or before as_of."""
        raise NotImplementedError

    @property
    def spouses(self) -> list[Member]:
        """Distinct spouses by a marriage active at as_of (alive or not)."""
        raise NotImplementedError

    @property
    def parents(self) -> list[Member]:
        """Distinct parents by any parent relation that began on or before as_of."""
        raise NotImplementedError

    @property
    def mother_children_births(self) -> list[date] | None:
        """Birth dates of all children of the person's mother, or None with no mother known."""
        raise NotImplementedError

    @property
    def statuses(self) -> list[Status]:
        """The person's statuses active at as_of."""
        raise NotImplementedError

    @property
    def employed(self) -> bool:
        raise NotImplementedError

    @property
    def pregnancy_week(self) -> int | None:
        raise NotImplementedError

    def monthly_income(self, member: object) -> dict[date, Decimal]:
        """Total income per month of a family member (by key) over the last 36 months."""
        raise NotImplementedError

    def subsistence_minimum(self, group: str) -> Decimal | None:
        raise NotImplementedError

    # Derived, the same for every source.

    def family(self) -> list[object]:
        on = self.as_of
        members: list[object] = [self.key]
        members += [s.key for s in self.spouses if s.alive_on(on)]
        members += [
            c.key
            for c in self.children
            if c.alive_on(on) and c.birth_date > years_before(on, FAMILY_CHILD_AGE)
        ]
        return members

    @property
    def key(self) -> object:
        return "self"


class PersonFactSource(FactSource):
    """The facts' data of a person in the registries, loaded lazily."""

    def __init__(self, *, person: Person, as_of: date):
        super().__init__(
            as_of=as_of,
            birth_date=person.birth_date,
            sex=person.sex,
            death_date=person.death_date,
            region=person.region_id,
            municipality=person.municipality_id,
            citizenship=person.citizenship,
        )
        self.person = person

    @property
    def key(self) -> object:
        return self.person.pk

    def _active(self) -> Q:
        return active_on(self.as_of)

    @staticmethod
    def _members(people) -> list[Member]:  # type: ignore[no-untyped-def]
        unique = {p.pk: p for p in people.order_by()}
        return [Member(p.pk, p.birth_date, p.death_date, p.sex) for p in unique.values()]

    @cached_property
    def children(self) -> list[Member]:  # type: ignore[override]
        return self._members(
            Person.objects.filter(
                Q(relations_to__valid_to__isnull=True) | Q(relations_to__valid_to__gte=self.as_of),
                relations_to__kind=RelationKind.PARENT,
                relations_to__from_person=self.person,
                relations_to__valid_from__lte=self.as_of,
            )
        )

    @cached_property
    def children_born(self) -> list[Member]:  # type: ignore[override]
        return self._members(
            Person.objects.filter(
                relations_to__kind=RelationKind.PARENT,
                relations_to__from_person=self.person,
                relations_to__valid_from__lte=self.as_of,
            )
        )

    @cached_property
    def spouses(self) -> list[Member]:  # type: ignore[override]
        # Ids first: each side of the marriage has its own index, an OR of two IN sub-queries
        # on the person table would scan it.
        pairs = (
            Relation.objects.filter(self._active(), kind=RelationKind.SPOUSE)
            .filter(Q(from_person=self.person) | Q(to_person=self.person))
            .values_list("from_person_id", "to_person_id")
        )
        ids = {b if a == self.person.pk else a for a, b in pairs}
        return self._members(Person.objects.filter(pk__in=ids).order_by()) if ids else []

    @cached_property
    def parents(self) -> list[Member]:  # type: ignore[override]
        return self._members(
            Person.objects.filter(
                relations_from__kind=RelationKind.PARENT,
                relations_from__to_person=self.person,
                relations_from__valid_from__lte=self.as_of,
            )
        )

    @cached_property
    def mother_children_births(self) -> list[date] | None:  # type: ignore[override]
        mothers = [p for p in self.parents if p.sex == "F"]
        if not mothers:
            return None
        mother = min(mothers, key=lambda m: m.key)  # type: ignore[arg-type, return-value]
        children = Person.objects.filter(
            relations_to__kind=RelationKind.PARENT, relations_to__from_person_id=mother.key
        ).distinct()
        return [c.birth_date for c in children]

    @cached_property
    def statuses(self) -> list[Status]:  # type: ignore[override]
        return [
            Status(s.kind, s.disability_group, s.from_childhood)
            for s in PersonStatus.objects.filter(self._active(), person=self.person).order_by(
                "-valid_from", "-pk"
            )
        ]

    @cached_property
    def employed(self) -> bool:  # type: ignore[override]
        on = self.as_of
        return EmploymentRecord.objects.filter(
            Q(ended_on__isnull=True) | Q(ended_on__gte=on), person=self.person, started_on__lte=on
        ).exists()

    @cached_property
    def pregnancy_week(self) -> int | None:  # type: ignore[override]
        return _pregnancy_week(
            LifeEvent.objects.filter(
                person=self.person,
                kind=LifeEventKind.PREGNANCY_REGISTERED,
                status=LifeEventStatus.ACTIVE,
                occurred_on__lte=self.as_of,
                occurred_on__gt=self.as_of - timedelta(days=PREGNANCY_LOOKBACK_DAYS),
            )
            .order_by("-occurred_on", "-pk")
            .values_list("details", flat=True)
            .first()
        )

    @cached_property
    def _incomes(self) -> dict[object, dict[date, Decimal]]:
        members = self.family()
        rows = (
            IncomeRecord.objects.filter(
                person__in=members,
                month__gte=months_before(self.as_of, INCOME_MONTHS_MAX),
                month__lt=months_before(self.as_of, 0),
            )
            .values("person", "month")
            .annotate(total=Sum("amount"))
        )
        incomes: dict[object, dict[date, Decimal]] = {m: {} for m in members}
        for row in rows:
            incomes[row["person"]][row["month"]] = row["total"]
        return incomes

    def monthly_income(self, member: object) -> dict[date, Decimal]:
        return self._incomes.get(member, {})

    @cached_property
    def _subsistence(self) -> dict[str, Decimal]:
        if self.region is None:
            return {}
        return subsistence_minimums(region_code=self.region, on=self.as_of)

    def subsistence_minimum(self, group: str) -> Decimal | None:
        return self._subsistence.get(group)


def _pregnancy_week(details: object) -> int | None:
    """The week recorded in an event's details: a whole number, or digits in a text."""
    week = details.get("week") if isinstance(details, dict) else None
    if isinstance(week, bool):
        return None
    if isinstance(week, int):
        return week if week >= 0 else None
    if isinstance(week, str) and re.fullmatch(r"[0-9]+", week):
        return int(week)
    return None


@dataclass
class HypotheticalFactSource(FactSource):
    """A calculator's person: everything given, nothing read from the registries."""

    given_children: list[Member] = field(default_factory=list)
    given_spouses: list[Member] = field(default_factory=list)
    given_parents: list[Member] = field(default_factory=list)
    given_statuses: list[Status] = field(default_factory=list)
    given_employed: bool = False
    given_pregnancy_week: int | None = None
    incomes: dict[object, dict[date, Decimal]] = field(default_factory=dict)
    subsistence: dict[str, Decimal] = field(default_factory=dict)

    @property
    def children(self) -> list[Member]:  # type: ignore[override]
        return self.given_children

    @property
    def children_born(self) -> list[Member]:  # type: ignore[override]
        return self.given_children

    @property
    def spouses(self) -> list[Member]:  # type: ignore[override]
        return self.given_spouses

    @property
    def parents(self) -> list[Member]:  # type: ignore[override]
        return self.given_parents

    @property
    def mother_children_births(self) -> list[date] | None:  # type: ignore[override]
        return None

    @property
    def statuses(self) -> list[Status]:  # type: ignore[override]
        return self.given_statuses

    @property
    def employed(self) -> bool:  # type: ignore[override]
        return self.given_employed

    @property
    def pregnancy_week(self) -> int | None:  # type: ignore[override]
        return self.given_pregnancy_week

    def monthly_income(self, member: object) -> dict[date, Decimal]:
        return self.incomes.get(member, {})

    def subsistence_minimum(self, group: str) -> Decimal | None:
        return self.subsistence.get(group)
