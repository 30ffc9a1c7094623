"""Factories of the registries' models for tests."""

from __future__ import annotations

from datetime import date

import factory

from platform_core.validators import snils_from_number
from registries.models import Person


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    snils = factory.Sequence(lambda n: snils_from_number(100_000_000 + n))
    last_name = factory.Faker("last_name_male", locale="ru_RU")
    first_name = factory.Faker("first_name_male", locale="ru_RU")
    patronymic = factory.Faker("middle_name_male", locale="ru_RU")
    birth_date = date(1985, 6, 1)
    sex = "M"
    region_id = "27"
