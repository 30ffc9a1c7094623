"""A bank's file of outcomes (the file path beside the statement API): checked whole, applied
whole. Any problem refuses the file with every problem named by line and field; nothing of a
refused file is applied, and a file applied before changes nothing (docs/treasury.md).

    payment_id,status,reason,amount
    0193...,credited,,19000.00
    0193...,returned,account_closed,9500.00
    TOTAL,2,28500.00
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from platform_core.errors import DomainError
from treasury.enums import PaymentStatus
from treasury.models import Payment
from treasury.services.bank import payment_outcome_apply

HEADER = ["payment_id", "status", "reason", "amount"]
AMOUNT_RE = re.compile(r"[0-9]{1,12}\.[0-9]{2}")
OUTCOMES = (PaymentStatus.CREDITED, PaymentStatus.RETURNED)


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return _("line %(line)d, %(field)s: %(message)s") % {
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }


class BankFileInvalid(DomainError):
    code = "bank_file_invalid"

    def __init__(self, problems: list[Problem]):
        super().__init__(
            _("The bank's file is refused whole: %(count)d problems.") % {"count": len(problems)}
        )
        self.problems = problems


def _rows(content: bytes) -> tuple[list[tuple[int, list[str]]], list[Problem]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [Problem(1, "file", _("not UTF-8 (byte %(at)d)") % {"at": exc.start})]
    rows = [(n, row) for n, row in enumerate(csv.reader(io.StringIO(text)), start=1) if row]
    if not rows or rows[0][1] != HEADER:
        return [], [Problem(1, "header", _("expected %(header)s") % {"header": ",".join(HEADER)})]
    return rows[1:], []


def _check_line(
    n: int, row: list[str], payments: dict[str, Payment], seen: dict[str, int]
) -> tuple[list[Problem], Decimal]:
    if len(row) != len(HEADER):
        return [Problem(n, "line", _("%(count)d fields, 4 expected") % {"count": len(row)})], 0
    payment_id, status, reason, amount = row
    problems = []
    try:
        key = str(uuid.UUID(payment_id))
    except ValueError:
        return [Problem(n, "payment_id", _("not a payment id (UUID)"))], 0
    if key in seen:
        problems.append(Problem(n, "payment_id", _("repeats line %(line)d") % {"line": seen[key]}))
    seen.setdefault(key, n)
    payment = payments.get(key)
    if payment is None:
        problems.append(Problem(n, "payment_id", _("no such payment was sent")))
    if status not in OUTCOMES:
        problems.append(Problem(n, "status", _("credited or returned expected")))
    elif status == PaymentStatus.RETURNED and not reason.strip():
        problems.append(Problem(n, "reason", _("a returned payment needs the reason")))
    value = Decimal(0)
    if not AMOUNT_RE.fullmatch(amount):
        problems.append(Problem(n, "amount", _("roubles with two decimals expected")))
    else:
        value = Decimal(amount)
        if payment is not None and value != payment.amount:
            problems.append(
                Problem(n, "amount", _("the payment was %(amount)s") % {"amount": payment.amount})
            )
    if (
        payment is not None
        and status in OUTCOMES
        and payment.status
        not in (
            PaymentStatus.SENT,
            status,
        )
    ):
        problems.append(
            Problem(
                n,
                "status",
                _("the payment is %(status)s already") % {"status": payment.get_status_display()},
            )
        )
    return problems, value


def bank_file_import(*, content: bytes, now: datetime) -> dict[str, int]:
    """Check a bank's file of outcomes whole, then apply it. Raises BankFileInvalid."""
    rows, problems = _rows(content)
    if problems:
        raise BankFileInvalid(problems)
    if not rows or rows[-1][1][:1] != ["TOTAL"]:
        raise BankFileInvalid(
            [Problem(rows[-1][0] if rows else 1, "TOTAL", _("the last line must be the totals"))]
        )
    (total_line, total_row), lines = rows[-1], rows[:-1]
    counts = {"credited": 0, "returned": 0, "ignored": 0}
    with transaction.atomic():
        ids = []
        for _n, row in lines:
            try:
                ids.append(uuid.UUID(row[0]))
            except (ValueError, IndexError):
                continue
        payments = {
            str(p.uuid): p
            for p in Payment.objects.select_for_update()
            .filter(uuid__in=ids)
            .exclude(status=PaymentStatus.FORMED)
        }
        seen: dict[str, int] = {}
        total = Decimal(0)
        for n, row in lines:
            found, value = _check_line(n, row, payments, seen)
            problems += found
            total += value
        expected = ["TOTAL", str(len(lines)), f"{total:.2f}"]
        if total_row != expected:
            problems.append(
                Problem(
                    total_line,
                    "TOTAL",
                    _("%(given)s given; the lines make %(expected)s")
                    % {"given": ",".join(total_row), "expected": ",".join(expected)},
                )
            )
        if problems:
            raise BankFileInvalid(problems)
        for _n, (payment_id, status, reason, _amount) in lines:
            item = {"payment_id": payment_id, "status": status, "reason": reason}
            counts[payment_outcome_apply(item, now=now)] += 1
    return counts
