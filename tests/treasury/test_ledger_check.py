"""The check command proves the books agree after real payrolls and bank outcomes, and names
each place they do not once something is written around the services."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone, translation

from registries.services.persons import person_update
from tests.conftest import make_staff
from tests.treasury.test_bank import CLOSED, bank, settled  # noqa: F401 (a fixture)
from tests.treasury.test_payroll import granted
from treasury.models import Accrual, Payment, PaymentBatch
from treasury.services.bank import batch_approve, batch_send
from treasury.services.ledger_check import ledger_check
from treasury.services.payroll import payroll_run

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_books_agree_after_payrolls_sends_returns_and_corrections(
    loaded_catalogue,
    bank,  # noqa: F811
    ministry_27,
    capsys,
):
    from measures.services.cases import assignments_end

    _kept, returned, ended = granted(), granted(), granted()
    person_update(person=returned.person, actor=None, changes={"bank_account": CLOSED})
    payroll_run(period=date(2025, 10, 1), now=timezone.now())
    batch = batch_approve(
        batch=PaymentBatch.objects.get(),
        officer=make_staff("checker", ministry_27),
        now=timezone.now(),
    )
    batch_send(batch=batch, now=timezone.now())
    outcomes = settled()
    assert (outcomes["credited"], outcomes["returned"]) == (2, 1)
    assignments_end(
        person=ended.person, last_day=date(2025, 10, 10), reason="Переезд", now=timezone.now()
    )
    payroll_run(period=date(2025, 11, 1), now=timezone.now())  # a correction; one waits
    assert ledger_check() == []
    with translation.override("en"):
        call_command("check_ledger")
    assert "The books agree." in capsys.readouterr().out
    call_command("check_ledger", "--region", "27")

    # Written around the services: an accrual with no ledger entry, a batch's total changed, a
    # sent payment's amount changed (which its batch and the bank's balance then disagree with).
    some = Accrual.objects.filter(payment__batch=batch, payment__status="credited").first()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO treasury_accrual (assignment_id, person_id, measure_id, region_id,
                source, kind, period, day_from, day_to, rate, amount, accrued_in, created_at,
                held)
            SELECT assignment_id, person_id, measure_id, region_id, source, 'regular',
                   '2025-12-01', '2025-12-01', '2025-12-31', rate, 100, '2025-12-01', now(), ''
            FROM treasury_accrual WHERE id = %s
            """,
            [some.pk],
        )
    PaymentBatch.objects.filter(pk=batch.pk).update(total=batch.total + 1)
    Payment.objects.filter(pk=some.payment_id).update(amount=some.payment.amount - 5)

    found = {(m.check, m.expected - m.found) for m in ledger_check()}
    assert found == {
        ("expense", 100),
        ("payable", 105),
        ("bank", -5),
        ("batch_totals", -6),
        ("payment_accruals", 5),
    }
    with translation.override("en"):
        with pytest.raises(CommandError, match="disagree in 5 places"):
            call_command("check_ledger")
        out = capsys.readouterr().out
        assert "Expenditure differs from the accruals: 27 / federal /" in out
        assert f"{batch.uuid} total" in out
        with pytest.raises(CommandError, match="--region: no region has the code '99'"):
            call_command("check_ledger", "--region", "99")
