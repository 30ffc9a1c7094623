"""Fixtures of the measures tests: the shipped catalogue and three families of region 27."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from measures.services.catalogue import catalogue_load
from platform_core.calendar import calendar_load_year
from registries.enums import SubsistenceGroup
from registries.models import SubsistenceMinimum
from tests.measures.births import MOTHER_SNILS
from tests.measures.families import ON, Families, child_of, income, large_family, person
from tests.registries.factories import PersonFactory


@pytest.fixture
def loaded_catalogue(region_27, region_77) -> None:
    catalogue_load(as_of=ON)
    for group, amount in (
        (SubsistenceGroup.PER_CAPITA, "20000"),
        (SubsistenceGroup.CHILD, "19000"),
    ):
        SubsistenceMinimum.objects.create(
            region_id="27",
            year=ON.year,
            group=group,
            amount=Decimal(amount),
            valid_from=date(2025, 1, 1),
        )


@pytest.fixture
def families(loaded_catalogue) -> Families:
    mother = person(date(1985, 3, 1), "F", last_name="Многодетная")
    large_family(mother)
    for age in (3, 7, 12, 18):
        child_of(mother, age)
    single = person(date(1990, 5, 5), last_name="Одинокий")
    poor = person(date(1992, 2, 2), "F", last_name="Малоимущая")
    child_of(poor, 5)
    income(poor, "15000")
    return Families(mother=mother, single=single, poor=poor)


@pytest.fixture
def mother(loaded_catalogue):
    for year in (2025, 2026, 2027):  # decision deadlines count working days
        calendar_load_year(year=year)
    return PersonFactory(
        birth_date=date(1994, 3, 2),
        sex="F",
        region_id="27",
        snils=MOTHER_SNILS,
        last_name="Иванова",
        first_name="Мария",
        patronymic="Петровна",
    )
