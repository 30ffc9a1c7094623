"""Batches to the emulated bank over HTTP and back: approved by another officer, sent,
credited or returned; a return is owed again, the citizen told, and paid once the details
changed."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from contact_center.enums import NotificationKind
from contact_center.models import Notification
from integration.enums import SystemKind
from integration.models import ExternalSystem
from platform_core.errors import Conflict
from platform_core.validators import account_control_key
from registries.services.persons import person_update
from tests.conftest import make_staff
from tests.treasury.test_payroll import BIC, granted
from treasury.enums import BatchStatus, LedgerAccount, PaymentStatus
from treasury.models import Accrual, Payment, PaymentBatch, Posting
from treasury.services.bank import batch_approve, batch_send, statements_apply
from treasury.services.payroll import payroll_run

pytestmark = pytest.mark.django_db(transaction=True)

CLOSED = account_control_key("40817810000000001000", BIC)  # the bank's closed accounts end in 000


@pytest.fixture
def bank(peers):  # type: ignore[no-untyped-def]
    peers.control("bank", error_share=0, down=False, slow_share=0)
    return ExternalSystem.objects.create(
        code="bank", name="Банк", kind=SystemKind.BANK, base_url=peers.bank, secret="demo-bank"
    )


def balance(account: str) -> Decimal:
    sums = Posting.objects.filter(account=account).aggregate(d=Sum("debit"), c=Sum("credit"))
    return (sums["d"] or 0) - (sums["c"] or 0)


def settled(now=None) -> dict[str, int]:  # type: ignore[no-untyped-def]
    time.sleep(0.6)  # the emulated bank settles 0.2 s after it accepts
    return statements_apply(now=now or timezone.now())


def test_a_batch_goes_to_the_bank_and_a_return_is_paid_again_after_new_details(
    loaded_catalogue, bank, ministry_27
):
    paid = granted()
    returned = granted()
    person_update(person=returned.person, actor=None, changes={"bank_account": CLOSED})
    payroll_run(period=date(2025, 10, 1), now=timezone.now())
    batch = PaymentBatch.objects.get()
    maker, checker = make_staff("maker", ministry_27), make_staff("checker", ministry_27)

    PaymentBatch.objects.filter(pk=batch.pk).update(formed_by=maker)
    with pytest.raises(Conflict):
        batch_approve(batch=batch, officer=maker, now=timezone.now())
    with pytest.raises(Conflict):  # not approved: not sent
        batch_send(batch=batch, now=timezone.now())
    batch = batch_approve(batch=batch, officer=checker, now=timezone.now())
    batch = batch_send(batch=batch, now=timezone.now())
    assert batch.status == BatchStatus.SENT
    assert set(Payment.objects.values_list("status", flat=True)) == {PaymentStatus.SENT}
    assert balance(LedgerAccount.PAYABLE) == 0 and balance(LedgerAccount.BANK) == -38000

    applied = settled()  # (items of other tests' batches in the bank's statement: ignored)
    assert (applied["credited"], applied["returned"]) == (1, 1)
    back = Payment.objects.get(person=returned.person)
    assert (back.status, back.return_reason) == (PaymentStatus.RETURNED, "account_closed")
    assert Payment.objects.get(person=paid.person).status == PaymentStatus.CREDITED
    assert not Accrual.objects.filter(payment=back).exists()  # owed again
    assert balance(LedgerAccount.PAYABLE) == -19000 and balance(LedgerAccount.BANK) == -19000
    told = Notification.objects.filter(
        person=returned.person, kind=NotificationKind.PAYMENT_RETURNED
    )
    assert told.exists() and "19" in told.first().body
    again = statements_apply(now=timezone.now())
    assert (again["credited"], again["returned"]) == (0, 0)  # each item applied once

    payroll_run(period=date(2025, 11, 1), now=timezone.now())
    assert not Payment.objects.filter(person=returned.person, period=date(2025, 11, 1)).exists()
    person_update(
        person=returned.person,
        actor=None,
        changes={"bank_account": account_control_key("40817810000000002001", BIC)},
    )
    payroll_run(period=date(2025, 11, 1), now=timezone.now())
    repaid = Payment.objects.get(person=returned.person, period=date(2025, 11, 1))
    assert repaid.amount == Decimal("28500.00")  # September and October again, and November
    assert repaid.account != CLOSED and back.account == CLOSED  # the old payment kept its details


def test_a_recipient_with_a_mir_card_is_paid_to_the_card_in_a_batch_of_its_own(
    loaded_catalogue, bank, ministry_27, tmp_path
):
    from platform_core.validators import mir_card_from_number
    from treasury.enums import PaymentChannel

    granted()
    carded = granted()
    card = mir_card_from_number(42)
    person_update(person=carded.person, actor=None, changes={"bank_card": card})
    payroll_run(period=date(2025, 10, 1), now=timezone.now())

    paid = Payment.objects.get(person=carded.person)
    assert (paid.channel, paid.card, paid.account) == (PaymentChannel.CARD, card, "")
    batches = {b.channel: b for b in PaymentBatch.objects.all()}
    assert set(batches) == {PaymentChannel.ACCOUNT, PaymentChannel.CARD}
    lines = (tmp_path / batches["card"].file_name).read_text().splitlines()
    assert lines[0] == "uuid,snils,recipient_name,channel,bic,account,card,address,amount"
    assert lines[1].endswith(f',card,"","",{card},"",19000.00')
    checker = make_staff("checker", ministry_27)
    for batch in batches.values():
        batch_send(
            batch=batch_approve(batch=batch, officer=checker, now=timezone.now()),
            now=timezone.now(),
        )
    assert settled()["credited"] == 2
    paid.refresh_from_db()
    assert paid.status == PaymentStatus.CREDITED


def test_supervisors_approve_in_the_admin_and_officers_cannot(
    client, loaded_catalogue, bank, ministry_27, officer_27
):
    from platform_core.enums import Role

    granted()
    payroll_run(period=date(2025, 10, 1), now=timezone.now())
    batch = PaymentBatch.objects.get()
    page = "/admin/treasury/paymentbatch/"
    form = {"action": "approve", "_selected_action": [batch.pk]}
    client.force_login(officer_27)
    client.post(page, form)
    assert PaymentBatch.objects.get().status == BatchStatus.FORMED  # view-only role
    client.force_login(make_staff("boss", ministry_27, role=Role.SUPERVISOR))
    client.post(page, form)
    assert PaymentBatch.objects.get().status == BatchStatus.APPROVED
    client.post(page, {"action": "send", "_selected_action": [batch.pk]})
    assert PaymentBatch.objects.get().status == BatchStatus.SENT


def test_a_death_after_the_batch_was_formed_pulls_the_payment_from_it(
    loaded_catalogue, bank, ministry_27, tmp_path
):
    from registries.enums import LifeEventKind
    from registries.services.life_events import life_event_record

    alive, dead = granted(), granted()
    payroll_run(period=date(2025, 10, 1), now=timezone.now())
    batch = PaymentBatch.objects.get()
    batch = batch_approve(
        batch=batch, officer=make_staff("checker", ministry_27), now=timezone.now()
    )
    assert (batch.count, batch.total) == (2, Decimal("38000.00"))

    # As the registry applies a death: the date of death, then the life event.
    person_update(person=dead.person, actor=None, changes={"death_date": date(2025, 10, 10)})
    life_event_record(
        person=dead.person,
        kind=LifeEventKind.DEATH,
        occurred_on=date(2025, 10, 10),
        learned_at=timezone.now(),
        source_system="test",
        source_event_id="d-1",
    )

    batch = PaymentBatch.objects.get()
    assert (batch.count, batch.total, batch.status) == (1, Decimal("19000.00"), BatchStatus.FORMED)
    pulled = Payment.objects.get(person=dead.person)
    assert pulled.status == PaymentStatus.WITHDRAWN and not pulled.accruals.exists()
    lines = (tmp_path / batch.file_name).read_text().splitlines()
    assert len(lines) == 3 and lines[-1] == "TOTAL,1,19000.00"
    assert str(pulled.uuid) not in "\n".join(lines)

    batch = batch_approve(batch=batch, officer=make_staff("again", ministry_27), now=timezone.now())
    batch_send(batch=batch, now=timezone.now())
    assert balance(LedgerAccount.BANK) == -19000  # the pulled payment never left
    assert settled()["credited"] == 1
    payroll_run(period=date(2025, 11, 1), now=timezone.now())
    assert not Payment.objects.filter(person=dead.person).exclude(pk=pulled.pk).exists()
    assert Payment.objects.get(person=alive.person, period=date(2025, 11, 1)).amount == 9500


def test_money_credited_for_months_after_a_death_is_recalled_from_the_bank(
    loaded_catalogue, bank, ministry_27
):
    from registries.enums import LifeEventKind
    from registries.services.life_events import life_event_record
    from treasury.services.bank import bank_exchange, payment_outcome_apply

    dead, alive = granted(), granted()
    payroll_run(period=date(2025, 10, 1), now=timezone.now())
    batch = batch_approve(
        batch=PaymentBatch.objects.get(),
        officer=make_staff("checker", ministry_27),
        now=timezone.now(),
    )
    batch_send(batch=batch, now=timezone.now())
    assert settled()["credited"] == 2
    paid = Payment.objects.get(person=dead.person)
    person_update(person=dead.person, actor=None, changes={"death_date": date(2025, 10, 15)})
    life_event_record(
        person=dead.person,
        kind=LifeEventKind.DEATH,
        occurred_on=date(2025, 10, 15),
        learned_at=timezone.now(),
        source_system="test",
        source_event_id="d-2",
    )

    # A recall not asked for is not applied, whatever the statement says.
    other = Payment.objects.get(person=alive.person)
    with transaction.atomic():
        outcome = payment_outcome_apply(
            {"payment_id": str(other.uuid), "status": "recalled"}, now=timezone.now()
        )
    assert outcome == "ignored"
    assert bank_exchange(now=timezone.now())["recalls_asked"] == 1
    assert bank_exchange(now=timezone.now())["recalls_asked"] == 0  # asked once
    paid.refresh_from_db()
    assert paid.recall_requested_at is not None and paid.status == PaymentStatus.CREDITED

    assert settled()["recalled"] == 1
    paid.refresh_from_db()
    assert paid.status == PaymentStatus.RECALLED and not paid.accruals.exists()
    assert balance(LedgerAccount.BANK) == -19000  # only the living recipient's money is out
    assert balance(LedgerAccount.PAYABLE) == -19000  # the deceased's September and October
    payroll_run(period=date(2025, 11, 1), now=timezone.now())
    # Owed for September and for October to the day of death, to the family on application.
    owed = Accrual.objects.filter(person=dead.person, payment=None).aggregate(s=Sum("amount"))
    assert owed["s"] == Decimal("9500.00") + Decimal("4596.77")  # 15 of 31 days
    assert not Payment.objects.filter(person=dead.person, period=date(2025, 11, 1)).exists()
    assert other.refresh_from_db() is None and other.status == PaymentStatus.CREDITED


def test_a_recall_the_bank_refuses_leaves_the_payment_credited_with_the_reason(
    loaded_catalogue, bank, ministry_27
):
    from treasury.services.bank import payment_outcome_apply

    granted()
    payroll_run(period=date(2025, 10, 1), now=timezone.now())
    payment = Payment.objects.get()
    Payment.objects.filter(pk=payment.pk).update(
        status=PaymentStatus.CREDITED, recall_requested_at=timezone.now()
    )
    item = {"payment_id": str(payment.uuid), "status": "recall_refused", "reason": "not_credited"}
    with transaction.atomic():
        assert payment_outcome_apply(item, now=timezone.now()) == "recall_refused"
    payment.refresh_from_db()
    assert (payment.status, payment.recall_refused) == (PaymentStatus.CREDITED, "not_credited")
    assert payment.accruals.count() == 2  # still paid: the money stays an overpayment


def test_the_api_is_scoped_and_approves_with_a_second_officer(
    client, loaded_catalogue, bank, ministry_27, officer_27, officer_77
):
    assignment = granted()
    payroll_run(period=date(2025, 10, 1), now=timezone.now())
    batch = PaymentBatch.objects.get()
    PaymentBatch.objects.filter(pk=batch.pk).update(formed_by=officer_27)
    api = "/api/v1/treasury/"

    client.force_login(officer_77)
    for path in ("payments/", "accruals/", "batches/", "ledger/"):
        answer = client.get(api + path)
        assert answer.status_code == 200 and answer.json()["count"] == 0, path
    assert client.get(f"{api}batches/{batch.pk}/").status_code == 404
    assert client.post(f"{api}batches/{batch.pk}/approve/").status_code == 404

    client.force_login(officer_27)
    payments = client.get(api + "payments/", {"person": assignment.person_id}).json()
    assert payments["count"] == 1 and payments["results"][0]["amount"] == "19000.00"
    ledger = client.get(api + "ledger/").json()["results"][0]
    assert {p["account"] for p in ledger["postings"]} == {"expense", "payable"}
    refused = client.post(f"{api}batches/{batch.pk}/approve/")
    assert refused.status_code == 409, refused.content  # the maker does not check
    assert client.post(f"{api}batches/{batch.pk}/send/").status_code == 409  # not approved

    client.force_login(make_staff("checker", ministry_27))
    approved = client.post(f"{api}batches/{batch.pk}/approve/")
    assert approved.status_code == 200 and approved.json()["approved_by"] == "checker"
    sent = client.post(f"{api}batches/{batch.pk}/send/")
    assert sent.status_code == 200 and sent.json()["status"] == BatchStatus.SENT


def test_an_unreachable_bank_leaves_the_batch_approved_for_the_next_exchange(
    peers, loaded_catalogue, bank, ministry_27
):
    from treasury.services.bank import BankUnavailable, bank_exchange

    granted()
    payroll_run(period=date(2025, 10, 1), now=timezone.now())
    batch = batch_approve(
        batch=PaymentBatch.objects.get(),
        officer=make_staff("checker", ministry_27),
        now=timezone.now(),
    )
    peers.control("bank", down=True)
    try:
        with pytest.raises(BankUnavailable):
            batch_send(batch=batch, now=timezone.now())
        assert bank_exchange(now=timezone.now()) == {
            "sent": 0,
            "refused": 0,
            "unavailable": 1,
            "recalls_asked": 0,
        }
        assert PaymentBatch.objects.get().status == BatchStatus.APPROVED
        assert set(Payment.objects.values_list("status", flat=True)) == {PaymentStatus.FORMED}
    finally:
        peers.control("bank", down=False)
    assert bank_exchange(now=timezone.now())["sent"] == 1
    assert PaymentBatch.objects.get().status == BatchStatus.SENT


def test_a_banks_file_is_applied_whole_or_refused_with_its_lines(
    loaded_catalogue, bank, ministry_27, tmp_path, capsys
):
    from django.core.management import CommandError, call_command
    from django.utils import translation

    with translation.override("en"):  # the report's words are checked below
        first, second = granted(), granted()
        payroll_run(period=date(2025, 10, 1), now=timezone.now())
        batch = batch_approve(
            batch=PaymentBatch.objects.get(),
            officer=make_staff("checker", ministry_27),
            now=timezone.now(),
        )
        batch_send(batch=batch, now=timezone.now())
        one = Payment.objects.get(assignment=first)
        two = Payment.objects.get(assignment=second)
        header = "payment_id,status,reason,amount\n"
        bad = tmp_path / "bad.csv"
        bad.write_text(
            header
            + f"{one.uuid},credited,,19000.00\n"
            + f"{one.uuid},credited,,19000.00\n"  # line 3: a repeat
            + "00000000-0000-7000-8000-000000000000,credited,,5.00\n"  # line 4: unknown
            + f"{two.uuid},returned,,19.000\n"  # line 5: no reason, a bad amount
            + "TOTAL,4,99.00\n"
        )
        with pytest.raises(CommandError, match="refused whole"):
            call_command("import_bank_file", str(bad))
        report = capsys.readouterr().err
        for expected in (
            "line 3, payment_id",
            "line 4, payment_id",
            "line 5, reason",
            "line 5, amount",
            "line 6, TOTAL",
        ):
            assert expected in report, report
        assert set(Payment.objects.values_list("status", flat=True)) == {PaymentStatus.SENT}

        good = tmp_path / "good.csv"
        good.write_text(
            header
            + f"{one.uuid},credited,,19000.00\n"
            + f"{two.uuid},returned,wrong_details,19000.00\n"
            + "TOTAL,2,38000.00\n"
        )
        call_command("import_bank_file", str(good))
        assert Payment.objects.get(pk=one.pk).status == PaymentStatus.CREDITED
        assert Payment.objects.get(pk=two.pk).status == PaymentStatus.RETURNED
        assert not Accrual.objects.filter(payment=two).exists()
        call_command("import_bank_file", str(good))  # again: nothing new
        assert "0 credited, 0 returned, 2 applied before" in capsys.readouterr().out
        assert balance(LedgerAccount.BANK) == -19000
