"""Moving out of a region ends the measures of the region left; federal ones go on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from measures.enums import AssignmentStatus
from measures.models import Assignment
from platform_core.calendar import calendar_load_year
from registries.enums import SubsistenceGroup
from registries.models import SubsistenceMinimum
from registries.services.persons import person_update
from tests.measures.families import (
    child_of,
    granted_on_application,
    income,
    large_family,
    person,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_moving_out_ends_the_regional_measures_and_keeps_the_federal(loaded_catalogue):
    today = timezone.localdate()  # granted today, running when the person moves
    for year in (today.year - 1, today.year, today.year + 1):
        calendar_load_year(year=year)
    for group, amount in (
        (SubsistenceGroup.PER_CAPITA, "23000"),
        (SubsistenceGroup.CHILD, "21000"),
    ):
        SubsistenceMinimum.objects.create(
            region_id="77",
            year=today.year,
            group=group,
            amount=Decimal(amount),
            valid_from=date(2025, 1, 1),
        )
    mother = person(date(1985, 3, 1), "F", region="77", last_name="Переездова")
    large_family(mother)
    for age in (2, 7, 9):
        child_of(mother, age, on=today)
    income(mother, "15000", on=today)
    regional = granted_on_application(mother, today, code="moscow.large_family_phone")
    federal = granted_on_application(mother, today)

    person_update(person=mother, actor=None, changes={"patronymic": "Ивановна"})
    assert Assignment.objects.get(pk=regional.pk).status == AssignmentStatus.ACTIVE

    person_update(person=mother, actor=None, changes={"region_id": "27"})

    ended = Assignment.objects.get(pk=regional.pk)
    assert ended.status == AssignmentStatus.TERMINATED
    assert ended.active_to is not None and ended.ended_reason
    assert Assignment.objects.get(pk=federal.pk).status == AssignmentStatus.ACTIVE
    assert ended.decision.case.entries.filter(text__contains=ended.ended_reason).exists()
