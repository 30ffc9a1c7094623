"""What other agencies answered to the platform's inter-agency requests, kept where the rules
read it: incomes from the tax service become income records of the person who was asked
about (the fact tables follow by their triggers). Then `registries.data_received` tells the
cases that asked (docs/decisions.md §12).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from integration.enums import DataKind, ExchangeStatus
from integration.models import DataExchange
from platform_core.bus import publish
from registries.enums import IncomeKind
from registries.models import IncomeRecord, Person

DATA_RECEIVED_EVENT = "registries.data_received"
INCOMES_CHANGED_EVENT = "registries.incomes_changed"
INCOME_KINDS = {
    "salary": IncomeKind.SALARY,
    "business": IncomeKind.BUSINESS,
    "other": IncomeKind.OTHER,
}


def _incomes(exchange: DataExchange, person_ids: set[int]) -> int:
    source = f"{exchange.provider.code}:{exchange.pk}"[:50]
    rows = [
        IncomeRecord(
            person_id=person_id,
            kind=INCOME_KINDS.get(line["kind"], IncomeKind.OTHER),
            month=date.fromisoformat(f"{line['month']}-01"),
            amount=Decimal(line["amount"]),
            payer_inn=line.get("payer_inn", ""),
            source=source,
        )
        for person_id in sorted(person_ids)
        if not IncomeRecord.objects.filter(person_id=person_id, source=source).exists()
        for line in exchange.answer["incomes"]
    ]
    bulk_create_with_history(rows, IncomeRecord)
    for person_id in sorted({row.person_id for row in rows}):
        incomes_changed(
            person_id=person_id,
            months=[row.month for row in rows if row.person_id == person_id],
            key=source,
        )
    return len(rows)


def incomes_changed(*, person_id: int, months: list[date], key: str) -> None:
    """Tell whoever decided on them that a person's incomes of some months were recorded or
    changed (`key` names the change, so that it is acted on once)."""
    publish(
        INCOMES_CHANGED_EVENT,
        {
            "person_id": person_id,
            "months": sorted({m.isoformat() for m in months}),
            "key": key,
            "at": timezone.now().isoformat(),
        },
    )


def answered_data_apply(*, exchange_id: str, cases: list[str]) -> dict[str, Any]:
    """Keep an answered exchange's data once, then tell the cases it was for."""
    with transaction.atomic():
        exchange = (
            DataExchange.objects.select_for_update().select_related("provider").get(pk=exchange_id)
        )
        asked = {r.person_id for r in exchange.requests.all() if r.person_id}
        persons = set(Person.objects.filter(pk__in=asked).values_list("pk", flat=True))
        stored = 0
        answered = exchange.status == ExchangeStatus.ANSWERED and exchange.answer is not None
        if answered and exchange.kind == DataKind.INCOME:
            stored = _incomes(exchange, persons)
        publish(
            DATA_RECEIVED_EVENT,
            {
                "exchange": str(exchange.pk),
                "kind": exchange.kind,
                "status": exchange.status,
                "persons": sorted(persons),
                "cases": cases,
                "stored": stored,
            },
        )
    return {"stored": stored}
