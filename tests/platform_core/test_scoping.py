"""Jurisdiction: an officer of one region can neither read nor change another region's data."""

from __future__ import annotations

import pytest
from django.urls import reverse

from platform_core.enums import OrganisationKind, Power
from platform_core.errors import OutOfJurisdiction
from platform_core.models import Organisation
from platform_core.scoping import ensure_in_scope, ensure_territory_allowed, scope_queryset
from registries.models import Person, PersonStatus
from tests.conftest import make_staff
from tests.registries.factories import PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(region_27, region_77, khabarovsk, komsomolsk):
    return {
        "khv": PersonFactory(region_id="27", municipality=khabarovsk, last_name="Хабаровский"),
        "kms": PersonFactory(region_id="27", municipality=komsomolsk, last_name="Комсомольский"),
        "msk": PersonFactory(region_id="77", last_name="Московский"),
    }


def names(queryset) -> set[str]:
    return set(queryset.values_list("last_name", flat=True))


def test_regional_officer_sees_only_their_region(people, officer_27, officer_77):
    assert names(scope_queryset(Person.objects.all(), user=officer_27)) == {
        "Хабаровский",
        "Комсомольский",
    }
    assert names(scope_queryset(Person.objects.all(), user=officer_77)) == {"Московский"}


def test_nationwide_body_sees_every_region(people, federal_officer):
    assert len(names(scope_queryset(Person.objects.all(), user=federal_officer))) == 3


def test_municipal_office_sees_only_its_municipality(people, region_27, khabarovsk):
    mfc = Organisation.objects.create(
        name="МФЦ",
        kind=OrganisationKind.MFC,
        region=region_27,
        municipality=khabarovsk,
        powers=[Power.VIEW_PERSONAL_DATA],
    )
    operator = make_staff("mfc-operator", mfc)
    assert names(scope_queryset(Person.objects.all(), user=operator)) == {"Хабаровский"}
    # Without the power to change, nothing is changeable.
    assert not scope_queryset(Person.objects.all(), user=operator, action="change").exists()


def test_related_rows_follow_the_persons_region(people, officer_27):
    PersonStatus.objects.create(
        person=people["msk"], kind="pensioner", valid_from="2020-01-01", source="t"
    )
    assert not scope_queryset(PersonStatus.objects.all(), user=officer_27).exists()


def test_user_without_organisation_or_power_sees_nothing(people, ministry_27, django_user_model):
    lone = django_user_model.objects.create_user(username="lone", password="x", is_staff=True)
    assert not scope_queryset(Person.objects.all(), user=lone).exists()
    powerless = Organisation.objects.create(
        name="Без полномочий",
        kind=OrganisationKind.CLIENT_OFFICE,
        region=ministry_27.region,
        powers=[],
    )
    assert not scope_queryset(Person.objects.all(), user=make_staff("p", powerless)).exists()


def test_ensure_helpers_refuse_other_regions(people, officer_27):
    ensure_in_scope(people["khv"], user=officer_27)
    with pytest.raises(OutOfJurisdiction):
        ensure_in_scope(people["msk"], user=officer_27)
    with pytest.raises(OutOfJurisdiction) as excinfo:
        ensure_territory_allowed(user=officer_27, region_code="77")
    assert excinfo.value.field == "region"


class TestApiAcrossRegions:
    def test_list_and_detail_hide_other_regions(self, client, people, officer_27):
        client.force_login(officer_27)
        listed = client.get(reverse("person-list")).json()["results"]
        assert {p["last_name"] for p in listed} == {"Хабаровский", "Комсомольский"}
        assert client.get(reverse("person-detail", args=[people["msk"].pk])).status_code == 404
        assert client.get(reverse("person-by-snils", args=[people["msk"].snils])).status_code == 404
        assert client.get(reverse("person-history", args=[people["msk"].pk])).status_code == 404

    def test_cannot_change_or_create_in_another_region(self, client, people, officer_27):
        client.force_login(officer_27)
        url = reverse("person-detail", args=[people["msk"].pk])
        response = client.patch(url, {"last_name": "Взломанный"}, content_type="application/json")
        assert response.status_code == 404
        people["msk"].refresh_from_db()
        assert people["msk"].last_name == "Московский"
        created = client.post(
            reverse("person-list"),
            {
                "last_name": "Новый",
                "first_name": "Иван",
                "birth_date": "2000-01-01",
                "sex": "M",
                "region": "77",
            },
            content_type="application/json",
        )
        assert created.status_code == 403
        assert created.json()["field"] == "region"
        assert not Person.objects.filter(last_name="Новый").exists()

    def test_cannot_move_own_person_into_another_region(self, client, people, officer_27):
        client.force_login(officer_27)
        url = reverse("person-detail", args=[people["khv"].pk])
        response = client.patch(
            url, {"region": "77", "municipality": None}, content_type="application/json"
        )
        assert response.status_code == 403
        people["khv"].refresh_from_db()
        assert people["khv"].region_id == "27"


class TestAdminAcrossRegions:
    @pytest.fixture(autouse=True)
    def roles(self, db):
        from platform_core.roles import roles_sync, user_role_apply

        roles_sync()
        self.apply = user_role_apply

    def test_changelist_and_change_view_are_scoped(self, client, people, officer_27):
        self.apply(user=officer_27)
        client.force_login(officer_27)
        changelist = client.get(reverse("admin:registries_person_changelist"))
        assert changelist.status_code == 200
        body = changelist.content.decode()
        assert "Хабаровский" in body and "Московский" not in body
        other = reverse("admin:registries_person_change", args=[people["msk"].pk])
        # Django's admin redirects to the index with a "does not exist" message.
        assert client.get(other).status_code == 302

    def test_post_to_another_regions_person_changes_nothing(self, client, people, officer_27):
        self.apply(user=officer_27)
        client.force_login(officer_27)
        other = reverse("admin:registries_person_change", args=[people["msk"].pk])
        client.post(other, {"last_name": "Взломанный"})
        people["msk"].refresh_from_db()
        assert people["msk"].last_name == "Московский"

    def test_status_cannot_be_attached_to_another_regions_person(self, client, people, officer_27):
        self.apply(user=officer_27)
        client.force_login(officer_27)
        response = client.post(
            reverse("admin:registries_personstatus_add"),
            {
                "person": people["msk"].pk,
                "kind": "pensioner",
                "valid_from": "2024-01-01",
                "source": "t",
            },
        )
        assert response.status_code == 200  # the form is shown again with an error
        assert "person" in response.context["adminform"].form.errors
        assert not PersonStatus.objects.exists()
