"""Inbound events over the signed API: stored once, applied once, corrected, refused clearly.

Each test posts through Django's test client with a real HMAC signature; events are applied
by the bus after commit (transactional tests), as a worker would.
"""

from __future__ import annotations

import json
import time
from datetime import date

import pytest

from integration.enums import InboxStatus, Scope
from integration.models import InboundEvent
from platform_core.validators import snils_from_number
from registries.enums import LifeEventKind, LifeEventStatus, RelationKind, StatusKind
from registries.models import FamilyIncome, LifeEvent, Person, PersonStatus, Relation
from tests.integration.helpers import CIVIL, act, birth, get, make_system, person, post
from tests.registries.factories import PersonFactory

pytestmark = pytest.mark.django_db(transaction=True)

MOTHER_SNILS = snils_from_number(200_000_001)


@pytest.fixture
def zags(region_27):
    return make_system()


@pytest.fixture
def mother(region_27) -> Person:
    return PersonFactory(
        snils=MOTHER_SNILS,
        last_name="Иванова",
        first_name="Мария",
        patronymic="Петровна",
        birth_date=date(1994, 3, 2),
        sex="F",
    )


def the_mother() -> dict:
    return person("Иванова", "Мария", "1994-03-02", snils=MOTHER_SNILS, sex="F")


def the_child(born: str = "2026-11-01") -> dict:
    return person("Иванов", "Пётр", born, sex="M")


def inbox(event_id: str) -> InboundEvent:
    return InboundEvent.objects.get(event_id=event_id)


def test_a_birth_registers_the_child_links_the_parents_and_records_the_event(client, zags, mother):
    father = person("Иванов", "Иван", "1990-01-15", sex="M")
    response = post(client, CIVIL, birth("b-1", the_mother(), the_child(), father), zags)

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "received"
    assert inbox("b-1").status == InboxStatus.APPLIED
    child = Person.objects.get(first_name="Пётр", birth_date=date(2026, 11, 1))
    registered_father = Person.objects.get(first_name="Иван", last_name="Иванов")
    parents = set(
        Relation.objects.filter(kind=RelationKind.PARENT, to_person=child).values_list(
            "from_person_id", flat=True
        )
    )
    assert parents == {mother.pk, registered_father.pk}
    event = LifeEvent.objects.get(person=child)
    assert (event.kind, event.occurred_on, event.source_event_id) == (
        LifeEventKind.BIRTH,
        date(2026, 11, 1),
        "b-1",
    )
    assert event.details["mother_id"] == mother.pk
    # The fact tables follow: the mother's family now has the child.
    row = FamilyIncome.objects.get(person=mother, valid__contains=date(2026, 11, 2))
    assert row.child_births == [date(2026, 11, 1)]


def test_a_repeated_event_gets_the_first_answer_and_is_applied_once(client, zags, mother):
    document = birth("b-2", the_mother(), the_child())
    first = post(client, CIVIL, document, zags)
    again = post(client, CIVIL, document, zags)

    assert again.status_code == first.status_code == 202
    assert again.json() == first.json()
    assert InboundEvent.objects.filter(event_id="b-2").count() == 1
    assert Person.objects.filter(first_name="Пётр").count() == 1
    assert LifeEvent.objects.filter(source_event_id="b-2").count() == 1


def test_the_same_birth_under_a_new_event_id_adds_no_second_child(client, zags, mother):
    post(client, CIVIL, birth("b-3", the_mother(), the_child()), zags)
    post(client, CIVIL, birth("b-3-resent", the_mother(), the_child()), zags)

    assert Person.objects.filter(first_name="Пётр").count() == 1
    assert Relation.objects.filter(from_person=mother, kind=RelationKind.PARENT).count() == 1
    assert inbox("b-3-resent").status == InboxStatus.REVIEW  # an officer sees the second act


def test_two_babies_of_one_name_and_birthday_are_two_children(client, zags, mother):
    other = person("Петрова", "Анна", "1992-07-07", snils=snils_from_number(200_000_002), sex="F")
    post(client, CIVIL, birth("b-4", the_mother(), the_child()), zags)
    post(client, CIVIL, birth("b-5", other, the_child()), zags)

    children = Person.objects.filter(first_name="Пётр", birth_date=date(2026, 11, 1))
    assert children.count() == 2
    assert {r.from_person.first_name for r in Relation.objects.filter(to_person__in=children)} == {
        "Мария",
        "Анна",
    }


def test_another_document_under_a_used_event_id_is_a_conflict(client, zags, mother):
    post(client, CIVIL, birth("b-4", the_mother(), the_child()), zags)
    response = post(client, CIVIL, birth("b-4", the_mother(), the_child("2026-11-02")), zags)

    assert response.status_code == 409
    assert "b-4" in response.json()["detail"]
    assert Person.objects.filter(first_name="Пётр").count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"secret": "not-the-secret"}, "signature does not match"),
        ({"timestamp": time.time() - 3600}, "too old"),
        ({"timestamp": time.time() + 3600}, "too old or from the future"),
    ],
)
def test_a_badly_signed_request_is_refused_and_nothing_is_stored(
    client, zags, mother, change, message, english_messages
):
    response = post(client, CIVIL, birth("b-5", the_mother(), the_child()), zags, **change)

    assert response.status_code == 401
    assert message in response.json()["detail"]
    assert "HMAC-SHA256" in response["WWW-Authenticate"]
    assert not InboundEvent.objects.exists()


def test_an_unknown_or_unsigned_system_is_refused(client, zags, english_messages):
    body = json.dumps(birth("b-6", the_mother(), the_child())).encode()
    unsigned = client.post(CIVIL, data=body, content_type="application/json")
    assert unsigned.status_code == 401
    assert "X-Signature" in unsigned.json()["detail"]

    zags.active = False
    zags.save()
    inactive = post(client, CIVIL, json.loads(body), zags)
    assert inactive.status_code == 401
    assert "zags-27" in inactive.json()["detail"]


def test_a_system_may_send_only_what_its_scopes_allow(client, region_27, english_messages):
    school = make_system("school-27", scopes=[Scope.EDUCATION_EVENTS])
    response = post(client, CIVIL, birth("b-7", the_mother(), the_child()), school)

    assert response.status_code == 403
    assert "school-27" in response.json()["detail"]
    assert not InboundEvent.objects.exists()


def test_a_document_breaking_the_contract_is_refused_naming_each_field(
    client, zags, english_messages
):
    document = birth("b-8", the_mother(), the_child())
    del document["act"]["number"]
    document["subjects"]["child"]["name"]["first"] = ""
    document["subjects"]["mother"]["snils"] = "200-000-001 00"  # wrong checksum, checked later
    document["unexpected"] = 1

    response = post(client, CIVIL, document, zags)

    assert response.status_code == 400
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors == {
        "act.number": "This field is required.",
        "subjects.child.name.first": "Must not be empty.",
        "unexpected": "Unknown field.",
    }
    assert not InboundEvent.objects.exists()


def test_problems_are_told_in_russian_by_default(client, zags):
    document = birth("b-8-ru", the_mother(), the_child())
    del document["act"]["number"]

    response = post(client, CIVIL, document, zags)

    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "act.number", "message": "Обязательное поле."}]


def test_a_bad_snils_checksum_and_impossible_dates_are_refused(client, zags, english_messages):
    document = birth("b-9", the_mother(), the_child())
    document["subjects"]["mother"]["snils"] = "200-000-001 00"
    document["act"]["date"] = "2026-10-01"

    response = post(client, CIVIL, document, zags)

    assert response.status_code == 400
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors == {
        "act.date": "An act cannot be registered before the event.",
        "subjects.mother.snils": "The SNILS checksum is wrong.",
    }


def test_malformed_json_is_refused_with_its_position(client, zags):
    response = post(client, CIVIL, b'{"event_id": "x",\n "type": }', zags)

    assert response.status_code == 400
    assert "line 2 column" in response.json()["detail"]


def test_a_death_of_an_unknown_person_waits_for_review_then_applies(
    client, zags, region_27, english_messages
):
    deceased = person("Петров", "Олег", "1950-05-05")
    post(client, CIVIL, act("d-1", "death", "2026-11-10", {"deceased": deceased}), zags)

    found = inbox("d-1")
    assert found.status == InboxStatus.REVIEW
    assert "not in the registry" in found.problem
    # The person is registered; an operator applies the event again.
    person_row = PersonFactory(last_name="Петров", first_name="Олег", birth_date=date(1950, 5, 5))
    from integration.services.inbox import inbound_replay

    inbound_replay(inbound=found)
    assert inbox("d-1").status == InboxStatus.APPLIED
    person_row.refresh_from_db()
    assert person_row.death_date == date(2026, 11, 10)


def test_a_correction_replaces_what_the_corrected_event_did(client, zags, mother):
    post(client, CIVIL, birth("b-10", the_mother(), the_child()), zags)
    mother_data = the_mother()
    post(client, CIVIL, act("d-2", "death", "2026-11-12", {"deceased": mother_data}), zags)
    post(
        client,
        CIVIL,
        act("d-2-fix", "death", "2026-11-13", {"deceased": mother_data}, corrects_event_id="d-2"),
        zags,
    )

    mother.refresh_from_db()
    assert mother.death_date == date(2026, 11, 13)
    old, new = LifeEvent.objects.filter(person=mother, kind=LifeEventKind.DEATH).order_by("id")
    assert old.status == LifeEventStatus.CORRECTED
    assert new.corrects_id == old.pk and new.occurred_on == date(2026, 11, 13)
    assert inbox("d-2").result["superseded_by"] == "d-2-fix"


def test_a_cancelled_birth_removes_the_ties_and_cancels_the_event(client, zags, mother):
    post(client, CIVIL, birth("b-11", the_mother(), the_child()), zags)
    cancel = act("b-11-cancel", "birth", "2026-11-01", {}, corrects_event_id="b-11", cancelled=True)
    response = post(client, CIVIL, cancel, zags)

    assert response.status_code == 202, response.content
    assert inbox("b-11-cancel").status == InboxStatus.APPLIED
    assert not Relation.objects.filter(from_person=mother).exists()
    assert LifeEvent.objects.get(source_event_id="b-11").status == LifeEventStatus.CANCELLED
    assert not FamilyIncome.objects.filter(person=mother).exists()


def test_a_correction_before_its_original_is_applied_after_it(client, zags, mother):
    mother_data = the_mother()
    fix = act("d-3-fix", "death", "2026-11-14", {"deceased": mother_data}, corrects_event_id="d-3")
    post(client, CIVIL, fix, zags)
    assert inbox("d-3-fix").status == InboxStatus.REVIEW

    post(client, CIVIL, act("d-3", "death", "2026-11-12", {"deceased": mother_data}), zags)

    assert inbox("d-3").status == InboxStatus.APPLIED
    assert inbox("d-3-fix").status == InboxStatus.APPLIED
    mother.refresh_from_db()
    assert mother.death_date == date(2026, 11, 14)


def test_an_ambiguous_match_goes_to_review_naming_the_candidates(client, zags, region_27):
    twins = [
        PersonFactory(
            snils=None, last_name="Сидоров", first_name="Илья", birth_date=date(1980, 1, 1)
        )
        for _ in range(2)
    ]
    post(
        client,
        CIVIL,
        act("d-4", "death", "2026-11-01", {"deceased": person("Сидоров", "Илья", "1980-01-01")}),
        zags,
    )

    found = inbox("d-4")
    assert found.status == InboxStatus.REVIEW
    assert sorted(found.result["candidates"]) == sorted(t.pk for t in twins)
    assert not Person.objects.filter(death_date__isnull=False).exists()


def test_marriage_divorce_and_change_of_name(client, zags, mother):
    husband = person("Смирнов", "Антон", "1991-07-07", sex="M")
    couple = {"spouse_1": the_mother(), "spouse_2": husband}
    post(client, CIVIL, act("m-1", "marriage", "2026-06-01", couple), zags)
    marriage = Relation.objects.get(kind=RelationKind.SPOUSE)
    assert marriage.valid_to is None

    renamed = {"person": the_mother(), "new_name": {"last": "Смирнова", "first": "Мария"}}
    post(client, CIVIL, act("n-1", "name_change", "2026-06-02", renamed), zags)
    mother.refresh_from_db()
    assert (mother.last_name, mother.patronymic) == ("Смирнова", "")

    divorced = {
        "spouse_1": {**the_mother(), "name": {"last": "Смирнова", "first": "Мария"}},
        "spouse_2": husband,
    }
    post(client, CIVIL, act("v-1", "divorce", "2026-10-01", divorced), zags)
    marriage.refresh_from_db()
    assert marriage.valid_to == date(2026, 9, 30)
    assert {e.kind for e in LifeEvent.objects.filter(person=mother)} == {
        LifeEventKind.MARRIAGE,
        LifeEventKind.NAME_CHANGE,
        LifeEventKind.DIVORCE,
    }


def test_paternity_and_adoption_link_parents(client, zags, mother):
    post(client, CIVIL, birth("b-12", the_mother(), the_child()), zags)
    child = Person.objects.get(first_name="Пётр")
    father = person("Кузнецов", "Олег", "1988-02-02", sex="M")
    post(
        client,
        CIVIL,
        act("p-1", "paternity", "2026-11-20", {"child": the_child(), "father": father}),
        zags,
    )
    paternity = Relation.objects.get(to_person=child, from_person__first_name="Олег")
    assert paternity.valid_from == child.birth_date

    adopter = person("Орлова", "Анна", "1985-09-09", sex="F")
    post(
        client,
        CIVIL,
        act("a-1", "adoption", "2026-11-21", {"child": the_child(), "adoptive_parents": [adopter]}),
        zags,
    )
    adoption = Relation.objects.get(to_person=child, from_person__first_name="Анна")
    assert adoption.valid_from == date(2026, 11, 21)


def test_a_batch_answers_each_event_in_order(client, zags, mother, english_messages):
    good = [birth(f"bb-{n}", the_mother(), the_child(f"2026-10-{n + 10:02d}")) for n in range(3)]
    bad = birth("bb-bad", the_mother(), the_child())
    del bad["occurred_on"]
    response = post(client, f"{CIVIL}/batch", {"events": [*good, bad, good[0]]}, zags)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["received"], body["repeated"], body["rejected"], body["conflicts"]) == (3, 1, 1, 0)
    assert [r["status"] for r in body["results"]] == ["received"] * 3 + ["rejected", "received"]
    assert body["results"][3]["errors"] == [
        {"field": "occurred_on", "message": "This field is required."}
    ]
    assert InboundEvent.objects.filter(status=InboxStatus.APPLIED).count() == 3
    assert Person.objects.filter(first_name="Пётр").count() == 3


def test_a_batch_must_hold_events(client, zags, settings):
    assert post(client, f"{CIVIL}/batch", {"events": []}, zags).status_code == 400
    too_many = {"events": [{}] * (settings.INTEGRATION_BATCH_MAX_EVENTS + 1)}
    response = post(client, f"{CIVIL}/batch", too_many, zags)
    assert response.status_code == 400
    assert "events" in response.json()


def test_the_sender_can_ask_what_became_of_an_event(client, zags, mother):
    post(client, CIVIL, birth("b-13", the_mother(), the_child()), zags)

    response = get(client, f"{CIVIL}/b-13", zags)
    assert response.status_code == 200
    assert response.json()["status"] == InboxStatus.APPLIED
    assert get(client, f"{CIVIL}/unknown", zags).status_code == 404
    # Another system does not see it.
    other = make_system("zags-77")
    assert get(client, f"{CIVIL}/b-13", other).status_code == 404


def test_disability_established_extended_and_removed(client, zags, mother):
    path = "/api/v1/integration/disability/events"
    base = {"type": "established", "occurred_on": "2026-01-10", "person": the_mother()}
    group = {"group": "2", "valid_from": "2026-01-10", "valid_to": "2027-01-31"}
    post(client, path, {**base, "event_id": "dis-1", "disability": group}, zags)
    extended = {**group, "valid_from": "2027-02-01", "valid_to": "2028-01-31"}
    post(
        client,
        path,
        {
            **base,
            "event_id": "dis-2",
            "type": "extended",
            "occurred_on": "2027-01-20",
            "disability": extended,
        },
        zags,
    )
    post(
        client,
        path,
        {**base, "event_id": "dis-3", "type": "removed", "occurred_on": "2027-06-01"},
        zags,
    )

    periods = list(
        PersonStatus.objects.filter(person=mother, kind=StatusKind.DISABILITY)
        .order_by("valid_from")
        .values_list("valid_from", "valid_to", "disability_group")
    )
    assert periods == [
        (date(2026, 1, 10), date(2027, 1, 31), "2"),
        (date(2027, 2, 1), date(2027, 5, 31), "2"),
    ]
    assert InboundEvent.objects.filter(status=InboxStatus.APPLIED).count() == 3


def test_education_enrolment_and_leaving(client, zags, mother):
    path = "/api/v1/integration/education/events"
    school = {"inn": "2721000000", "name": "Школа № 1", "level": "school"}
    base = {"person": the_mother(), "school": school}
    post(
        client,
        path,
        {**base, "event_id": "e-1", "type": "enrolled", "occurred_on": "2026-09-01"},
        zags,
    )
    post(
        client, path, {**base, "event_id": "e-2", "type": "left", "occurred_on": "2027-05-31"}, zags
    )

    status = PersonStatus.objects.get(person=mother, kind=StatusKind.STUDENT)
    assert (status.valid_from, status.valid_to) == (date(2026, 9, 1), date(2027, 5, 31))
    assert "Школа № 1" in status.basis


def test_only_platform_operators_see_the_inbox_and_replay_is_refused_for_applied_events(
    client, zags, mother, officer_27, federal_body
):
    from tests.conftest import make_staff

    post(client, CIVIL, birth("b-14", the_mother(), the_child()), zags)
    inbound = inbox("b-14")

    client.force_login(officer_27)
    regional = client.get("/api/v1/integration/inbox/")
    assert regional.status_code == 200 and regional.json()["count"] == 0
    assert client.get(f"/api/v1/integration/inbox/{inbound.pk}/").status_code == 404
    assert client.post(f"/api/v1/integration/inbox/{inbound.pk}/replay/").status_code == 404

    client.force_login(make_staff("platform", federal_body, role="platform_operator"))
    listed = client.get("/api/v1/integration/inbox/")
    assert [row["event_id"] for row in listed.json()["results"]] == ["b-14"]
    stats = client.get("/api/v1/integration/inbox/stats/").json()
    assert stats[0]["applied"] == 1 and stats[0]["oldest_waiting"] is None
    assert client.post(f"/api/v1/integration/inbox/{inbound.pk}/replay/").status_code == 409
