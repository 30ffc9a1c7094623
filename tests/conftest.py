"""Fixtures shared by every app's tests: territories, organisations, staff users."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.utils import translation

from platform_core.enums import OrganisationKind, Power, Role
from platform_core.models import Municipality, Organisation, Region, User

pytest_plugins = ["tests.peers"]
ALL_POWERS = list(Power.values)
REGIONAL_POWERS = [p for p in Power.values if p != Power.OPERATE_PLATFORM]


@pytest.fixture(autouse=True)
def _default_language():  # type: ignore[no-untyped-def]
    """Every test starts in the platform's default language (Russian): a request or a test
    that activated another one would otherwise leave it active for the next test."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def region_27(db) -> Region:
    return Region.objects.get_or_create(
        code="27", defaults={"name": "Хабаровский край", "timezone": "Asia/Vladivostok"}
    )[0]


@pytest.fixture
def region_77(db) -> Region:
    return Region.objects.get_or_create(
        code="77", defaults={"name": "г. Москва", "timezone": "Europe/Moscow"}
    )[0]


@pytest.fixture
def khabarovsk(region_27) -> Municipality:
    return Municipality.objects.get_or_create(
        oktmo="08701000", defaults={"region": region_27, "name": "г. Хабаровск"}
    )[0]


@pytest.fixture
def komsomolsk(region_27) -> Municipality:
    return Municipality.objects.get_or_create(
        oktmo="08709000", defaults={"region": region_27, "name": "г. Комсомольск-на-Амуре"}
    )[0]


def make_staff(username: str, organisation: Organisation, role: str = Role.OFFICER) -> User:
    """A staff user in their role's group, with its permissions, as the admin makes them."""
    from platform_core.roles import roles_sync, user_role_apply

    if not Group.objects.filter(name=role).exists():
        roles_sync()
    user = User.objects.create_user(
        username=username,
        password="pass-Word-123",
        organisation=organisation,
        role=role,
        is_staff=True,
    )
    user_role_apply(user=user)
    return user


@pytest.fixture
def ministry_27(region_27) -> Organisation:
    return Organisation.objects.create(
        name="Министерство социальной защиты Хабаровского края",
        kind=OrganisationKind.REGIONAL_MINISTRY,
        region=region_27,
        powers=REGIONAL_POWERS,
    )


@pytest.fixture
def ministry_77(region_77) -> Organisation:
    return Organisation.objects.create(
        name="Департамент труда и социальной защиты населения города Москвы",
        kind=OrganisationKind.REGIONAL_MINISTRY,
        region=region_77,
        powers=REGIONAL_POWERS,
    )


@pytest.fixture
def federal_body(db) -> Organisation:
    return Organisation.objects.create(
        name="Социальный фонд России", kind=OrganisationKind.FEDERAL_BODY, powers=ALL_POWERS
    )


@pytest.fixture
def officer_27(ministry_27) -> User:
    return make_staff("officer27", ministry_27)


@pytest.fixture
def officer_77(ministry_77) -> User:
    return make_staff("officer77", ministry_77)


@pytest.fixture
def federal_officer(federal_body) -> User:
    return make_staff("federal", federal_body)


@pytest.fixture
def english_messages():
    """Assert the English source strings; the platform's default language is Russian."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def openapi_over_wsgi(db):
    """Our OpenAPI schema for schemathesis, its calls served by the WSGI app in the test's
    transaction (as Django's test client does, the transaction stays open across requests)."""
    import schemathesis
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)
