"""The loaded catalogue and small families of region 27 for entitlement, API and admin tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

from measures.enums import CaseStatus, TriggerKind
from measures.models import Assignment, Measure
from measures.rules.sources import months_before, years_before
from measures.services.cases import case_open, case_work
from platform_core.enums import Role
from platform_core.models import User
from platform_core.roles import roles_sync, user_role_apply
from registries.enums import IncomeKind, RelationBasis, RelationKind, StatusKind
from registries.models import IncomeRecord, Person, PersonStatus, Relation
from tests.conftest import make_staff
from tests.registries.factories import PersonFactory

ON = date(2025, 9, 1)
SCHOOLCHILD = "khabarovsk.large_family_schoolchild"
UNIFIED = "federal.unified_allowance"


def person(birth: date, sex: str = "M", region: str = "27", **fields) -> Person:
    return PersonFactory(snils=None, birth_date=birth, sex=sex, region_id=region, **fields)


def child_of(parent: Person, age: int, *, on: date = ON) -> Person:
    """A child who is exactly `age` whole years old on `on` (born that day `age` years before)."""
    child = person(years_before(on, age), region=parent.region_id)
    Relation.objects.create(
        kind=RelationKind.PARENT,
        basis=RelationBasis.BIRTH,
        from_person=parent,
        to_person=child,
        valid_from=child.birth_date,
    )
    return child


def large_family(who: Person) -> None:
    PersonStatus.objects.create(
        person=who, kind=StatusKind.LARGE_FAMILY, valid_from=date(2020, 1, 1), source="test"
    )


def income(who: Person, amount: str, *, months: int = 12, on: date = ON) -> None:
    """The same salary in each of the `months` whole months before the month of `on`."""
    for n in range(1, months + 1):
        IncomeRecord.objects.create(
            person=who,
            kind=IncomeKind.SALARY,
            month=months_before(on, n),
            amount=Decimal(amount),
            source="test",
        )


@dataclass
class Families:
    mother: Person  # large family, children aged 3, 7, 12 and 18, no income recorded
    single: Person  # no children, no income
    poor: Person  # one child aged 5, a small income


def measure(code: str) -> Measure:
    return Measure.objects.get(code=code)


def granted_on_application(
    who: Person, as_of: date, *, code: str = UNIFIED, now: datetime | None = None
) -> Assignment:
    """The measure decided on the person's application as of a date, and granted."""
    now = now or timezone.now()
    case, _ = case_open(
        person=who,
        measure=measure(code),
        trigger_kind=TriggerKind.APPLICATION,
        trigger_key=f"application:test-{code}-{as_of}",
        as_of=as_of,
        now=now,
    )
    worked = case_work(case_id=case.pk, now=now)
    assert worked.status == CaseStatus.DECIDED, worked.summary
    assert worked.decision.outcome == "grant", worked.decision.explanation["conditions"]
    return Assignment.objects.get(decision__case=case)


def supervisor(username: str, organisation) -> User:  # type: ignore[no-untyped-def]
    """A staff user in the supervisor role group, who may add and change rule versions."""
    roles_sync()
    user = make_staff(username, organisation, role=Role.SUPERVISOR)
    user_role_apply(user=user)
    return user


def officer_in_group(user: User) -> User:
    roles_sync()
    user_role_apply(user=user)
    return user
