"""Fixtures of the measures tests: the shipped catalogue and three families of region 27."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from measures.services.catalogue import catalogue_load
from registries.enums import SubsistenceGroup
from registries.models import SubsistenceMinimum
from tests.measures.families import ON, Families, child_of, income, large_family, person


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
