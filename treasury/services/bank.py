"""Payment batches to the bank and back (docs/peers.md, docs/decisions.md §13).

A formed batch is approved by an officer other than whoever formed it (maker-checker), then
sent to the bank as payment orders; the bank settles each payment into its statement, which
the platform reads from where it stopped: `credited`, or `returned` with a reason. A returned
payment's accruals are owed again, the citizen is told to change their details
(`treasury.payment_returned`), and the payroll pays them once the details changed. Every step
is under the batch's or the cursor's row lock and writes the ledger: sending debits what is
owed to recipients and credits the bank; a return reverses it. What was credited for days
after a recipient's death is asked back (a recall), and a recall the bank makes reverses it
too.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils.translation import gettext as _

from integration.enums import SystemKind
from integration.models import ExternalSystem
from integration.services.http import CircuitOpen, provider_call
from platform_core.bus import publish
from platform_core.errors import Conflict, DomainError
from platform_core.scoping import ensure_in_scope
from treasury.enums import (
    BatchStatus,
    LedgerAccount,
    LedgerEntryKind,
    PaymentChannel,
    PaymentStatus,
)
from treasury.models import Accrual, BankCursor, LedgerEntry, Payment, PaymentBatch, Posting
from treasury.services.payroll import batch_file_write

RETURNED_EVENT = "treasury.payment_returned"
RECALL_REFUSED = "recall_refused"  # a statement status: the money stays where it is
RECALL_REASON = "recipient_deceased"
RECALL_NAMESPACE = uuid.UUID("5f0c1f7e-6a55-4a51-9d1e-2a54c3f6e0b1")  # of recall request ids
STATEMENT_PAGE = 1000


class BankRefused(DomainError):
    """The bank refused the batch; `problems` name each line and field it found wrong."""

    code = "bank_refused"

    def __init__(self, problems: list[dict[str, Any]]):
        super().__init__(
            _("The bank refused the batch: %(count)d problems.") % {"count": len(problems)}
        )
        self.problems = problems


class BankUnavailable(DomainError):
    status = 503
    code = "bank_unavailable"


def bank_system() -> ExternalSystem:
    system = (
        ExternalSystem.objects.filter(active=True, kind=SystemKind.BANK)
        .exclude(base_url="")
        .order_by("code")
        .first()
    )
    if system is None:
        raise BankUnavailable(_("No bank is configured (an active external system of kind bank)."))
    return system


def _batch_locked(batch: PaymentBatch, allowed: list[str]) -> PaymentBatch:
    locked = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.status not in allowed:
        raise Conflict(
            _("The batch is %(status)s already; reload it to see what changed.")
            % {"status": locked.get_status_display()}
        )
    return locked


def batch_approve(*, batch: PaymentBatch, officer: Any, now: datetime) -> PaymentBatch:
    """The checker's approval of a formed batch: not by whoever formed it. Raises Conflict,
    OutOfJurisdiction."""
    ensure_in_scope(batch, user=officer, action="change")
    with transaction.atomic():
        locked = _batch_locked(batch, [BatchStatus.FORMED])
        if locked.formed_by_id == officer.pk:
            raise Conflict(_("Another officer must approve the batch you formed."))
        locked.status = BatchStatus.APPROVED
        locked.approved_by = officer
        locked.approved_at = now
        locked.save(update_fields=["status", "approved_by", "approved_at"])
    return locked


def _order(payment: Payment) -> dict[str, Any]:
    order: dict[str, Any] = {
        "payment_id": str(payment.uuid),
        "amount": f"{payment.amount:.2f}",
        "recipient": {
            "name": payment.recipient_name,
            **({"snils": payment.snils} if payment.snils else {}),
        },
        "channel": payment.channel,
    }
    if payment.channel == PaymentChannel.ACCOUNT:
        order |= {"bic": payment.bic, "account": payment.account}
    elif payment.channel == PaymentChannel.CARD:
        order["card"] = payment.card
    else:
        order["address"] = payment.address
    return order


def orders_checksum(orders: list[dict[str, Any]]) -> str:
    """The SHA-256 of the payment orders as docs/peers.md serialises them."""
    serialised = json.dumps(orders, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(serialised.encode()).hexdigest()


def _ledger(
    *,
    kind: str,
    batch: PaymentBatch,
    payments: Any,
    debit: str,
    credit: str,
    now: datetime,
    description: str,
) -> None:
    """One ledger entry moving the payments' sums, per measure, from `credit` to `debit`."""
    sums = payments.values("measure_id").annotate(total=Sum("amount")).order_by("measure_id")
    entry = LedgerEntry.objects.create(
        kind=kind, region_id=batch.region_id, period=batch.period, at=now, description=description
    )
    Posting.objects.bulk_create(
        Posting(
            entry=entry,
            account=account,
            source=batch.source,
            measure_id=row["measure_id"],
            debit=row["total"] if side == "debit" else 0,
            credit=row["total"] if side == "credit" else 0,
        )
        for row in sums
        for account, side in ((debit, "debit"), (credit, "credit"))
    )


def batch_send(*, batch: PaymentBatch, now: datetime) -> PaymentBatch:
    """Send an approved batch to the bank as payment orders. Raises BankRefused (nothing
    accepted: the bank's line-numbered problems), BankUnavailable (try again later), Conflict."""
    system = bank_system()
    with transaction.atomic():
        locked = _batch_locked(batch, [BatchStatus.APPROVED])
        payments = locked.payments.filter(status=PaymentStatus.FORMED).order_by("id")
        orders = [_order(p) for p in payments]
        payload = {
            "batch_id": str(locked.uuid),
            "payment_date": locked.pay_date.isoformat(),
            "currency": "RUB",
            "count": len(orders),
            "total": f"{locked.total:.2f}",
            "checksum": orders_checksum(orders),
            "payments": orders,
        }
        try:
            reply = provider_call(
                system=system, method="POST", path="v1/payment-orders", payload=payload, now=now
            )
        except CircuitOpen as exc:
            raise BankUnavailable(str(exc.message)) from None
        if reply.failed:
            raise BankUnavailable(
                _("The bank did not take the batch: %(error)s")
                % {"error": reply.error or reply.status}
            )
        if reply.status == 400:
            raise BankRefused((reply.body or {}).get("errors", []))
        if reply.status != 200:
            raise Conflict(
                _("The bank refused the batch (%(status)s): %(error)s")
                % {"status": reply.status, "error": reply.error}
            )
        locked.status = BatchStatus.SENT
        locked.save(update_fields=["status"])
        payments.update(status=PaymentStatus.SENT, status_at=now)
        _ledger(
            kind=LedgerEntryKind.PAYMENT,
            batch=locked,
            payments=locked.payments.filter(status=PaymentStatus.SENT),
            debit=LedgerAccount.PAYABLE,
            credit=LedgerAccount.BANK,
            now=now,
            description=f"Batch {locked.uuid} sent",
        )
    return locked


def statements_apply(*, now: datetime) -> dict[str, int]:
    """Read the bank's statement from where the platform stopped and apply each item once:
    credited, or returned (the accruals owed again, the ledger reversed, the citizen told), or
    a recall's outcome (recalled: as a return, but nobody to tell; or refused)."""
    system = bank_system()
    counts = dict.fromkeys([*map(str, OUTCOMES), "ignored"], 0)
    while True:
        with transaction.atomic():
            cursor, _created = BankCursor.objects.select_for_update().get_or_create(system=system)
            try:
                reply = provider_call(
                    system=system,
                    method="GET",
                    path=f"v1/statements?after={cursor.seq}",
                    now=now,
                )
            except CircuitOpen as exc:
                raise BankUnavailable(str(exc.message)) from None
            if reply.status != 200:
                raise BankUnavailable(
                    _("The bank's statement could not be read: %(error)s")
                    % {"error": reply.error or reply.status}
                )
            items = reply.body.get("items", [])
            for item in items:
                counts[payment_outcome_apply(item, now=now)] += 1
                cursor.seq = max(cursor.seq, int(item["seq"]))
            cursor.save(update_fields=["seq"])
        if not items:
            return counts


# What each statement status applies to: a sent payment's outcome, or a recall's.
OUTCOMES = {
    PaymentStatus.CREDITED: PaymentStatus.SENT,
    PaymentStatus.RETURNED: PaymentStatus.SENT,
    PaymentStatus.RECALLED: PaymentStatus.CREDITED,
    RECALL_REFUSED: PaymentStatus.CREDITED,
}


def payment_outcome_apply(item: dict[str, Any], *, now: datetime) -> str:
    """Apply what the bank says of a payment (`payment_id`, `status`, `reason`) once:
    "credited", "returned", "recalled", "recall_refused", or "ignored" (not ours, applied
    before, a recall not asked for, or not an outcome)."""
    payment = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("batch")
        .filter(uuid=item.get("payment_id"))
        .first()
    )
    status = item.get("status")
    if payment is None or status not in OUTCOMES or payment.status != OUTCOMES[status]:
        return "ignored"
    reason = str(item.get("reason") or "")[:100]
    if status in (PaymentStatus.RECALLED, RECALL_REFUSED) and payment.recall_requested_at is None:
        return "ignored"
    if status == RECALL_REFUSED:  # the money stays out: an overpayment (reports list it)
        payment.recall_refused = reason
        payment.save(update_fields=["recall_refused"])
        return RECALL_REFUSED
    payment.status = status
    payment.status_at = now
    if status == PaymentStatus.CREDITED:
        payment.save(update_fields=["status", "status_at"])
        return "credited"
    if status == PaymentStatus.RETURNED:
        payment.return_reason = reason
    payment.save(update_fields=["status", "status_at", "return_reason"])
    Accrual.objects.filter(payment=payment).update(payment=None)  # owed again
    _ledger(
        kind=LedgerEntryKind.RETURN,
        batch=payment.batch,
        payments=Payment.objects.filter(pk=payment.pk),
        debit=LedgerAccount.BANK,
        credit=LedgerAccount.PAYABLE,
        now=now,
        description=f"Payment {payment.uuid} {status}: {reason}".rstrip(": "),
    )
    if status == PaymentStatus.RETURNED:  # the recipient is told to change their details
        publish(
            RETURNED_EVENT, {"payment": payment.pk, "person": payment.person_id, "reason": reason}
        )
    return status


def payments_to_recall() -> Any:
    """Credited payments that paid for days after their recipient's death, not asked back
    yet."""
    return (
        Payment.objects.filter(
            status=PaymentStatus.CREDITED,
            recall_requested_at=None,
            person__death_date__isnull=False,
            accruals__day_to__gt=F("person__death_date"),
        )
        .distinct()
        .order_by("id")
    )


def payments_recall(*, now: datetime) -> int:
    """Ask the bank to take back what was credited for days after a recipient's death (the
    whole payment: what was owed before the death is owed again, to the family on
    application). One request per payment, under an id derived from it, so a retry after a
    lost answer is the same request. Returns how many were asked; raises BankUnavailable."""
    system = bank_system()
    asked = 0
    for payment_id in payments_to_recall().values_list("pk", flat=True):
        with transaction.atomic():
            payment = Payment.objects.select_for_update().get(pk=payment_id)
            if payment.status != PaymentStatus.CREDITED or payment.recall_requested_at:
                continue
            try:
                reply = provider_call(
                    system=system,
                    method="POST",
                    path="v1/return-requests",
                    payload={
                        "request_id": str(uuid.uuid5(RECALL_NAMESPACE, str(payment.uuid))),
                        "payment_id": str(payment.uuid),
                        "reason": RECALL_REASON,
                    },
                    now=now,
                )
            except CircuitOpen as exc:
                raise BankUnavailable(str(exc.message)) from None
            if reply.failed or reply.status != 202:
                raise BankUnavailable(
                    _("The bank did not take the recall request: %(error)s")
                    % {"error": reply.error or reply.status}
                )
            payment.recall_requested_at = now
            payment.save(update_fields=["recall_requested_at"])
            asked += 1
    return asked


def payments_withdraw(*, person_id: int, reason: str, directory: Path | None = None) -> int:
    """Pull a person's payments from the batches not sent yet (a death recorded after the
    batch was formed): their accruals are owed again (for the family to claim, as the payroll
    pays no deceased person), the batch's totals and file follow, and a batch approved
    before must be approved again. Returns how many were pulled."""
    pulled = 0
    with transaction.atomic():
        batches = PaymentBatch.objects.select_for_update().filter(
            status__in=[BatchStatus.FORMED, BatchStatus.APPROVED],
            pk__in=Payment.objects.filter(person_id=person_id, status=PaymentStatus.FORMED).values(
                "batch_id"
            ),
        )
        for batch in batches:
            payments = batch.payments.filter(person_id=person_id, status=PaymentStatus.FORMED)
            amount = payments.aggregate(total=Sum("amount"))["total"]
            Accrual.objects.filter(payment__in=payments).update(payment=None)
            withdrawn = payments.update(status=PaymentStatus.WITHDRAWN, return_reason=reason[:100])
            batch.count -= withdrawn
            batch.total -= amount
            batch.status, batch.approved_by, batch.approved_at = BatchStatus.FORMED, None, None
            batch.save(update_fields=["count", "total", "status", "approved_by", "approved_at"])
            batch_file_write(batch.pk, directory or settings.TREASURY_FILES_DIR)
            pulled += withdrawn
    return pulled


def bank_exchange(*, now: datetime) -> dict[str, int]:
    """The daily exchange: approved batches sent, the statement read. Batches the bank
    refuses stay approved with the problems logged; an unreachable bank is tried next time."""
    sent = refused = 0
    for batch in PaymentBatch.objects.filter(status=BatchStatus.APPROVED).order_by("id"):
        try:
            batch_send(batch=batch, now=now)
            sent += 1
        except (BankRefused, Conflict):
            refused += 1
        except BankUnavailable:
            break
    try:
        read = statements_apply(now=now)
        recalls = payments_recall(now=now)
    except BankUnavailable:
        read, recalls = {"unavailable": 1}, 0
    return {"sent": sent, "refused": refused, **read, "recalls_asked": recalls}
