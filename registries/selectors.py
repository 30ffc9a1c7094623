"""Selectors of the registries: reads, never writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet

from registries.enums import RelationKind
from registries.models import Person, Relation, SubsistenceMinimum


def active_on(on: date, prefix: str = "") -> Q:
    """Rows whose valid_from..valid_to period (open upper bound) contains the date."""
    return Q(**{f"{prefix}valid_from__lte": on}) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gte": on})
    )


def subsistence_minimums(*, region_code: str, on: date) -> dict[str, Decimal]:
    """The region's subsistence minimum per group for the year of the date, as in force then."""
    rows = (
        SubsistenceMinimum.objects.filter(active_on(on), region_id=region_code, year=on.year)
        .order_by("valid_from")
        .values_list("group", "amount")
    )
    return dict(rows)  # the latest version of each group wins


def _alive_on(on: date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}birth_date__lte": on}) & (
        Q(**{f"{prefix}death_date__isnull": True}) | Q(**{f"{prefix}death_date__gt": on})
    )


def age_on(birth_date: date, on: date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


@dataclass
class Family:
    """A family as of a date: the person, their spouse, minor children and wards."""

    on: date
    person: Person
    spouse: Person | None = None
    children: list[Person] = field(default_factory=list)
    wards: list[Person] = field(default_factory=list)

    @property
    def members(self) -> list[Person]:
        seen: dict[int, Person] = {}
        for member in [self.person, self.spouse, *self.children, *self.wards]:
            if member is not None:
                seen.setdefault(member.pk, member)
        return list(seen.values())


def family_as_of(*, person: Person, on: date, child_age_limit: int = 18) -> Family:
    """Derive the person's family on a date from relations, births and deaths."""
    relations = list(
        Relation.objects.filter(active_on(on))
        .filter(Q(from_person=person) | Q(to_person=person))
        .select_related("from_person", "to_person")
    )
    family = Family(on=on, person=person)
    spouses = [
        r.to_person if r.from_person_id == person.pk else r.from_person
        for r in relations
        if r.kind == RelationKind.SPOUSE
    ]
    alive_spouses = [s for s in spouses if s.death_date is None or s.death_date > on]
    family.spouse = alive_spouses[0] if alive_spouses else None
    parents = [person.pk] + ([family.spouse.pk] if family.spouse else [])
    children = Person.objects.filter(
        _alive_on(on),
        relations_to__kind=RelationKind.PARENT,
        relations_to__from_person__in=parents,
    ).distinct()
    family.children = sorted(
        (c for c in children if age_on(c.birth_date, on) < child_age_limit),
        key=lambda c: (c.birth_date, c.pk),
    )
    family.wards = [
        r.to_person
        for r in relations
        if r.kind == RelationKind.REPRESENTATIVE and r.from_person_id == person.pk
    ]
    return family


def person_by_snils(*, snils: str, queryset: QuerySet[Person] | None = None) -> Person | None:
    """Find a person by a canonical SNILS within queryset (default: everyone)."""
    return (queryset if queryset is not None else Person.objects.all()).filter(snils=snils).first()
