"""Officers work the cases the rules could not decide: a queue by deadline, decisions with a
reason, two officers to refuse a proactive case, one winner when two act at once."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from measures.enums import CaseStatus, DecisionOutcome, TriggerKind
from measures.models import Case, Decision, Measure
from measures.services.cases import case_open, case_work
from platform_core.calendar import calendar_load_year
from platform_core.enums import Role
from tests.conftest import make_staff
from tests.measures.families import UNIFIED, child_of, person

pytestmark = pytest.mark.django_db

CASES = "/api/v1/measures/cases/"


@pytest.fixture
def review_case(loaded_catalogue) -> Case:
    """A proactive case of the unified allowance whose income data is missing."""
    for year in (2025, 2026, 2027):
        calendar_load_year(year=year)
    mother = person(date(1990, 1, 1), "F")
    child = child_of(mother, 0)
    case, _ = case_open(
        person=mother,
        measure=Measure.objects.get(code=UNIFIED),
        trigger_kind=TriggerKind.LIFE_EVENT,
        trigger_key=f"test:{child.pk}",
        as_of=child.birth_date,
        now=timezone.now(),
    )
    return case_work(case_id=case.pk, now=timezone.now())


def test_the_case_waits_in_the_queue_with_its_deadline(client, review_case, officer_27):
    assert review_case.status == CaseStatus.REVIEW, review_case.summary
    client.force_login(officer_27)
    queue = client.get(f"{CASES}queue/").json()["results"]
    assert [c["id"] for c in queue] == [review_case.pk]
    assert queue[0]["decision_due_at"] is not None
    detail = client.get(f"{CASES}{review_case.pk}/").json()
    assert [e["kind"] for e in detail["entries"]][:2] == ["opened", "evaluated"]


def test_an_officer_grants_with_a_reason_and_the_decision_is_verifiable(
    client, review_case, officer_27
):
    client.force_login(officer_27)
    without_reason = client.post(
        f"{CASES}{review_case.pk}/decide/",
        {"outcome": "grant", "reason": ""},
        content_type="application/json",
    )
    assert without_reason.status_code == 400 and "reason" in without_reason.json()

    granted = client.post(
        f"{CASES}{review_case.pk}/decide/",
        {"outcome": "grant", "reason": "Доходы подтверждены справкой работодателя"},
        content_type="application/json",
    )
    assert granted.status_code == 200, granted.json()
    body = granted.json()
    assert body["status"] == CaseStatus.DECIDED
    assert body["decision"]["automatic"] is False and body["decision"]["decided_by"] == "officer27"
    verified = client.get(f"/api/v1/measures/decisions/{body['decision']['id']}/verify/").json()
    assert verified["valid"] is True

    again = client.post(
        f"{CASES}{review_case.pk}/decide/",
        {"outcome": "refuse", "reason": "Передумали"},
        content_type="application/json",
    )
    assert again.status_code == 409  # decided already: one decision per case
    assert Decision.objects.filter(case=review_case).count() == 1


def test_refusing_a_proactive_case_takes_two_officers(client, review_case, officer_27, ministry_27):
    second = make_staff("supervisor27", ministry_27, role=Role.SUPERVISOR)
    refuse = {"outcome": "refuse", "reason": "Семья выехала за пределы края"}
    client.force_login(officer_27)
    proposed = client.post(
        f"{CASES}{review_case.pk}/decide/", refuse, content_type="application/json"
    )
    assert proposed.status_code == 200 and proposed.json()["status"] == CaseStatus.REVIEW
    alone = client.post(f"{CASES}{review_case.pk}/decide/", refuse, content_type="application/json")
    assert alone.status_code == 409  # not by the same officer

    client.force_login(second)
    confirmed = client.post(
        f"{CASES}{review_case.pk}/decide/", refuse, content_type="application/json"
    )
    assert confirmed.status_code == 200
    decision = Decision.objects.get(case=review_case)
    assert decision.outcome == DecisionOutcome.REFUSE and decision.decided_by == second
    assert not hasattr(decision, "assignment") or decision.assignment is None


def test_officers_of_another_region_do_not_see_the_case(client, review_case, officer_77):
    client.force_login(officer_77)
    assert client.get(f"{CASES}queue/").json()["results"] == []
    assert client.get(f"{CASES}{review_case.pk}/").status_code == 404
    decide = client.post(
        f"{CASES}{review_case.pk}/decide/",
        {"outcome": "grant", "reason": "x"},
        content_type="application/json",
    )
    assert decide.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_officers_deciding_at_once_one_wins_the_other_is_told(review_case, ministry_27):
    import threading

    from django.db import connection

    from measures.services.cases import CaseNotOpen, case_decide

    officers = [make_staff(f"o{n}", ministry_27) for n in range(2)]
    start = threading.Barrier(2)
    results: list[str] = []

    def decide(officer) -> None:  # type: ignore[no-untyped-def]
        start.wait()
        try:
            case_decide(
                case=review_case,
                outcome="grant",
                reason="Проверено",
                officer=officer,
                now=timezone.now(),
            )
            results.append("won")
        except CaseNotOpen:
            results.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(o,)) for o in officers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["conflict", "won"]
    assert Decision.objects.filter(case=review_case).count() == 1


def test_the_back_office_shows_the_case_and_takes_it(client, review_case, officer_27, officer_77):
    client.force_login(officer_27)
    assert client.get("/admin/measures/case/").status_code == 200
    page = client.get(f"/admin/measures/case/{review_case.pk}/change/")
    assert page.status_code == 200
    assert review_case.summary in page.content.decode()  # why it waits, on the page
    taken = client.post(
        "/admin/measures/case/",
        {"action": "take", "_selected_action": [review_case.pk]},
    )
    assert taken.status_code == 302
    assert Case.objects.get(pk=review_case.pk).assigned_to == officer_27

    client.force_login(officer_77)
    assert client.get(f"/admin/measures/case/{review_case.pk}/change/").status_code == 302


def test_a_death_ends_the_assignments_from_the_next_day(review_case, officer_27):
    from datetime import timedelta

    from measures.enums import AssignmentStatus
    from measures.models import Assignment
    from measures.services.cases import case_decide, life_event_consequences
    from registries.enums import LifeEventKind
    from registries.services.life_events import life_event_record

    case_decide(
        case=review_case,
        outcome="grant",
        reason="Доходы подтверждены",
        officer=officer_27,
        now=timezone.now(),
    )
    assignment = Assignment.objects.get(decision__case=review_case)
    assert assignment.periodic and assignment.active_to > assignment.active_from
    died = assignment.active_from + timedelta(days=40)
    event, _ = life_event_record(
        person=review_case.person,
        kind=LifeEventKind.DEATH,
        occurred_on=died,
        learned_at=timezone.now(),
        source_system="test",
        source_event_id="d-1",
    )
    assert life_event_consequences(life_event_id=event.pk, now=timezone.now()) == 1
    ended = Assignment.objects.get(pk=assignment.pk)
    assert (ended.status, ended.active_to) == (AssignmentStatus.TERMINATED, died)
    assert life_event_consequences(life_event_id=event.pk, now=timezone.now()) == 0  # once


def test_an_assignment_is_suspended_and_resumed_with_a_reason(client, review_case, officer_27):
    from measures.enums import AssignmentStatus
    from measures.models import Assignment
    from measures.services.cases import case_decide

    case_decide(
        case=review_case,
        outcome="grant",
        reason="Проверено",
        officer=officer_27,
        now=timezone.now(),
    )
    assignment = Assignment.objects.get(decision__case=review_case)
    url = f"/api/v1/measures/assignments/{assignment.pk}/"
    client.force_login(officer_27)
    assert (
        client.post(f"{url}resume/", {"reason": "x"}, content_type="application/json").status_code
        == 409
    )
    suspended = client.post(
        f"{url}suspend/", {"reason": "Счёт закрыт"}, content_type="application/json"
    )
    assert suspended.json()["status"] == AssignmentStatus.SUSPENDED
    resumed = client.post(
        f"{url}resume/", {"reason": "Новый счёт"}, content_type="application/json"
    )
    assert resumed.json()["status"] == AssignmentStatus.ACTIVE
    texts = [e.text for e in review_case.entries.order_by("at", "id")]
    assert any("Счёт закрыт" in t for t in texts) and any("Новый счёт" in t for t in texts)
