"""The emulated bank of docs/peers.md: payment orders, the statement, return requests.

A batch is checked whole (nothing of a faulty batch is accepted); each accepted payment is
settled `settle_seconds` later into the statement, as are return requests. Settlement happens
when the bank is next asked anything: the items due are written in the order they fell due,
each with the next `seq`, so the statement only ever grows at its end.
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from emulators.peers.server import (
    Call,
    Faults,
    Invalid,
    Peer,
    Reply,
    Route,
    System,
    detail,
    digest,
    is_date,
    is_uuid,
)

CODE = "bank"
# The bank knows the banks of the Bank of Russia's BIC directory; the platform carries an
# excerpt of it, the same one its demo population's accounts are opened at.
BIC_DIRECTORY = (
    Path(__file__).resolve().parents[2] / "registries" / "data" / "reference" / "banks.csv"
)
CHANNELS = ("account", "card", "post")
AMOUNT_RE = re.compile(r"[0-9]{1,13}\.[0-9]{2}")
BIC_RE = re.compile(r"04[0-9]{7}")
ACCOUNT_RE = re.compile(r"[0-9]{20}")
CARD_RE = re.compile(r"[0-9]{16,19}")
HEX64_RE = re.compile(r"[0-9a-f]{64}")
# Bank of Russia divisions (cash settlement centres) end their BIC in these.
SETTLEMENT_CENTRE_SUFFIXES = ("000", "001", "002")
STATEMENT_LIMIT = 1000
STATEMENT_MAX_LIMIT = 10000


def known_bics(path: Path = BIC_DIRECTORY) -> frozenset[str] | None:
    """Return the BICs of the directory, or None (every BIC known) when there is none."""
    if not path.exists():
        return None
    with path.open(encoding="utf-8", newline="") as rows:
        return frozenset(row["bic"] for row in csv.DictReader(rows))


def account_key_ok(account: str, bic: str) -> bool:
    """Tell whether a 20-digit account's control key agrees with the BIC (Bank of Russia rule)."""
    suffix = bic[6:]
    # At a settlement centre the account is keyed by "0" and BIC digits 5-6; at a credit
    # institution by the BIC's last three digits.
    prefix = "0" + bic[4:6] if suffix in SETTLEMENT_CENTRE_SUFFIXES else suffix
    digits = prefix + account
    return sum(int(d) * (7, 1, 3)[i % 3] for i, d in enumerate(digits)) % 10 == 0


def luhn_ok(number: str) -> bool:
    """Tell whether a card number's last digit is its Luhn check digit."""
    total = 0
    for i, d in enumerate(reversed(number)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def checksum(payments: Any) -> str:
    """Return the SHA-256 of the payments as the platform serialises them (docs/peers.md)."""
    text = json.dumps(payments, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _problem(line: int, field_name: str, message: str) -> dict[str, Any]:
    return {"line": line, "field": field_name, "message": message}


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, str) and AMOUNT_RE.fullmatch(value) and Decimal(value) > 0:
        return Decimal(value)
    return None


def _payment_errors(index: int, payment: Any, seen: set[str]) -> list[dict[str, Any]]:
    line, at = index + 1, f"payments[{index}]"
    if not isinstance(payment, dict):
        return [_problem(line, at, "Платёж должен быть объектом.")]
    errors = []
    payment_id = payment.get("payment_id")
    if not is_uuid(payment_id):
        errors.append(_problem(line, f"{at}.payment_id", "Идентификатор платежа (UUID)."))
    elif payment_id in seen:
        errors.append(_problem(line, f"{at}.payment_id", "Платёж повторяется в пакете."))
    else:
        seen.add(payment_id)
    if _amount(payment.get("amount")) is None:
        errors.append(
            _problem(line, f"{at}.amount", "Сумма больше нуля, рубли с копейками: 15000.00.")
        )
    recipient = payment.get("recipient")
    if not isinstance(recipient, dict):
        errors.append(_problem(line, f"{at}.recipient", "Получатель: объект с именем."))
    elif not (isinstance(recipient.get("name"), str) and recipient["name"].strip()):
        errors.append(_problem(line, f"{at}.recipient.name", "Имя получателя обязательно."))
    channel = payment.get("channel")
    if channel == "account":
        if not (isinstance(payment.get("bic"), str) and BIC_RE.fullmatch(payment["bic"])):
            errors.append(_problem(line, f"{at}.bic", "БИК: 9 цифр, начинается с 04."))
        if not (
            isinstance(payment.get("account"), str) and ACCOUNT_RE.fullmatch(payment["account"])
        ):
            errors.append(_problem(line, f"{at}.account", "Номер счёта: 20 цифр."))
    elif channel == "card":
        card = payment.get("card")
        if not (isinstance(card, str) and CARD_RE.fullmatch(card)):
            errors.append(_problem(line, f"{at}.card", "Номер карты «Мир»: от 16 до 19 цифр."))
        elif not "2200" <= card[:4] <= "2204" or not luhn_ok(card):
            errors.append(_problem(line, f"{at}.card", "Это не номер карты «Мир»."))
    elif channel == "post":
        if not (isinstance(payment.get("address"), str) and payment["address"].strip()):
            errors.append(_problem(line, f"{at}.address", "Адрес доставки обязателен."))
    else:
        errors.append(_problem(line, f"{at}.channel", f"Способ выплаты: {', '.join(CHANNELS)}."))
    return errors


def batch_errors(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Return every fault of a batch of payment orders, by line (0 for the header)."""
    errors = []
    if not is_uuid(document.get("batch_id")):
        errors.append(_problem(0, "batch_id", "Идентификатор пакета (UUID)."))
    if not is_date(document.get("payment_date")):
        errors.append(_problem(0, "payment_date", "Дата платежа в виде ГГГГ-ММ-ДД."))
    if document.get("currency") != "RUB":
        errors.append(_problem(0, "currency", "Валюта платежей: RUB."))
    payments = document.get("payments")
    if not isinstance(payments, list) or not payments:
        errors.append(_problem(0, "payments", "Список платежей не может быть пустым."))
        return errors
    seen: set[str] = set()
    for index, payment in enumerate(payments):
        errors += _payment_errors(index, payment, seen)
    count = document.get("count")
    if isinstance(count, bool) or count != len(payments):
        errors.append(
            _problem(0, "count", f"Число платежей в пакете: {len(payments)}, указано: {count}.")
        )
    amounts = [_amount(p.get("amount")) if isinstance(p, dict) else None for p in payments]
    total = _amount(document.get("total"))
    if total is None:
        errors.append(_problem(0, "total", "Итог: рубли с копейками, например 30000.00."))
    elif all(amount is not None for amount in amounts):
        summed = sum(a for a in amounts if a is not None)
        if summed != total:
            errors.append(_problem(0, "total", f"Сумма платежей {summed}, указано {total}."))
    if document.get("checksum") != checksum(payments):
        errors.append(_problem(0, "checksum", "Контрольная сумма не совпадает с платежами."))
    return errors


@dataclass
class Payment:
    """An accepted payment: what it will come to, and where it stands."""

    payment_id: str
    batch_id: str
    amount: str
    outcome: tuple[str, str | None]  # status and reason when settled
    status: str = "pending"


@dataclass(order=True)
class Due:
    """Something the bank does at `at` (monotonic): settle a payment or a return request."""

    at: float
    order: int
    wall: float = field(compare=False)
    what: str = field(compare=False)
    key: str = field(compare=False)


class Bank(Peer):
    """A bank that accepts payment orders and reports what became of them."""

    name = "bank"
    routes = (
        Route("POST", "v1/payment-orders", "orders_create", "v1/payment-orders"),
        Route("GET", "v1/statements", "statements_read", "v1/statements"),
        Route("POST", "v1/return-requests", "return_create", "v1/return-requests"),
    )

    def __init__(self, *, secrets: dict[str, str], faults: Faults, seed: int | None = None) -> None:
        system = System(code=CODE, prefix="", secret=secrets[CODE], faults=faults)
        super().__init__(systems=[system], seed=seed)
        self.bics = known_bics()
        self.batches: dict[str, tuple[str, dict[str, Any]]] = {}
        self.payments: dict[str, Payment] = {}
        self.returns: dict[str, tuple[str, dict[str, Any]]] = {}
        self.due: list[Due] = []
        self.counter = itertools.count()
        self.statement: list[dict[str, Any]] = []

    def _outcome(self, payment: dict[str, Any]) -> tuple[str, str | None]:
        if payment["channel"] != "account":
            return "credited", None
        bic, account = payment["bic"], payment["account"]
        if (self.bics is not None and bic not in self.bics) or not account_key_ok(account, bic):
            return "returned", "wrong_details"
        if account.endswith("000"):
            return "returned", "account_closed"
        return "credited", None

    def _schedule(self, system: System, what: str, key: str) -> None:
        delay = system.faults.settle_seconds
        heapq.heappush(
            self.due,
            Due(time.monotonic() + delay, next(self.counter), time.time() + delay, what, key),
        )

    def _settle(self, system: System) -> None:
        now = time.monotonic()
        while self.due and self.due[0].at <= now:
            due = heapq.heappop(self.due)
            if due.what == "payment":
                item = self._settle_payment(due.key)
            else:
                item = self._settle_return(due.key)
            at = datetime.fromtimestamp(due.wall, UTC).isoformat(timespec="seconds")
            self.statement.append({"seq": len(self.statement) + 1, **item, "at": at})
            system.stats.add("settled", item["status"])

    def _settle_payment(self, payment_id: str) -> dict[str, Any]:
        payment = self.payments[payment_id]
        payment.status, reason = payment.outcome
        return self._item(payment, payment.status, reason)

    def _settle_return(self, request_id: str) -> dict[str, Any]:
        document = self.returns[request_id][1]
        payment = self.payments.get(document["payment_id"])
        if payment is None:
            item = {"payment_id": document["payment_id"], "batch_id": None, "amount": None}
            item |= {"status": "recall_refused", "reason": "unknown_payment"}
        elif payment.status == "credited":
            payment.status = "recalled"
            item = self._item(payment, "recalled", None)
        else:
            reason = "already_recalled" if payment.status == "recalled" else "not_credited"
            item = self._item(payment, "recall_refused", reason)
        return {**item, "request_id": request_id}

    @staticmethod
    def _item(payment: Payment, status: str, reason: str | None) -> dict[str, Any]:
        return {
            "payment_id": payment.payment_id,
            "batch_id": payment.batch_id,
            "status": status,
            "reason": reason,
            "amount": payment.amount,
        }

    def orders_create(self, system: System, call: Call) -> Reply:
        """Accept a whole batch of payment orders, or refuse it whole."""
        document = call.object()
        self._settle(system)
        batch_id = str(document.get("batch_id"))
        known = self.batches.get(batch_id)
        if known is not None:
            if known[0] != digest(document):
                return detail(409, "Пакет с этим batch_id уже получен с другим содержимым.")
            return Reply(200, known[1])
        errors = batch_errors(document)
        if errors:
            raise Invalid(errors)
        taken = [
            _problem(line, f"payments[{line - 1}].payment_id", "Платёж уже есть в другом пакете.")
            for line, payment in enumerate(document["payments"], start=1)
            if payment["payment_id"] in self.payments
        ]
        if taken:
            return Reply(409, {"detail": "Платежи уже получены в другом пакете.", "errors": taken})
        for payment in document["payments"]:
            self.payments[payment["payment_id"]] = Payment(
                payment_id=payment["payment_id"],
                batch_id=document["batch_id"],
                amount=payment["amount"],
                outcome=self._outcome(payment),
            )
            self._schedule(system, "payment", payment["payment_id"])
        answer = {
            "batch_id": document["batch_id"],
            "status": "accepted",
            "count": document["count"],
            "total": document["total"],
        }
        self.batches[batch_id] = (digest(document), answer)
        system.stats.add("batches")
        system.stats.add("payments", n=len(document["payments"]))
        return Reply(200, answer)

    def statements_read(self, system: System, call: Call) -> Reply:
        """Return the statement items after a cursor, oldest first."""
        self._settle(system)
        system.stats.add("statements")
        errors = []
        after = limit = 0
        try:
            after = int(call.query.get("after", "0"))
        except ValueError:
            after = -1
        if after < 0:
            errors.append({"field": "after", "message": "Номер записи выписки: целое от 0."})
        try:
            limit = int(call.query.get("limit", str(STATEMENT_LIMIT)))
        except ValueError:
            limit = 0
        if not 1 <= limit <= STATEMENT_MAX_LIMIT:
            errors.append(
                {"field": "limit", "message": f"Число записей: от 1 до {STATEMENT_MAX_LIMIT}."}
            )
        if errors:
            raise Invalid(errors)
        # seq is the position in the statement, from 1: the items after `after` start there.
        items = self.statement[after : after + limit]
        return Reply(200, {"items": items, "next": items[-1]["seq"] if items else after})

    def return_create(self, system: System, call: Call) -> Reply:
        """Accept a request to take a payment back; its outcome comes in the statement."""
        document = call.object()
        self._settle(system)
        request_id = str(document.get("request_id"))
        accepted = {"request_id": document.get("request_id"), "status": "accepted"}
        known = self.returns.get(request_id)
        if known is not None:
            if known[0] != digest(document):
                return detail(409, "Запрос с этим request_id уже получен с другим содержимым.")
            return Reply(202, accepted)
        errors = []
        if not is_uuid(document.get("request_id")):
            errors.append({"field": "request_id", "message": "Идентификатор запроса (UUID)."})
        if not (isinstance(document.get("payment_id"), str) and document["payment_id"]):
            errors.append({"field": "payment_id", "message": "Обязательное поле: платёж."})
        if not (isinstance(document.get("reason"), str) and document["reason"].strip()):
            errors.append({"field": "reason", "message": "Обязательное поле: основание возврата."})
        if errors:
            raise Invalid(errors)
        self.returns[request_id] = (digest(document), document)
        self._schedule(system, "return", request_id)
        system.stats.add("return_requests")
        return Reply(202, accepted)
