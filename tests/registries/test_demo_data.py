"""The demo data of `make run`: idempotent, scoped logins, named families."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from platform_core.models import Region, User
from registries.models import Person, Relation
from registries.services.demo import DEMO_PASSWORD, demo_data_load

pytestmark = pytest.mark.django_db


@pytest.fixture
def regions(region_27, region_77, khabarovsk, komsomolsk):
    return region_27, region_77


def test_demo_load_is_idempotent_and_logins_are_scoped(client, regions):
    demo_data_load()
    persons, relations, users = (
        Person.objects.count(),
        Relation.objects.count(),
        User.objects.count(),
    )
    demo_data_load()
    assert (Person.objects.count(), Relation.objects.count(), User.objects.count()) == (
        persons,
        relations,
        users,
    )

    assert client.login(username="officer77", password=DEMO_PASSWORD)
    assert client.get(reverse("person-list")).json()["count"] == 0  # every demo family lives in 27
    assert client.login(username="operator27", password=DEMO_PASSWORD)
    names = {p["last_name"] for p in client.get(reverse("person-list")).json()["results"]}
    assert names == {"Иванова", "Иванов", "Белова", "Белов"}  # Khabarovsk city, not Komsomolsk
    assert client.login(username="officer27", password=DEMO_PASSWORD)
    assert client.get(reverse("person-list")).json()["count"] == persons
    assert client.get(reverse("admin:registries_person_changelist")).status_code == 200


def test_command_refuses_without_reference_data(db):
    Region.objects.all().delete()
    with pytest.raises(CommandError, match="load_reference_data"):
        call_command("load_demo_data", "--persons", "0")
