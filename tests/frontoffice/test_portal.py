"""The citizen portal: a citizen logs in, sees what was found for them with its explanation,
applies in one click, follows the case, sees payments and changes bank details; acts for a
ward; and never reaches anyone else's data, whatever ids they try."""

from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings
from django.utils import timezone, translation

from frontoffice.models import CitizenAccount
from frontoffice.services import ATTEMPTS, citizen_account_for
from measures.enums import CaseStatus, DecisionOutcome, TriggerKind
from measures.models import Application, Assignment, Case, Measure
from measures.services.cases import case_open, case_work
from platform_core.validators import account_control_key, mir_card_from_number
from registries.enums import RelationBasis, RelationKind
from registries.models import Person, Relation
from tests.measures.families import UNIFIED, child_of, income, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def offered(calendar) -> Case:
    """A mother the unified allowance was found for after her child's birth (it is given on
    an application)."""
    mother = person(date(1990, 1, 1), "F", last_name="Смирнова")
    child = child_of(mother, 0, on=timezone.localdate())
    income(mother, "5000", on=timezone.localdate())
    case, _ = case_open(
        person=mother,
        measure=Measure.objects.get(code=UNIFIED),
        trigger_kind=TriggerKind.LIFE_EVENT,
        trigger_key=f"test:{child.pk}",
        as_of=timezone.localdate(),
        now=timezone.now(),
    )
    case = case_work(case_id=case.pk, now=timezone.now())
    assert case.status == CaseStatus.OFFERED
    return case


def logged_in(client, who: Person):  # type: ignore[no-untyped-def]
    account = citizen_account_for(who, demo=True)
    answer = client.post("/portal/login/", {"account": account.pk})
    assert answer.status_code == 302, answer.content
    return account


def test_a_citizen_sees_the_offer_explained_and_applies_in_one_click(client, offered):
    mother = offered.person
    logged_in(client, mother)
    page = client.get("/portal/my/").content.decode()
    assert "Единое пособие" in page or offered.measure.name in page
    assert "Почему" in page and "выполнено" in page  # the conditions, in Russian by default

    answer = client.post(f"/portal/my/offers/{offered.pk}/")
    assert answer.status_code == 302 and answer["Location"] == f"/portal/my/cases/{offered.pk}/"
    offered = Case.objects.get(pk=offered.pk)
    assert offered.status == CaseStatus.DECIDED
    assert offered.decision.outcome == DecisionOutcome.GRANT
    assert Assignment.objects.filter(decision=offered.decision).exists()
    page = client.get(f"/portal/my/cases/{offered.pk}/").content.decode()
    assert offered.decision.number in page
    assert "Получено заявление" in page and "(Портал (в электронной форме))" in page  # the channel
    again = client.post(f"/portal/my/offers/{offered.pk}/")  # clicked twice: nothing twice
    assert again.status_code == 409
    assert Assignment.objects.filter(person=mother).count() == 1
    assert Application.objects.filter(person=mother).count() == 1
    with translation.override("en"):
        english = client.get("/portal/my/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 200
    # The timeline was written in Russian by the worker; each reader sees it in their language.
    assert "Право есть; мера предоставляется по заявлению." in page and "Назначено." in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the language switcher's choice
    english = client.get(f"/portal/my/cases/{offered.pk}/").content.decode()
    assert "The right is there; the measure is given on an application." in english
    assert "Granted." in english and "Назначено." not in english


def test_another_citizens_data_is_out_of_reach_whatever_the_id(client, offered):
    stranger = person(date(1985, 6, 1), "F", last_name="Посторонняя")
    logged_in(client, stranger)
    for path in (
        f"/portal/my/offers/{offered.pk}/",
        f"/portal/my/cases/{offered.pk}/",
    ):
        assert client.get(path).status_code == 404
    assert client.post(f"/portal/my/offers/{offered.pk}/").status_code == 404
    assert client.post("/portal/my/act-as/", {"person": offered.person.pk}).status_code == 404
    page = client.get("/portal/my/").content.decode()
    assert offered.measure.name not in page and offered.person.last_name not in page
    assert Case.objects.get(pk=offered.pk).status == CaseStatus.OFFERED


def test_pages_need_a_login_and_posts_need_the_csrf_token(client, offered):
    assert client.get("/portal/my/")["Location"].startswith("/portal/login/")
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    account = citizen_account_for(offered.person, demo=True)
    assert strict.post("/portal/login/", {"account": account.pk}).status_code == 403
    strict.force_login(account.user)
    assert strict.post(f"/portal/my/offers/{offered.pk}/").status_code == 403
    assert Case.objects.get(pk=offered.pk).status == CaseStatus.OFFERED


def test_login_rotates_the_session_and_is_rate_limited(client, offered):
    client.get("/portal/login/")
    client.cookies["sessionid"] = "fixated-by-an-attacker"
    logged_in(client, offered.person)
    assert client.cookies["sessionid"].value != "fixated-by-an-attacker"
    client.post("/portal/logout/")
    for _ in range(ATTEMPTS - 1):
        client.post("/portal/login/", {"account": 0})
    assert client.post("/portal/login/", {"account": 0}).status_code == 429


def test_a_guardian_acts_for_the_ward_and_only_for_the_ward(client, calendar):
    guardian = person(date(1962, 4, 5), "F", last_name="Опекунова")
    ward = person(date(2014, 10, 12), "M", last_name="Подопечный")
    other = person(date(2015, 1, 1), "M", last_name="Чужой")
    Relation.objects.create(
        kind=RelationKind.REPRESENTATIVE,
        basis=RelationBasis.GUARDIANSHIP,
        from_person=guardian,
        to_person=ward,
        valid_from=date(2020, 6, 1),
    )
    logged_in(client, guardian)
    assert client.post("/portal/my/act-as/", {"person": other.pk}).status_code == 404
    assert client.post("/portal/my/act-as/", {"person": ward.pk}).status_code == 302
    page = client.get("/portal/my/details/").content.decode()
    assert "Подопечный" in page
    card = mir_card_from_number(7)
    spaced = " ".join(card[i : i + 4] for i in range(0, 16, 4))  # as printed on the card
    assert client.post("/portal/my/details/", {"bank_card": spaced}).status_code == 200
    ward.refresh_from_db()
    guardian.refresh_from_db()
    assert (ward.bank_card, guardian.bank_card) == (card, "")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"bank_card": "2200000000000005"}, "bank_card"),
        ({"bank_bic": "044525225", "bank_account": "40817810000000000000"}, "bank_account"),
        ({"bank_bic": "044525225"}, "bank_account"),
        ({"bank_bic": "12345", "bank_account": "40817810000000000001"}, "bank_bic"),
    ],
)
def test_wrong_bank_details_are_named_on_their_field_and_nothing_is_saved(
    client, calendar, values, field
):
    citizen = person(date(1990, 1, 1), "F")
    logged_in(client, citizen)
    answer = client.post("/portal/my/details/", values)
    assert answer.status_code == 400
    assert f'id="{field}-error"' in answer.content.decode()
    citizen.refresh_from_db()
    assert (citizen.bank_bic, citizen.bank_account, citizen.bank_card) == ("", "", "")
    good = {
        "bank_bic": "044525225",
        "bank_account": account_control_key("4081781000000000001", "044525225"),
    }
    assert client.post("/portal/my/details/", good).status_code == 200
    citizen.refresh_from_db()
    assert citizen.bank_account == good["bank_account"]


def test_the_demo_login_is_off_unless_configured(client, settings, offered):
    settings.PORTAL_DEMO_LOGIN = False
    assert client.get("/portal/login/").status_code == 404
    assert CitizenAccount.objects.count() == 0


def test_every_page_shows_the_citizens_own_payments_and_inbox(
    client, loaded_catalogue, settings, tmp_path, django_capture_on_commit_callbacks
):
    from tests.treasury.test_payroll import NOW, granted
    from treasury.enums import PaymentStatus
    from treasury.models import Payment
    from treasury.services.payroll import payroll_run

    settings.TREASURY_FIRST_PERIOD = "2025-01-01"
    settings.TREASURY_FILES_DIR = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        assignment = granted()
    payroll_run(period=date(2025, 10, 1), now=NOW)
    Payment.objects.update(status=PaymentStatus.RETURNED, return_reason="account_closed")
    logged_in(client, assignment.person)
    pages = {
        path: client.get(path)
        for path in (
            "/portal/my/",
            "/portal/my/cases/",
            "/portal/my/payments/",
            "/portal/my/details/",
            "/portal/my/inbox/",
        )
    }
    assert {path: page.status_code for path, page in pages.items()} == dict.fromkeys(pages, 200)
    payments = pages["/portal/my/payments/"].content.decode()
    assert "19000" in payments.replace("\xa0", "").replace(" ", "").replace(",00", "")
    assert "/portal/my/details/" in payments  # a returned payment: change the details
    assert "Возвращена банком: проверьте реквизиты" in payments  # the citizen's words
    inbox = pages["/portal/my/inbox/"].content.decode()
    assert "badge" in inbox  # the decision's notification, new
    assert "badge" not in client.get("/portal/my/inbox/").content.decode()  # now read


def test_certificates_are_real_pdfs_checked_by_their_code(
    client, loaded_catalogue, settings, tmp_path, django_capture_on_commit_callbacks
):
    import io

    from pypdf import PdfReader

    from frontoffice.models import Certificate
    from tests.treasury.test_payroll import NOW, granted
    from treasury.enums import PaymentStatus
    from treasury.models import Payment
    from treasury.services.payroll import payroll_run

    settings.TREASURY_FIRST_PERIOD = "2025-01-01"
    settings.TREASURY_FILES_DIR = tmp_path
    assignment = granted()
    payroll_run(period=date(2025, 10, 1), now=NOW)  # paid on 20 October: 19,000
    Payment.objects.update(status=PaymentStatus.CREDITED)
    logged_in(client, assignment.person)

    wrong = client.post(
        "/portal/my/certificates/",
        {"kind": "payments", "period_from": "2025-12-31", "period_to": "2025-01-01"},
    )
    assert wrong.status_code == 400 and 'id="period_to-error"' in wrong.content.decode()
    wrong = client.post("/portal/my/certificates/", {"kind": "payments", "period_from": "1.1.25"})
    assert wrong.status_code == 400 and 'id="period_from-error"' in wrong.content.decode()
    assert not Certificate.objects.exists()

    answer = client.post(
        "/portal/my/certificates/",
        {"kind": "payments", "period_from": "2025-01-01", "period_to": "2025-12-31"},
    )
    assert answer.status_code == 302
    certificate = Certificate.objects.get()
    pdf = client.get(answer["Location"])
    assert pdf["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Получатель" in text and certificate.code in text
    assert "19 000,00" in text.replace("\xa0", " ")

    client.post("/portal/logout/")
    check = client.get("/portal/check/", {"code": certificate.code.lower()})
    assert check.status_code == 200
    page = check.content.decode()
    assert "Получатель В. А." in page or "Получатель" in page
    assert assignment.person.first_name not in page  # initials only, for anyone with the code
    assert client.get("/portal/check/", {"code": "AAAA-BBBB-CCCC"}).status_code == 404

    stranger = person(date(1985, 6, 1), "F", last_name="Посторонняя")
    logged_in(client, stranger)
    assert client.get(f"/portal/my/certificates/{certificate.code}.pdf").status_code == 404


def test_an_appeal_reaches_the_regions_staff_and_the_answer_comes_back(
    client, offered, officer_27, officer_77
):
    from frontoffice.models import Appeal, AppealStatus

    mother = offered.person
    logged_in(client, mother)
    wrong = client.post("/portal/my/appeals/", {"kind": "appeal", "text": "  "})
    assert wrong.status_code == 400 and 'id="text-error"' in wrong.content.decode()
    stranger_case = client.post(
        "/portal/my/appeals/", {"kind": "appeal", "text": "Не согласна", "case": "999999"}
    )
    assert stranger_case.status_code == 400 and 'id="case-error"' in stranger_case.content.decode()
    for malformed in ("²", "9" * 40, "-1", "1 "):  # not an id at all: the same field error
        answer = client.post(
            "/portal/my/appeals/", {"kind": "appeal", "text": "Не согласна", "case": malformed}
        )
        assert answer.status_code == 400 and 'id="case-error"' in answer.content.decode()
    assert not Appeal.objects.exists()
    sent = client.post(
        "/portal/my/appeals/",
        {"kind": "complaint", "text": "Почему так долго?", "case": str(offered.pk)},
    )
    assert sent.status_code == 302
    appeal = Appeal.objects.get()
    assert (appeal.person, appeal.case, appeal.status) == (mother, offered, "submitted")

    client.force_login(officer_77)  # another region's officer sees nothing of it
    assert "Почему так долго" not in client.get("/admin/frontoffice/appeal/").content.decode()
    assert client.get(f"/admin/frontoffice/appeal/{appeal.pk}/change/").status_code in (302, 404)
    client.force_login(officer_27)
    assert "Смирнова" in client.get("/admin/frontoffice/appeal/").content.decode()
    answered = client.post(
        f"/admin/frontoffice/appeal/{appeal.pk}/change/", {"answer": "Решение принято сегодня."}
    )
    assert answered.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.ANSWERED and appeal.answered_by == officer_27

    logged_in(client, mother)
    page = client.get("/portal/my/appeals/").content.decode()
    assert "Решение принято сегодня." in page


def test_the_navigator_reads_the_catalogue_by_life_situation(client, calendar):
    page = client.get("/portal/navigator/", {"region": "27", "situation": "birth"})
    assert page.status_code == 200
    births = page.content.decode()
    assert Measure.objects.get(code="federal.birth_allowance").name in births
    low_income = client.get("/portal/navigator/", {"region": "27", "situation": "low_income"})
    assert Measure.objects.get(code=UNIFIED).name in low_income.content.decode()
    wrong = client.get("/portal/navigator/", {"region": "99", "situation": "comet"})
    assert wrong.status_code == 400
    assert 'id="region-error"' in wrong.content.decode()
    assert 'id="situation-error"' in wrong.content.decode()


def test_the_calculator_applies_the_production_rules_and_names_bad_fields(client, calendar):
    answer = client.get(
        "/portal/calculator/",
        {"region": "27", "age": "30", "sex": "F", "children": "0", "income": "5000"},
    )
    assert answer.status_code == 200
    page = answer.content.decode()
    assert Measure.objects.get(code=UNIFIED).name in page and "Положено" in page
    wrong = client.get(
        "/portal/calculator/",
        {"region": "27", "age": "двадцать", "sex": "F", "children": "1, x", "income": "-5"},
    )
    assert wrong.status_code == 400
    for field in ("age", "children", "income"):
        assert f'id="{field}-error"' in wrong.content.decode()


def test_the_rights_api_answers_the_citizen_only(client, offered, officer_27):
    api = "/api/v1/portal/my/rights/"
    assert client.get(api).status_code == 403  # nobody logged in
    client.force_login(officer_27)
    assert client.get(api).status_code == 403  # staff have no rights of their own here
    logged_in(client, offered.person)
    body = client.get(api).json()
    assert body["person"] == offered.person_id
    [offer] = body["offers"]
    assert offer["case"] == offered.pk and offer["measure"]["code"] == UNIFIED
    assert all(c["held"] for c in offer["explanation"]["conditions"])
    stranger = person(date(1985, 6, 1), "F", last_name="Посторонняя")
    assert client.get(api, {"person": stranger.pk}).status_code == 404
    assert client.get(api, {"person": "x"}).status_code == 404
