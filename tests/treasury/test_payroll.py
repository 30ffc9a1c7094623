"""The payroll: accruals by period and day, corrections after an assignment ended or was
recalculated, a balanced append-only ledger, one payment per assignment and period in batches
with their files; run again, nothing twice."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Sum

from measures.models import Assignment
from measures.services.cases import (
    assignment_resume,
    assignment_suspend,
    assignments_end,
)
from measures.services.recalculation import recalculations_for_measure
from platform_core.calendar import calendar_load_year
from platform_core.validators import account_control_key
from registries.enums import SubsistenceGroup
from registries.models import SubsistenceMinimum
from tests.measures.families import ON, UNIFIED, child_of, granted_on_application, income, person
from treasury.enums import AccrualKind, LedgerAccount, PaymentChannel
from treasury.models import Accrual, Payment, PaymentBatch, Posting
from treasury.services.payroll import payroll_run

pytestmark = pytest.mark.django_db

BIC = "044525225"
NOW = datetime(2025, 12, 1, 3, 0, tzinfo=UTC)


def granted(*, on: date = ON, account: bool = True, address: str = "") -> Assignment:
    """The unified allowance on an application, 9,500 a month for 12 months from `on`."""
    for year in (2025, 2026, 2027):
        calendar_load_year(year=year)
    mother = person(
        date(1992, 2, 2),
        "F",
        last_name="Получатель",
        bank_bic=BIC if account else "",
        bank_account=account_control_key("4081781000000000001", BIC) if account else "",
        address=address,
    )
    child_of(mother, 5, on=on)
    income(mother, "15000", on=on)
    return granted_on_application(mother, on, now=NOW)


def regular(assignment: Assignment) -> dict[date, Decimal]:
    return dict(
        Accrual.objects.filter(assignment=assignment, kind=AccrualKind.REGULAR).values_list(
            "period", "amount"
        )
    )


def balances() -> dict[str, Decimal]:
    sums = Posting.objects.values("account").annotate(d=Sum("debit"), c=Sum("credit"))
    return {row["account"]: row["d"] - row["c"] for row in sums}


def test_months_are_accrued_paid_once_and_filed(loaded_catalogue, tmp_path):
    assignment = granted()
    summary = payroll_run(period=date(2025, 10, 1), now=NOW)

    assert regular(assignment) == {
        date(2025, 9, 1): Decimal("9500.00"),
        date(2025, 10, 1): Decimal("9500.00"),
    }
    payment = Payment.objects.get()
    assert (payment.assignment, payment.period, payment.amount) == (
        assignment,
        date(2025, 10, 1),
        Decimal("19000.00"),
    )
    assert payment.channel == PaymentChannel.ACCOUNT and payment.bic == BIC
    assert set(Accrual.objects.values_list("payment", flat=True)) == {payment.pk}
    assert balances() == {
        LedgerAccount.EXPENSE: Decimal("19000.00"),
        LedgerAccount.PAYABLE: Decimal("-19000.00"),
    }
    batch = PaymentBatch.objects.get()
    assert (batch.count, batch.total, batch.pay_date) == (
        1,
        Decimal("19000.00"),
        date(2025, 10, 20),
    )
    body = (tmp_path / batch.file_name).read_bytes()
    assert hashlib.sha256(body).hexdigest() == batch.checksum
    lines = body.decode().splitlines()
    assert lines[0].startswith("uuid,snils,recipient_name") and lines[-1] == "TOTAL,1,19000.00"
    assert str(payment.uuid) in lines[1] and lines[1].endswith(",19000.00")
    assert (summary.accrued, summary.payments, summary.batches) == (2, 1, 1)

    again = payroll_run(period=date(2025, 10, 1), now=NOW + timedelta(hours=1))
    assert (again.accrued, again.corrected, again.payments) == (0, 0, 0)
    assert Payment.objects.count() == 1 and PaymentBatch.objects.count() == 1


def test_the_recipients_snils_goes_to_the_payment_and_its_file_as_digits(
    loaded_catalogue, tmp_path
):
    from platform_core.validators import snils_from_number
    from registries.services.persons import person_update

    assignment = granted()
    snils = snils_from_number(200_000_123)  # stored as "200-000-123 xx"
    person_update(person=assignment.person, actor=None, changes={"snils": snils})
    payroll_run(period=date(2025, 10, 1), now=NOW)
    payment = Payment.objects.get()
    digits = "".join(c for c in snils if c.isdigit())
    assert payment.snils == digits and len(digits) == 11
    assert f",{digits}," in (tmp_path / PaymentBatch.objects.get().file_name).read_text()


def test_a_part_of_a_month_is_paid_by_its_days(loaded_catalogue):
    assignment = granted(on=date(2025, 9, 16))
    payroll_run(period=date(2025, 9, 1), now=NOW)
    assert regular(assignment) == {date(2025, 9, 1): Decimal("4750.00")}  # 15 of 30 days


def test_a_death_after_payment_becomes_an_overpayment_held_back(loaded_catalogue):
    assignment = granted()
    payroll_run(period=date(2025, 10, 1), now=NOW)
    assignments_end(person=assignment.person, last_day=date(2025, 10, 15), reason="Смерть", now=NOW)
    summary = payroll_run(period=date(2025, 11, 1), now=NOW)

    correction = Accrual.objects.get(kind=AccrualKind.CORRECTION)
    # October is owed for 15 of its 31 days: 4,596.77 of the 9,500 paid
    assert correction.amount == Decimal("-4903.23") and correction.period == date(2025, 10, 1)
    assert date(2025, 11, 1) not in regular(assignment)
    assert summary.payments == 0 and Payment.objects.count() == 1  # nothing more is paid
    assert balances()[LedgerAccount.EXPENSE] == Decimal("19000.00") - Decimal("4903.23")


def test_a_recalculated_assignment_is_corrected_and_the_new_terms_paid(loaded_catalogue):
    assignment = granted()
    for month in (date(2025, 9, 1), date(2025, 10, 1)):
        from registries.enums import IncomeKind
        from registries.models import IncomeRecord

        IncomeRecord.objects.create(
            person=assignment.person,
            kind=IncomeKind.SALARY,
            month=month,
            amount=15000,
            source="test",
        )
    payroll_run(period=date(2025, 11, 1), now=NOW)  # September to November at 9,500
    SubsistenceMinimum.objects.create(
        region_id="27",
        year=2025,
        group=SubsistenceGroup.CHILD,
        amount=Decimal("21000"),
        valid_from=date(2025, 11, 1),
    )
    [case] = recalculations_for_measure(
        measure=assignment.measure, effective_from=date(2025, 11, 1), now=NOW
    )
    new = case.decision.assignment
    payroll_run(period=date(2025, 12, 1), now=NOW)

    old_november = Accrual.objects.get(assignment=assignment, kind=AccrualKind.CORRECTION)
    assert old_november.amount == Decimal("-9500.00")  # November belongs to the new terms
    assert regular(new) == {
        date(2025, 11, 1): Decimal("10500.00"),
        date(2025, 12, 1): Decimal("10500.00"),
    }
    december = Payment.objects.get(period=date(2025, 12, 1))
    # November's 1,000 more and December, the overpaid November held back from it
    assert december.assignment == new and december.amount == Decimal("11500.00")
    paid = Payment.objects.aggregate(s=Sum("amount"))["s"]
    assert paid == 3 * Decimal("9500") + 2 * Decimal("10500") - Decimal("9500")


def test_an_overpayment_is_withheld_within_the_legal_share_of_each_payment(loaded_catalogue):
    assignment = granted()
    payroll_run(period=date(2025, 11, 1), now=NOW)  # September to November at 9,500
    # The child's subsistence minimum was lower from September: 8,500 a month, retroactively.
    SubsistenceMinimum.objects.create(
        region_id="27",
        year=2025,
        group=SubsistenceGroup.CHILD,
        amount=Decimal("17000"),
        valid_from=date(2025, 9, 1),
    )
    [case] = recalculations_for_measure(
        measure=assignment.measure, effective_from=date(2025, 9, 1), now=NOW
    )
    new = case.decision.assignment
    assert new.amount == Decimal("8500.00")

    payroll_run(period=date(2025, 12, 1), now=NOW)
    # Overpaid 3 x 1,000; December's 8,500 may give up 20 %: 1,700 withheld, 1,300 carried.
    december = Payment.objects.get(period=date(2025, 12, 1))
    assert (december.amount, december.withheld) == (Decimal("6800.00"), Decimal("1700.00"))
    assert december.accruals.aggregate(s=Sum("amount"))["s"] == december.amount
    carried = Accrual.objects.filter(kind=AccrualKind.CARRIED)
    assert sorted(carried.values_list("amount", "payment")) == [
        (Decimal("-1300.00"), None),
        (Decimal("1300.00"), december.pk),
    ]
    ledger_before = balances()

    payroll_run(period=date(2026, 1, 1), now=NOW)
    january = Payment.objects.get(period=date(2026, 1, 1))
    assert (january.amount, january.withheld) == (Decimal("7200.00"), Decimal("1300.00"))
    payroll_run(period=date(2026, 2, 1), now=NOW)
    february = Payment.objects.get(period=date(2026, 2, 1))
    assert (february.amount, february.withheld) == (Decimal("8500.00"), Decimal("0.00"))
    # Six months at 8,500 paid in all; carrying moved nothing in the ledger.
    assert Payment.objects.aggregate(s=Sum("amount"))["s"] == 6 * Decimal("8500")
    assert balances()[LedgerAccount.EXPENSE] == ledger_before[LedgerAccount.EXPENSE] + 2 * 8500
    assert not Accrual.objects.filter(payment=None).exists()


def test_without_details_nothing_is_paid_and_the_accruals_wait(loaded_catalogue):
    assignment = granted(account=False)
    summary = payroll_run(period=date(2025, 9, 1), now=NOW)
    assert summary.held == 1 and not Payment.objects.exists()
    assert Accrual.objects.get(assignment=assignment).payment is None

    person = assignment.person
    person.address = "г. Хабаровск, ул. Ленина, 1"
    person.save(update_fields=["address"])
    payroll_run(period=date(2025, 10, 1), now=NOW)
    payment = Payment.objects.get()
    assert payment.channel == PaymentChannel.POST and payment.amount == Decimal("19000.00")
    assert payment.address == person.address


def test_a_suspended_assignment_accrues_after_it_is_resumed(loaded_catalogue, officer_27):
    assignment = granted()
    assignment_suspend(assignment=assignment, reason="Проверка", officer=officer_27, now=NOW)
    payroll_run(period=date(2025, 10, 1), now=NOW)
    assert regular(assignment) == {}
    assignment_resume(assignment=assignment, reason="Проверено", officer=officer_27, now=NOW)
    payroll_run(period=date(2025, 11, 1), now=NOW)
    assert sorted(regular(assignment)) == [date(2025, 9, 1), date(2025, 10, 1), date(2025, 11, 1)]
    assert Payment.objects.get().amount == 3 * Decimal("9500")


@pytest.mark.django_db(transaction=True)
def test_the_ledger_is_append_only_and_balances(loaded_catalogue):
    granted()
    payroll_run(period=date(2025, 9, 1), now=NOW)
    posting = Posting.objects.first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Posting.objects.filter(pk=posting.pk).update(debit=posting.debit + 1)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM treasury_ledgerentry WHERE id = %s", [posting.entry_id])
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        Posting.objects.create(
            entry_id=posting.entry_id,
            account=LedgerAccount.EXPENSE,
            source=posting.source,
            measure=posting.measure,
            debit=Decimal("1.00"),
        )
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert Posting.objects.count() == 2


def test_the_command_reports_and_names_a_wrong_period(loaded_catalogue, capsys):
    granted()
    with pytest.raises(CommandError, match="--period"):
        call_command("run_payroll", "--period", "2025-13")
    with pytest.raises(CommandError, match="--pay-date"):
        call_command("run_payroll", "--period", "2025-10", "--pay-date", "20.10.2025")
    call_command("run_payroll", "--period", "2025-10")
    out = capsys.readouterr().out
    assert UNIFIED in out and "19,000.00" in out


def test_staff_see_only_their_regions_money(client, loaded_catalogue, officer_27, officer_77):
    assignment = granted()
    payroll_run(period=date(2025, 10, 1), now=NOW)
    payment = Payment.objects.get()
    pages = [
        "/admin/treasury/payment/",
        "/admin/treasury/accrual/",
        f"/admin/treasury/payment/{payment.pk}/change/",
    ]
    client.force_login(officer_77)
    assert assignment.person.last_name not in client.get(pages[0]).content.decode()
    assert assignment.person.last_name not in client.get(pages[1]).content.decode()
    assert client.get(pages[2]).status_code in (302, 404)
    client.force_login(officer_27)
    assert assignment.person.last_name in client.get(pages[0]).content.decode()
    assert client.get(pages[2]).status_code == 200
    assert client.post(pages[2], {"amount": "1.00"}).status_code == 403  # read-only
    assert Payment.objects.get().amount == Decimal("19000.00")


def test_beat_runs_the_months_payroll_once_from_its_day(loaded_catalogue, settings, monkeypatch):
    from treasury.tasks import monthly_payroll

    granted()
    settings.TREASURY_PAYROLL_DAY = 15
    monkeypatch.setattr("django.utils.timezone.localdate", lambda: date(2025, 10, 14))
    assert monthly_payroll.apply().get()["ran"] is False
    monkeypatch.setattr("django.utils.timezone.localdate", lambda: date(2025, 10, 15))
    assert monthly_payroll.apply().get()["payments"] == 1
    assert monthly_payroll.apply().get() == {
        "period": "2025-10-01",
        "ran": False,
        "why": "ran this month",
    }
    assert Payment.objects.get().amount == Decimal("19000.00")


def test_beyond_the_budget_limit_payments_wait_with_the_reason(loaded_catalogue):
    from treasury.enums import HeldReason
    from treasury.models import BudgetLimit

    first, second = granted(), granted()
    limit = BudgetLimit.objects.create(
        region_id="27", source="federal", measure=first.measure, year=2025, amount=30000
    )
    summary = payroll_run(period=date(2025, 10, 1), now=NOW)

    assert (summary.payments, summary.held) == (1, 1)  # 19,000 fits in 30,000; 38,000 not
    paid = Payment.objects.get()
    waiting = second if paid.assignment == first else first
    assert paid.amount == Decimal("19000.00")
    held = Accrual.objects.filter(assignment=waiting)
    assert held.count() == 2 and {a.held for a in held} == {HeldReason.BUDGET_LIMIT}
    assert all(a.payment is None for a in held)

    payroll_run(period=date(2025, 10, 1), now=NOW)  # still beyond: still waiting
    assert Payment.objects.count() == 1
    limit.amount = 60000
    limit.save()
    payroll_run(period=date(2025, 10, 1), now=NOW)
    assert Payment.objects.get(assignment=waiting).amount == Decimal("19000.00")
    assert not Accrual.objects.exclude(held="").exists()
