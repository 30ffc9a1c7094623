"""Treasury reports as CSV and PDF, from the command, the API and the admin: the payment
register, the reconciliation with the bank, returns and overpayments; the caller's region only;
wrong input named and nothing written."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from measures.services.cases import assignments_end
from registries.models import Person
from tests.treasury.test_payroll import NOW, granted
from treasury.enums import PaymentStatus
from treasury.models import Payment, PaymentBatch
from treasury.services.payroll import payroll_run

pytestmark = pytest.mark.django_db

API = "/api/v1/treasury/reports/"
OCTOBER = date(2025, 10, 1)


@pytest.fixture
def client(client):  # type: ignore[no-untyped-def]
    """The API answers in the language asked for (Russian by default): these tests read English."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def reports_dir(tmp_path):  # type: ignore[no-untyped-def]
    """A folder of its own for the reports (the batches' files go to tmp_path)."""
    folder = tmp_path / "reports"
    folder.mkdir()
    return folder


def paid(recipients: int) -> list[Payment]:
    """Recipients of the unified allowance paid for September and October (19,000 each)."""
    for _number in range(recipients):
        granted()
    payroll_run(period=OCTOBER, now=NOW)
    return list(Payment.objects.order_by("id"))


def parsed(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # Excel reads the Cyrillic as UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def pdf_text(body: bytes) -> str:
    assert body.startswith(b"%PDF-")
    pages = PdfReader(io.BytesIO(body)).pages
    # Words as they run, whatever lines a cell's text was broken into
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def set_status(payment: Payment, status: str, **fields) -> None:
    at = datetime(2025, 10, 21, 9, 30, tzinfo=UTC)
    Payment.objects.filter(pk=payment.pk).update(status=status, status_at=at, **fields)


def test_the_register_as_csv_lists_the_months_payments_with_their_total(
    loaded_catalogue, english_messages, reports_dir
):
    payments = paid(2)
    output = reports_dir / "register.csv"
    call_command(
        "treasury_report", "register", "--period", "2025-10", "--region", "27",
        "--output", str(output),
    )  # fmt: skip

    header, *rows, totals = parsed(output.read_bytes())
    assert header[:3] == ["No.", "Payment id", "Recipient"] and header[-2:] == [
        "Amount, RUB",
        "Status",
    ]
    assert [row[1] for row in rows] == sorted(
        (str(p.uuid) for p in payments), key=lambda u: Payment.objects.get(uuid=u).recipient_name
    )
    assert {row[2] for row in rows} == {p.recipient_name for p in payments}
    assert all(row[2].startswith("Получатель") for row in rows)  # Cyrillic as it was
    assert [row[-2] for row in rows] == ["19000.00", "19000.00"]
    assert rows[0][-1] == "In a batch"
    assert totals[:2] == ["Total", "2"] and totals[-2] == "38000.00"
    assert [f.name for f in reports_dir.iterdir()] == ["register.csv"]  # no temporary left


def test_the_register_of_a_batch_as_pdf_from_the_api(
    client, loaded_catalogue, english_messages, officer_27
):
    payments = paid(2)
    batch = PaymentBatch.objects.get()
    client.force_login(officer_27)

    answer = client.get(f"{API}register/", {"batch": str(batch.uuid), "format": "pdf"})

    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"] == "application/pdf"
    assert answer["Content-Disposition"] == f'attachment; filename="register-{batch.uuid}.pdf"'
    text = pdf_text(answer.content)
    assert "Payment register" in text and f"batch {batch.uuid}" in text
    assert "Recipient" in text and "SNILS" in text
    for payment in payments:
        assert payment.recipient_name in text  # DejaVu Sans sets the Cyrillic
    assert "38 000.00" in text and "Total" in text
    assert "Page 1 of 1" in text


def test_a_long_register_pdf_repeats_its_heading_and_numbers_its_pages(
    loaded_catalogue, english_messages, tmp_path, monkeypatch
):
    from treasury.services import reports

    paid(1)
    payment = Payment.objects.get()
    many = [(str(payment.uuid), payment.recipient_name, "", "m", "Мера", "Bank account", "", "",
             "", Decimal("1.50"), "Credited")] * 120  # fmt: skip
    register = reports._register
    monkeypatch.setitem(
        reports._BUILDERS,
        reports.ReportKind.REGISTER,
        (lambda spec, user: (register(spec, user)[0], lambda: many), True),
    )
    output = tmp_path / "long.pdf"
    call_command(
        "treasury_report", "register", "--period", "2025-10", "--format", "pdf",
        "--output", str(output),
    )  # fmt: skip

    pages = PdfReader(output).pages
    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        text = page.extract_text()
        assert "Payment id" in text and f"Page {number} of {len(pages)}" in text
    assert "180.00" in pages[-1].extract_text()  # 120 × 1.50


def test_the_reconciliation_counts_expected_credited_returned_and_awaiting(
    client, loaded_catalogue, english_messages, officer_27
):
    first, second, third, fourth = paid(4)
    set_status(first, PaymentStatus.CREDITED)
    set_status(second, PaymentStatus.RETURNED, return_reason="account_closed")
    set_status(third, PaymentStatus.SENT)
    set_status(fourth, PaymentStatus.WITHDRAWN)  # never sent: not expected
    batch = PaymentBatch.objects.get()
    client.force_login(officer_27)

    answer = client.get(f"{API}reconciliation/", {"period": "2025-10", "region": "27"})

    assert answer.status_code == 200
    assert answer["Content-Disposition"] == 'attachment; filename="reconciliation-2025-10-27.csv"'
    header, row, totals = parsed(b"".join(answer.streaming_content))
    got = dict(zip(header, row, strict=True))
    assert got["Batch"] == str(batch.uuid) and got["Region"] == "27"
    assert (got["Expected, count"], got["Expected, RUB"]) == ("3", "57000.00")
    assert (got["Credited, count"], got["Credited, RUB"]) == ("1", "19000.00")
    assert (got["Returned, count"], got["Returned, RUB"]) == ("1", "19000.00")
    assert (got["Awaiting the bank, count"], got["Awaiting the bank, RUB"]) == ("1", "19000.00")
    assert got["Difference (expected − credited − returned), RUB"] == "19000.00"
    # Every other status of a payment has its columns, whatever statuses there are
    assert f"{PaymentStatus.RECALLED.label}, RUB" in header
    assert totals[0] == "Total" and totals[header.index("Expected, RUB")] == "57000.00"


def test_returns_name_the_reason_and_whether_paid_again(
    loaded_catalogue, english_messages, tmp_path
):
    first, second = paid(2)
    set_status(first, PaymentStatus.RETURNED, return_reason="account_closed")
    set_status(second, PaymentStatus.RETURNED, return_reason="Счёт арестован")
    payroll_run(period=date(2025, 11, 1), now=NOW)  # November pays both again
    again = Payment.objects.get(person=second.person, period=date(2025, 11, 1))
    set_status(again, PaymentStatus.WITHDRAWN)  # ...but the second's was pulled
    output = tmp_path / "returns.csv"

    call_command("treasury_report", "returns", "--period", "2025-10", "--output", str(output))

    header, *rows, totals = parsed(output.read_bytes())
    got = {row[header.index("Recipient")]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(got) == {first.recipient_name, second.recipient_name}
    assert got[first.recipient_name]["Reason"] == "the account is closed"
    assert got[first.recipient_name]["Paid again"] == "yes"
    assert got[second.recipient_name]["Reason"] == "Счёт арестован"
    assert got[second.recipient_name]["Paid again"] == "no"
    assert got[first.recipient_name]["Returned at"] == "2025-10-21 09:30"
    assert totals[:2] == ["Total", "2"] and totals[header.index("Amount, RUB")] == "38000.00"


def test_an_overpayment_after_a_death_is_listed_until_held_back(
    client, loaded_catalogue, english_messages, officer_27
):
    dead, alive = paid(2)
    assignments_end(person=dead.person, last_day=date(2025, 10, 15), reason="Смерть", now=NOW)
    Person.objects.filter(pk=dead.person_id).update(death_date=date(2025, 10, 15))
    payroll_run(period=date(2025, 11, 1), now=NOW)
    client.force_login(officer_27)

    answer = client.get(f"{API}overpayments/", {"region": "27", "format": "pdf"})
    csv_answer = client.get(f"{API}overpayments/")

    header, row, totals = parsed(b"".join(csv_answer.streaming_content))
    got = dict(zip(header, row, strict=True))
    # October was owed for 15 of its 31 days: 4,596.77 of the 9,500 paid
    assert got["Recipient"].startswith("Получатель") and got["Overpaid, RUB"] == "4903.23"
    assert got["Deceased"] == "yes" and got["Region"] == "27"
    assert totals[:2] == ["Total", "1"] and totals[header.index("Overpaid, RUB")] == "4903.23"
    text = pdf_text(answer.content)
    assert "Outstanding overpayments" in text and "4 903.23" in text
    assert Person.objects.get(pk=dead.person_id).last_name in text
    assert alive.recipient_name not in text


def test_an_officer_of_another_region_gets_none_of_its_rows(
    client, loaded_catalogue, english_messages, officer_27, officer_77
):
    [payment] = paid(1)
    set_status(payment, PaymentStatus.RETURNED, return_reason="wrong_details")
    batch = PaymentBatch.objects.get()
    client.force_login(officer_77)

    for kind in ("register", "reconciliation", "returns"):
        for region in ("27", None):
            params = {"period": "2025-10"} | ({"region": region} if region else {})
            answer = client.get(f"{API}{kind}/", params)
            assert answer.status_code == 200, (kind, region)
            _heading, totals = parsed(b"".join(answer.streaming_content))  # no row
            assert totals[0] == "Total" and "19000.00" not in totals, (kind, region)
    refused = client.get(f"{API}register/", {"batch": str(batch.uuid)})
    assert refused.status_code == 400 and list(refused.json()) == ["batch"]  # as if none

    client.force_login(officer_27)
    rows = parsed(
        b"".join(client.get(f"{API}register/", {"batch": str(batch.uuid)}).streaming_content)
    )
    assert len(rows) == 3 and rows[-1][1] == "1"


def test_wrong_input_to_the_command_names_the_option_and_writes_nothing(
    loaded_catalogue, english_messages, reports_dir, settings
):
    paid(2)
    output = reports_dir / "out.pdf"
    wrong = {
        "--period": ["register", "--period", "2025-13"],
        "--batch": ["register", "--batch", "8b1f0e52-0000-4000-8000-000000000000"],
        "--region": ["returns", "--period", "2025-10", "--region", "99"],
    }
    for option, args in wrong.items():
        with pytest.raises(CommandError, match=f"^{option}: "):
            call_command("treasury_report", *args, "--output", str(output))
    with pytest.raises(CommandError, match=r"^--period: The register needs a month"):
        call_command("treasury_report", "register", "--output", str(output))
    with pytest.raises(CommandError, match=r"^--output: a PDF"):
        call_command("treasury_report", "overpayments", "--format", "pdf")
    settings.TREASURY_REPORT_PDF_MAX_ROWS = 1
    with pytest.raises(CommandError, match=r"^--format: The report has more than 1 rows"):
        call_command(
            "treasury_report", "register", "--period", "2025-10", "--format", "pdf",
            "--output", str(output),
        )  # fmt: skip
    assert list(reports_dir.iterdir()) == []


def test_the_register_goes_to_standard_output_without_a_file(loaded_catalogue, english_messages):
    paid(1)
    out = io.StringIO()
    call_command("treasury_report", "register", "--period", "2025-10", stdout=out)
    header, _row, totals = parsed(out.getvalue().encode())
    assert header[0] == "No." and totals[-2] == "19000.00"


def test_wrong_parameters_to_the_api_answer_400_naming_them(
    client, loaded_catalogue, english_messages, officer_27, settings
):
    paid(2)
    client.force_login(officer_27)
    wrong = {
        "period": ("register", {"period": "2025-13"}),
        "batch": ("register", {"batch": "nope"}),
        "region": ("returns", {"period": "2025-10", "region": "99"}),
        "format": ("register", {"period": "2025-10", "format": "xls"}),
    }
    for field, (kind, params) in wrong.items():
        answer = client.get(f"{API}{kind}/", params)
        assert answer.status_code == 400 and list(answer.json()) == [field], answer.content
        assert answer.json()[field][0]
    needs = client.get(f"{API}reconciliation/").json()
    assert needs == {"period": ["This report needs a month (YYYY-MM)."]}
    settings.TREASURY_REPORT_PDF_MAX_ROWS = 1
    too_long = client.get(f"{API}register/", {"period": "2025-10", "format": "pdf"})
    assert too_long.status_code == 400 and "CSV" in too_long.json()["format"][0]
    settings.TREASURY_REPORT_PDF_MAX_ROWS = 2  # as many as there are: not too many
    assert client.get(f"{API}register/", {"period": "2025-10", "format": "pdf"}).status_code == 200
    assert client.get(f"{API}payroll/").status_code == 404
    client.logout()
    assert client.get(f"{API}register/", {"period": "2025-10"}).status_code in (401, 403)


def test_the_admin_downloads_a_batchs_register(
    client, loaded_catalogue, english_messages, officer_27
):
    payment, *_others = paid(1)
    batch = PaymentBatch.objects.get()
    client.force_login(officer_27)
    answer = client.post(
        "/admin/treasury/paymentbatch/",
        {"action": "register_csv", "_selected_action": [batch.pk]},
    )
    assert answer.status_code == 200
    assert answer["Content-Disposition"].endswith(f'register-{batch.uuid}.csv"')
    rows = parsed(b"".join(answer.streaming_content))
    assert rows[1][1] == str(payment.uuid) and rows[-1][-2] == "19000.00"


def test_the_schema_documents_the_reports(client, officer_27):
    client.force_login(officer_27)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/treasury/reports/{kind}/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"kind", "period", "region", "batch"}
    assert {"text/csv", "application/pdf"} <= set(operation["responses"]["200"]["content"])
