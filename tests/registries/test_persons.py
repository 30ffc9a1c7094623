"""Persons and relations: bad input gets a clear message naming the field, never a 500."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from platform_core.models import OutboxEvent, PersonalFileView
from registries import selectors
from registries.models import Person, Relation
from registries.services.persons import person_create, person_update, relation_create
from tests.registries.factories import PersonFactory

pytestmark = pytest.mark.django_db

VALID = {
    "last_name": "Иванова",
    "first_name": "Мария",
    "patronymic": "Петровна",
    "birth_date": "1994-05-17",
    "sex": "F",
    "region": "27",
    "snils": "11223344595",
}


@pytest.fixture
def api(client, officer_27):
    client.force_login(officer_27)
    return client


def post(api, **changes):
    return api.post(reverse("person-list"), {**VALID, **changes}, content_type="application/json")


def test_create_normalises_snils_and_publishes_an_event(api, region_27):
    response = post(api)
    assert response.status_code == 201, response.content
    person = Person.objects.get()
    assert person.snils == "112-233-445 95"
    assert OutboxEvent.objects.filter(
        event_type="registries.person_registered", payload__person_id=person.pk
    ).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"snils": "112-233-445 96"}, "snils"),  # wrong check digits
        ({"snils": "12345"}, "snils"),
        ({"birth_date": "1994-02-30"}, "birth_date"),
        ({"sex": "X"}, "sex"),
        ({"death_date": "1990-01-01"}, "death_date"),  # before birth
        (
            {"bank_bic": "044525225", "bank_account": "40702810938000000002"},
            "bank_account",
        ),  # bad key
        ({"bank_bic": "12345", "bank_account": "40702810938000000001"}, "bank_bic"),
        ({"bank_bic": "044525225"}, "bank_account"),  # BIC without account
        ({"bank_card": "2200000000000005"}, "bank_card"),  # wrong check digit
        ({"bank_card": "4276000000000009"}, "bank_card"),  # not a Mir card
        ({"region": "99"}, "region"),  # no such region
        ({"last_name": ""}, "last_name"),
        ({"email": "not-an-email"}, "email"),
        ({"notification_channels": ["pigeon"]}, "notification_channels"),
    ],
)
def test_bad_person_input_names_the_field(api, region_27, changes, field):
    response = post(api, **changes)
    assert response.status_code in (400, 403), response.content
    assert field in response.json() or response.json().get("field") == field, response.json()
    assert not Person.objects.exists()


def test_valid_bank_details_are_accepted(api, region_27):
    response = post(
        api,
        bank_bic="044525225",
        bank_account="40702810938000000001",
        bank_card="2200000000000004",
    )
    assert response.status_code == 201, response.content
    assert Person.objects.get().bank_card == "2200000000000004"


def test_duplicate_snils_is_refused_with_the_field_named(api, region_27):
    assert post(api).status_code == 201
    response = post(api, first_name="Другая", snils="112 233 445 95")
    assert response.status_code == 400
    assert "snils" in response.json()
    assert Person.objects.count() == 1


def test_malformed_json_is_a_400_not_a_500(api, region_27):
    response = api.post(reverse("person-list"), "{not json", content_type="application/json")
    assert response.status_code == 400


def test_lookup_by_snils_accepts_any_spelling_and_logs_the_view(api, officer_27, region_27):
    person = PersonFactory(snils="112-233-445 95")
    for spelling in ("11223344595", "112-233-445 95"):
        response = api.get(reverse("person-by-snils", args=[spelling]))
        assert response.status_code == 200
        assert response.json()["id"] == person.pk
    assert (
        PersonalFileView.objects.filter(
            actor=officer_27, subject_id=str(person.pk), channel="api"
        ).count()
        == 2
    )
    assert api.get(reverse("person-by-snils", args=["112-233-445 96"])).status_code == 400


def test_history_shows_who_changed_what_from_and_to(api, officer_27, region_27):
    assert post(api).status_code == 201
    person = Person.objects.get()
    response = api.patch(
        reverse("person-detail", args=[person.pk]),
        {"last_name": "Петрова"},
        content_type="application/json",
    )
    assert response.status_code == 200
    history = api.get(reverse("person-history", args=[person.pk])).json()
    assert history[0]["kind"] == "changed"
    assert history[0]["who"] == officer_27.username
    assert history[0]["changes"] == [{"field": "last_name", "old": "Иванова", "new": "Петрова"}]
    assert history[1]["kind"] == "created"


def test_update_with_no_real_change_writes_no_history(officer_27, region_27):
    person = person_create(
        actor=officer_27,
        data={**{k: v for k, v in VALID.items() if k != "region"}, "region_id": "27"},
    )
    person_update(person=person, actor=officer_27, changes={"last_name": "Иванова"})
    assert person.history.count() == 1


def test_child_cannot_be_born_before_its_parent(officer_27, region_27):
    parent = PersonFactory(birth_date=date(2000, 1, 1))
    child = PersonFactory(birth_date=date(1999, 1, 1))
    with pytest.raises(ValidationError) as excinfo:
        relation_create(
            actor=officer_27,
            kind="parent",
            basis="birth",
            from_person=parent,
            to_person=child,
            valid_from=child.birth_date,
        )
    assert "to_person" in excinfo.value.message_dict
    assert not Relation.objects.exists()


def test_family_as_of_a_date_follows_marriage_divorce_birth_and_death(officer_27, region_27):
    mother = PersonFactory(birth_date=date(1990, 1, 1), sex="F")
    father = PersonFactory(birth_date=date(1989, 1, 1))
    older = PersonFactory(birth_date=date(2010, 5, 1))
    younger = PersonFactory(birth_date=date(2020, 5, 1), death_date=date(2024, 1, 1))
    marriage = relation_create(
        actor=officer_27,
        kind="spouse",
        basis="marriage",
        from_person=father,
        to_person=mother,
        valid_from=date(2009, 6, 1),
    )
    for child in (older, younger):
        relation_create(
            actor=officer_27,
            kind="parent",
            basis="birth",
            from_person=mother,
            to_person=child,
            valid_from=child.birth_date,
        )
    from registries.services.persons import relation_end

    relation_end(relation=marriage, actor=officer_27, on=date(2022, 12, 31))
    family_2021 = selectors.family_as_of(person=father, on=date(2021, 1, 1))
    assert family_2021.spouse == mother
    assert family_2021.children == [older, younger]
    family_2025 = selectors.family_as_of(person=mother, on=date(2025, 1, 1))
    assert family_2025.spouse is None
    assert family_2025.children == [older]  # the younger died in 2024
    family_2029 = selectors.family_as_of(person=mother, on=date(2029, 1, 1))
    assert family_2029.children == []  # the older turned 18


def test_family_endpoint(api, officer_27, region_27):
    mother = PersonFactory(birth_date=date(1990, 1, 1), sex="F")
    child = PersonFactory(birth_date=date(2015, 1, 1))
    relation_create(
        actor=officer_27,
        kind="parent",
        basis="birth",
        from_person=mother,
        to_person=child,
        valid_from=child.birth_date,
    )
    rows = api.get(reverse("person-family", args=[mother.pk]), {"on": "2020-01-01"}).json()
    assert [(r["id"], r["role"]) for r in rows] == [(mother.pk, "self"), (child.pk, "child")]
    assert (
        api.get(reverse("person-family", args=[mother.pk]), {"on": "2020-13-01"}).status_code == 400
    )


def test_database_refuses_death_before_birth_even_bypassing_python(region_27):
    from django.db import IntegrityError, transaction

    person = PersonFactory(birth_date=date(2000, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.filter(pk=person.pk).update(death_date=date(1999, 1, 1))


class TestAdminForms:
    @pytest.fixture(autouse=True)
    def staff(self, client, officer_27, region_27):
        from platform_core.roles import roles_sync, user_role_apply

        roles_sync()
        user_role_apply(user=officer_27)
        client.force_login(officer_27)
        self.client = client

    def form(self, **changes):
        data = {
            "snils": "112-233-445 95",
            "last_name": "Иванова",
            "first_name": "Мария",
            "birth_date": "1994-05-17",
            "sex": "F",
            "citizenship": "RUS",
            "region": "27",
            "consent_proactive": "on",
            "relations_from-TOTAL_FORMS": "0",
            "relations_from-INITIAL_FORMS": "0",
            "statuses-TOTAL_FORMS": "0",
            "statuses-INITIAL_FORMS": "0",
        }
        data.update(changes)
        return self.client.post(reverse("admin:registries_person_add"), data)

    def test_admin_creates_a_person_with_canonical_snils(self):
        response = self.form(snils="11223344595")
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert Person.objects.get().snils == "112-233-445 95"

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"snils": "112-233-445 96"}, "snils"),
            ({"death_date": "1990-01-01"}, "death_date"),
            ({"bank_bic": "044525225", "bank_account": "40702810938000000002"}, "bank_account"),
            ({"bank_card": "2200000000000005"}, "bank_card"),
            ({"region": "77"}, "region"),  # not offered to an officer of region 27
        ],
    )
    def test_admin_form_shows_the_error_on_the_field(self, changes, field, region_77):
        response = self.form(**changes)
        assert response.status_code == 200
        assert field in response.context["adminform"].form.errors
        assert not Person.objects.exists()

    def test_admin_search_finds_a_snils_typed_without_separators(self):
        PersonFactory(snils="112-233-445 95", last_name="Искомая")
        page = self.client.get(reverse("admin:registries_person_changelist"), {"q": "11223344595"})
        assert "Искомая" in page.content.decode()
