"""The daily job: a child turning 17 ends the parent's unified allowance; a period over ends its
assignment; run twice, the day changes nothing more."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from measures.enums import AssignmentStatus
from measures.models import Assignment
from measures.services.milestones import milestones_run, persons_reaching_milestones
from platform_core.calendar import calendar_load_year
from registries.enums import SubsistenceGroup
from registries.models import SubsistenceMinimum
from tests.measures.families import child_of, granted_on_application, income, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def today(loaded_catalogue) -> date:
    day = timezone.localdate()
    for year in (day.year - 1, day.year, day.year + 1):
        calendar_load_year(year=year)
    for year in (day.year - 1, day.year):
        for group, amount in (
            (SubsistenceGroup.PER_CAPITA, "20000"),
            (SubsistenceGroup.CHILD, "19000"),
        ):
            SubsistenceMinimum.objects.get_or_create(
                region_id="27",
                year=year,
                group=group,
                defaults={"amount": Decimal(amount), "valid_from": date(year, 1, 1)},
            )
    return day


def test_a_child_turning_17_ends_the_parents_allowance_the_day_before(today):
    mother = person(date(1980, 1, 1), "F")
    child = child_of(mother, 17, on=today)  # 17 today: no longer counted
    income(mother, "5000", on=today)
    yesterday = today - timedelta(days=1)
    assignment = granted_on_application(mother, yesterday)  # the child was 16 then
    assert child in persons_reaching_milestones(day=today)

    report = milestones_run(day=today, now=timezone.now())
    assert (report.milestones, report.rights_lost) >= (1, 1)
    ended = Assignment.objects.get(pk=assignment.pk)
    assert (ended.status, ended.active_to) == (AssignmentStatus.TERMINATED, yesterday)

    again = milestones_run(day=today, now=timezone.now())
    assert again.rights_lost == 0


def test_an_assignment_ends_when_its_period_is_over(today):
    mother = person(date(1990, 1, 1), "F")
    child_of(mother, 5, on=today)
    income(mother, "5000", on=today - timedelta(days=400))
    assignment = granted_on_application(mother, today - timedelta(days=400))
    assert assignment.active_to < today

    report = milestones_run(day=today, now=timezone.now())
    assert report.periods_ended == 1 and report.renewals == 0  # given on application only
    assert Assignment.objects.get(pk=assignment.pk).status == AssignmentStatus.TERMINATED
    assert milestones_run(day=today, now=timezone.now()).periods_ended == 0


def test_a_leap_day_birthday_is_kept_on_28_february_of_a_common_year(loaded_catalogue):
    leapling = person(date(2008, 2, 29), "F")  # 18 on 28 February 2026
    assert leapling in persons_reaching_milestones(day=date(2026, 2, 28))
    assert leapling not in persons_reaching_milestones(day=date(2026, 3, 1))
