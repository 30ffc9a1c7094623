"""The facts library: every name a rule may use, with its meaning, owner and Python value.

Each fact is computed two ways from the same definition: here in Python from a FactSource
(one person, with an explanation), and in fact_sql.py as a set-based query (a whole region at
once). A value of None in Python and NULL in SQL both mean "unknown": the data is missing and
the fact's owner is the agency to ask.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from measures.enums import DataOwner, ValueType
from measures.rules.sources import (
    INCOME_MONTHS_MAX,
    FactSource,
    age_on,
    months_before,
    years_before,
)
from registries.enums import (
    DisabilityGroup,
    StatusKind,
    SubsistenceGroup,
)

NO_DISABILITY = "none"
MAX_AGE = 150


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any
    help: Promise
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fact:
    name: str
    type: str
    label: Promise
    meaning: Promise
    owner: str
    python: Callable[[FactSource, Mapping[str, Any]], Any]
    params: tuple[Param, ...] = ()


FACTS: dict[str, Fact] = {}


def fact_key(name: str, args: Mapping[str, Any]) -> str:
    """A fact with its arguments as one stable text: `children(max_age=3, min_age=0)`."""
    if not args:
        return name
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in sorted(args.items()))})"


def fact_from_json(fact: Fact, value: Any) -> Any:
    """A fact's value as stored in JSON, back in the type the evaluators use."""
    if value is None or fact.type != ValueType.NUMBER:
        return value
    return Decimal(str(value))


def fact(
    name: str,
    type: str,
    label: Promise,
    meaning: Promise,
    owner: str,
    params: tuple[Param, ...] = (),
) -> Callable[[type], type]:
    """Register a fact whose class holds `python(source, args)`; fact_sql.py has its SQL."""

    def register(cls: type) -> type:
        FACTS[name] = Fact(
            name=name,
            type=type,
            label=label,
            meaning=meaning,
            owner=owner,
            python=cls.python,  # type: ignore[attr-defined]
            params=params,
        )
        return cls

    return register


def _quantize(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


# The facts.


@fact(
    "age",
    ValueType.NUMBER,
    _("age"),
    _("Whole years of age at the date of evaluation; unknown before birth."),
    DataOwner.CIVIL_REGISTRY,
)
class _Age:
    @staticmethod
    def python(source: FactSource, args: Mapping[str, Any]) -> Any:
        if source.birth_date > source.as_of:
            return None
        return Decimal(age_on(source.birth_date, source.as_of))


@fact(
    "sex",
    ValueType.TEXT,
    _("sex"),
    _('"M" or "F".'),
    DataOwner.CIVIL_REGISTRY,
)
class _Sex:
    @staticmethod
    def python(source: FactSource, args: Mapping[str, Any]) -> Any:
        return source.sex


@fact(
    "region",
    ValueType.TEXT,
    _("region"),
    _('The two-digit code of the region of registration, for example "27".'),
    DataOwner.INTERIOR,
)
class _Region:
    @staticmethod
    def python(source: FactSource, args: Mapping[str, Any]) -> Any:
        return source.region


@fact(
    "municipality",
    ValueType.TEXT,
    _("municipality"),
    _("The OKTMO code of the municipality of registration; unknown when not recorded."),
    DataOwner.INTERIOR,
)
class _Municipality:
    @staticmethod
    def python(source: FactSource, args: Mapping[str, Any]) -> Any:
        return source.municipality


@fact(
    "citizen",
    ValueType.BOOL,
    _("citizen of Russia"),
    _("Whether the person is a citizen of the Russian Federation."),
    DataOwner.INTERIOR,
)
class _Citizen:
    @staticmethod
    def python(source: FactSource, args: Mapping[str, Any]) -> Any:
        return source.citizenship == "RUS"


@fact(
    "alive",
    ValueType.BOOL,
    _("alive"),
    _("Born on or before the date and not dead on or before it."),
    DataOwner.CIVIL_REGISTRY,
)
class _Alive:
    @staticmethod
    def python(source: FactSource, args: Mapping[str, Any]) -> Any:
        on = source.as_of
        return source.birth_date <= on and (source.death_date is None or source.death_date > on)


AGE_BAND = (
    Param("min_age", ValueType.NUMBER, 0, _("youngest age counted"), 0, MAX_AGE),
    Param("max_age", ValueType.NUMBER, MAX_AGE, _("age no longer counted"), 1, MAX_AGE),
)


@fact(
    "children",
    ValueType.NUMBER,
    _("children in an age band"),
    _(
        "The number of the person's living children (by birth, adoption or paternity) aged "
        "at least min_age and younger than max_age at the date."
    ),
    DataOwner.CIVIL_REGISTRY,
    AGE_BAND,
)
class _Children:
    @staticmethod
    def python(source: FactSource, args: Mapping[str, Any]) -> Any:
        on = source.as_of
        low, high = years_before(on, args["max_age"]), years_before(on, args["min_age"])
        return Decimal(
            sum(1 for c in source.children if c.alive_on(on) and low < c.birth_date <= high)
        )


@fact(
    "children_born",
    ValueType.NUMBER,
    _("children ever born or adopted"),
    _("The number of the person's children, living or not, counted from every parent tie."),
    DataOwner.CIVIL_REGISTRY,
)
class _ChildrenBorn:
    @staticmethod
    def python(source: FactSource, args: Mapping[str, Any]) -> Any:
        return Decimal(len(source.children_born))


@fact(
    "children_born_at_once",
    ValueType.NUMBER,
    _("children born at once"),
    _(
        "How many of the person's children were born on the birth date of their youngest "
        "child (2 for twins); 0 without children."
    ),
    DataOwner.CIVIL_REGISTRY,
)
class _ChildrenBornAtOnce:
    @staticmethod
    def python(source: FactSource, args: Mapping[str, Any]) -> Any:
        births = [c.birth_date for c in source.children_born]
        if not births:
            return Decimal(0)
        youngest = max(births)
        return Decimal(sum(1 for b in births if b == youngest))


@fact(
    "birth_order",
    ValueType.NUMBER,
    _("birth order"),
    _(
        "The person's place among their mother's children by date of birth (1 for the "
        "first); unknown when no mother is recorded."
    ),
    DataOwner.CIVIL_REGISTRY,
)
class _BirthOrder:
    @staticmethod
    def python(source: FactSource, args: Mapping[str, Any]) -> Any:
        births = source.mother_children_births
        if births is None:
            return None
        return Decimal(1 + sum(1 for b in births if b < source.birth_date))


@fact(
    "family_size",
    ValueType.NUMBER,
    _("family size"),
    _(
        "The person, their living spouse by an active marriage and their living children "
        "younger than 18 at the date."
    ),
    DataOwner.CIVIL_REGISTRY,
)
class _FamilySize:
    @staticmethod
    def python(source: FactSource, args: Mapping[str, Any]) -> Any:
        return Decimal(len(source.family()))


@fact(
    "family_income_per_capita",
    ValueType.NUMBER,
    _("average monthly family income per person"),
    _(
        "All incomes of the family members over the `months` whole months before the month "
        "of the date, divided by the months and by the family size, in roubles with "
        "kopecks; unknown when no income of any member is recorded in those months."
    ),
    DataOwner.TAX_SERVICE,
    (Param("months", ValueType.NUMBER, 12, _("months counted"), 1, INCOME_MONTHS_MAX),),
)
class _FamilyIncomePerCapita:
    @staticmethod
    def python(source: FactSource, args: Mapping[str, Any]) -> Any:
        months = args["months"]
        start, end = months_before(source.as_of, months), months_before(source.as_of, 0)
        members = source.family()
        amounts = [
            amount
            for member in members
            for month, amount in source.monthly_income(member).items()
            if start <= month < end
        ]
        if not amounts:
            return None
        return _quantize(sum(amounts, Decimal(0)) / (months * len(members)), 2)


@fact(
    "subsistence_minimum",
    ValueType.NUMBER,
    _("subsistence minimum"),
    _(
        "The monthly subsistence minimum of the person's region for the year of the date, "
        "for the group per_capita, working_age, pensioner or child."
    ),
    DataOwner.REFERENCE,
    (
        Param(
            "group",
            ValueType.TEXT,
            SubsistenceGroup.PER_CAPITA,
            _("population group"),
            choices=tuple(SubsistenceGroup.values),
        ),
    ),
)
class _SubsistenceMinimum:
    @staticmethod
    def python(source: FactSource, args: Mapping[str, Any]) -> Any:
        return source.subsistence_minimum(args["group"])


@fact(
    "disability_group",
    ValueType.TEXT,
    _("disability group"),
    _('"1", "2", "3", "child" (a disabled child) or "none" at the date.'),
    DataOwner.DISABILITY_REGISTRY,
)
class _DisabilityGroup:
    @staticmethod
    def python(source: FactSource, args: Mapping[str, Any]) -> Any:
        groups = [s.disability_group for s in source.statuses if s.kind == StatusKind.DISABILITY]
        return groups[0] or NO_DISABILITY if groups else NO_DISABILITY


@fact(
    "disabled_from_childhood",
    ValueType.BOOL,
    _("disabled from childhood"),
    _("Whether the person's disability at the date dates from childhood."),
    DataOwner.DISABILITY_REGISTRY,
)
class _DisabledFromChildhood:
    @staticmethod
    def python(source: FactSource, args: Mapping[str, Any]) -> Any:
        flags = [s.from_childhood for s in source.statuses if s.kind == StatusKind.DISABILITY]
        return bool(flags and flags[0])


def _status_fact(name: str, kind: str, label: Promise, meaning: Promise, owner: str) -> None:
    class _StatusFact:
        @staticmethod
        def python(source: FactSource, args: Mapping[str, Any]) -> Any:
            return any(s.kind == kind for s in source.statuses)

    fact(name, ValueType.BOOL, label, meaning, owner)(_StatusFact)


_status_fact(
    "large_family",
    StatusKind.LARGE_FAMILY,
    _("large family"),
    _("Whether the person has the status of a large family at the date."),
    DataOwner.SOCIAL_PROTECTION,
)
_status_fact(
    "low_income",
    StatusKind.LOW_INCOME,
    _("low-income family"),
    _("Whether the person's family is recognised as low-income at the date."),
    DataOwner.SOCIAL_PROTECTION,
)
_status_fact(
    "pensioner",
    StatusKind.PENSIONER,
    _("pensioner"),
    _("Whether the person receives a pension at the date."),
    DataOwner.SOCIAL_FUND,
)
_status_fact(
    "unemployed",
    StatusKind.UNEMPLOYED,
    _("registered unemployed"),
    _("Whether the person is registered as unemployed at the date."),
    DataOwner.EMPLOYMENT_SERVICE,
)
_status_fact(
    "student",
    StatusKind.STUDENT,
    _("full-time student"),
    _("Whether the person studies full-time at the date."),
    DataOwner.EDUCATION,
)


@fact(
    "employed",
    ValueType.BOOL,
    _("employed"),
    _("Whether an employer reports the person as working at the date."),
    DataOwner.SOCIAL_FUND,
)
class _Employed:
    @staticmethod
    def python(source: FactSource, args: Mapping[str, Any]) -> Any:
        return source.employed


@fact(
    "lost_breadwinner",
    ValueType.BOOL,
    _("lost a breadwinner"),
    _("Whether a parent of the person died on or before the date."),
    DataOwner.CIVIL_REGISTRY,
)
class _LostBreadwinner:
    @staticmethod
    def python(source: FactSource, args: Mapping[str, Any]) -> Any:
        on = source.as_of
        return any(p.death_date is not None and p.death_date <= on for p in source.parents)


@fact(
    "pregnancy_week_at_registration",
    ValueType.NUMBER,
    _("week of pregnancy at registration"),
    _(
        "The week of pregnancy at which the woman registered with a clinic, from the latest "
        "registration in the 300 days before the date; unknown without one."
    ),
    DataOwner.HEALTH,
)
class _PregnancyWeek:
    @staticmethod
    def python(source: FactSource, args: Mapping[str, Any]) -> Any:
        week = source.pregnancy_week
        return None if week is None else Decimal(week)


DISABILITY_GROUPS = (*DisabilityGroup.values, NO_DISABILITY)
