"""Check constraints validated in one query (platform_core/models/checks.py): the same
errors as Django's own validation, one statement instead of three a constraint."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from registries.models import Person

pytestmark = pytest.mark.django_db


def checked(person: Person, validate) -> tuple[dict | None, int]:  # type: ignore[no-untyped-def]
    """The errors a validation gives (None: valid) and the statements it ran."""
    with CaptureQueriesContext(connection) as queries:
        try:
            validate()
        except ValidationError as error:
            return error.message_dict, len(queries)
    return None, len(queries)


def person(**fields) -> Person:  # type: ignore[no-untyped-def]
    defaults = {
        "last_name": "Проверкина",
        "first_name": "Анна",
        "birth_date": date(1990, 1, 1),
        "sex": "F",
        "region_id": "27",
    }
    return Person(**(defaults | fields))


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"death_date": date(1980, 1, 1)},  # before birth
        {"sex": "X", "citizenship": "ru", "bank_bic": "044525225"},  # three at once
        {"bank_card": "1234", "death_date": None},
    ],
)
def test_the_same_errors_as_djangos_validation_in_fewer_statements(region_27, fields):
    ours, our_statements = checked(
        person(**fields), lambda: person(**fields).validate_constraints()
    )
    django, django_statements = checked(
        person(**fields), lambda: models.Model.validate_constraints(person(**fields))
    )
    assert ours == django
    checks = sum(isinstance(c, models.CheckConstraint) for c in Person._meta.constraints)
    # One SELECT for the checks (and its savepoint pair inside the test's transaction)
    # instead of three statements each; the unique constraint is validated as before.
    assert django_statements - our_statements == 3 * checks - 3


def test_a_constraint_on_an_excluded_field_is_skipped_as_django_skips_it(region_27):
    wrong = person(sex="X")
    wrong.validate_constraints(exclude={"sex"})  # no error: sex is not validated here
    models.Model.validate_constraints(wrong, exclude={"sex"})  # nor by Django
    with pytest.raises(ValidationError) as refused:
        wrong.validate_constraints()
    with pytest.raises(ValidationError) as by_django:
        models.Model.validate_constraints(wrong)
    assert refused.value.message_dict == by_django.value.message_dict
