"""The maternity (family) capital balance certificate: a parent granted the capital after a
birth gets a real PDF of what was granted, disposed of (the platform records no disposal)
and is left, checked by its code; nobody else fetches it; without a capital it is refused
on its field."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from pypdf import PdfReader

from frontoffice.certificates import capital_disposals
from frontoffice.models import Certificate, CertificateKind
from measures.enums import CaseStatus, DecisionOutcome, TriggerKind
from measures.models import Assignment, Measure
from measures.services.cases import case_open, case_work
from registries.models import Person
from tests.frontoffice.test_portal import logged_in
from tests.measures.families import child_of, person

pytestmark = pytest.mark.django_db

CAPITAL = "federal.maternity_capital"
FIRST_CHILD = Decimal("690266.95")  # the catalogue's 2025 amount for a first child


def capital_granted(parent: Person, *codes: str) -> Assignment:
    """The capital (federal unless codes are given) decided proactively after the birth of
    the parent's newborn child (born now, a child of theirs before it is an elder one)."""
    child = child_of(parent, 0, on=timezone.localdate())
    for code in codes or (CAPITAL,):
        case, _ = case_open(
            person=parent,
            measure=Measure.objects.get(code=code),
            trigger_kind=TriggerKind.LIFE_EVENT,
            trigger_key=f"test:birth:{child.pk}",
            as_of=timezone.localdate(),
            now=timezone.now(),
        )
        case = case_work(case_id=case.pk, now=timezone.now())
        assert case.status == CaseStatus.DECIDED, case.summary
        assert case.decision.outcome == DecisionOutcome.GRANT
    return Assignment.objects.get(decision=case.decision)


def pdf_text(content: bytes) -> str:
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return text.replace("\xa0", " ")


def plain_rows(rows: list[list[str]]) -> list[list[str]]:
    return [[cell.replace("\xa0", " ") for cell in row] for row in rows]


def test_a_capital_holder_gets_the_balance_as_a_pdf_checked_by_its_code(client, calendar):
    mother = person(date(1994, 3, 2), "F", last_name="Капитальная", first_name="Анна")
    assignment = capital_granted(mother)
    assert assignment.amount == FIRST_CHILD and capital_disposals(assignment) == []
    logged_in(client, mother)

    page = client.get("/portal/my/certificates/").content.decode()
    assert 'value="capital"' in page  # offered: she holds a capital certificate

    answer = client.post("/portal/my/certificates/", {"kind": "capital"})
    assert answer.status_code == 302
    certificate = Certificate.objects.get()
    assert certificate.kind == CertificateKind.CAPITAL and certificate.person == mother
    pdf = client.get(answer["Location"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    text = pdf_text(pdf.content)
    assert "Остаток материнского (семейного) капитала" in text
    assert "690 266,95" in text  # granted, and the balance: nothing disposed of
    assert text.count("690 266,95") == 2 and "0,00" in text
    assert assignment.decision.number in text and certificate.code in text
    assert "не ведет учет распоряжения" in text  # said plainly: no disposal recorded

    client.post("/portal/logout/")
    check = client.get("/portal/check/", {"code": certificate.code})
    assert check.status_code == 200
    shown = check.content.decode().replace("\xa0", " ")
    assert "690 266,95" in shown and "Капитальная А." in shown
    assert "Анна" not in shown  # initials only, for anyone with the code
    assert "Остаток" in shown

    stranger = person(date(1985, 6, 1), "F", last_name="Посторонняя")
    logged_in(client, stranger)
    assert client.get(f"/portal/my/certificates/{certificate.code}.pdf").status_code == 404


def test_the_federal_and_the_regional_capital_are_shown_separately(client, calendar):
    mother = person(date(1991, 4, 4), "F", last_name="Двухдетная")
    child_of(mother, 4, on=timezone.localdate())  # the first child: this birth is the second
    capital_granted(mother, "khabarovsk.maternity_capital_second", CAPITAL)
    logged_in(client, mother)
    answer = client.post("/portal/my/certificates/", {"kind": "capital"})
    assert answer.status_code == 302
    rows = Certificate.objects.get().content["rows"]
    assert [(row[0], row[4], row[6]) for row in plain_rows(rows)] == [
        ("Федеральная", "912 162,09", "912 162,09"),  # federal first, though decided second
        ("Региональная", "150 000,00", "150 000,00"),
    ]
    text = pdf_text(client.get(answer["Location"]).content)
    assert "912 162,09" in text and "150 000,00" in text
    assert "1 062 162,09" not in text  # separate funds, never summed


def test_the_capital_certificate_in_english(client, calendar):
    father = person(date(1990, 5, 5), "M", last_name="Capitalov")
    capital_granted(father)
    logged_in(client, father)
    with translation.override("en"):
        answer = client.post(
            "/portal/my/certificates/", {"kind": "capital"}, HTTP_ACCEPT_LANGUAGE="en"
        )
        assert answer.status_code == 302, answer.content
        assert Certificate.objects.get().language == "en"
    text = pdf_text(client.get(answer["Location"]).content)  # in its language, whatever now
    assert "Maternity (family) capital balance" in text
    assert "690,266.95" in text or "690 266.95" in text


def test_without_a_capital_the_balance_is_refused_on_its_field(client, calendar):
    single = person(date(1988, 8, 8), "F", last_name="Бездетная")
    logged_in(client, single)
    page = client.get("/portal/my/certificates/").content.decode()
    assert 'value="capital"' not in page  # not offered

    answer = client.post("/portal/my/certificates/", {"kind": "capital"})
    assert answer.status_code == 400
    shown = answer.content.decode()
    assert 'id="kind-error"' in shown and "материнского (семейного) капитала" in shown
    assert not Certificate.objects.exists()
