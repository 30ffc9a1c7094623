"""Fixtures of the contact centre's tests: the catalogue, the calendar, decided and offered
cases of region 27, and how their events reach the handlers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from measures.enums import TriggerKind
from measures.models import Case, Measure
from measures.services.cases import case_open, case_work
from platform_core.bus import Event
from platform_core.calendar import calendar_load_year
from platform_core.models import OutboxEvent
from registries.enums import SubsistenceGroup
from registries.models import Person, SubsistenceMinimum
from tests.measures.conftest import loaded_catalogue  # noqa: F401
from tests.measures.families import UNIFIED, child_of, income, person


@pytest.fixture
def calendar(loaded_catalogue):  # noqa: F811
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


def mother(*, salary: str = "5000", **contacts) -> Person:  # type: ignore[no-untyped-def]
    """A mother of a newborn in region 27 with the given monthly salary and contacts."""
    who = person(
        date(1990, 1, 1),
        "F",
        first_name="Анна",
        patronymic="Сергеевна",
        notification_channels=["portal", "email", "sms"],
        **contacts,
    )
    child_of(who, 0, on=timezone.localdate())
    income(who, salary, on=timezone.localdate())
    return who


def worked(who: Person, trigger_kind: str = TriggerKind.APPLICATION) -> Case:
    """The person's case of the unified allowance, worked by the rules: an application is
    decided at once, a life event offers the measure (it is given on an application)."""
    case, _ = case_open(
        person=who,
        measure=Measure.objects.get(code=UNIFIED),
        trigger_kind=trigger_kind,
        trigger_key=f"test:{trigger_kind}:{who.pk}",
        as_of=timezone.localdate(),
        now=timezone.now(),
    )
    return case_work(case_id=case.pk, now=timezone.now())


def published(event_type: str, case: Case) -> Event:
    """The event the case pipeline published about case, as the bus hands it to handlers."""
    row = OutboxEvent.objects.get(event_type=event_type, payload__case=case.pk)
    return Event(
        id=str(row.id), type=row.event_type, payload=row.payload, created_at=row.created_at
    )
