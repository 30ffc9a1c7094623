"""Data-quality complaints: an officer says an answer is wrong or a provider late; the
complaint goes to the provider and is tracked to its answer (docs/peers.md).

A complaint that the provider upholds (data corrected) ends the reuse of the wrong answer, so
the next ask for that data goes to the provider again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from integration.enums import ComplaintKind, ComplaintStatus, ExchangeStatus
from integration.models import DataComplaint, DataExchange, ExternalSystem
from integration.models.interagency import IN_FLIGHT
from integration.ports import retry_delay
from integration.services.http import CircuitOpen, provider_call
from platform_core.bus import publish
from platform_core.errors import DomainError

ANSWERED_EVENT = "integration.complaint_answered"


class InvalidComplaint(DomainError):
    code = "invalid_complaint"

    def __init__(self, problems: dict[str, str]):
        super().__init__(_("The complaint is not valid."))
        self.problems = problems


def complaint_problems(
    *,
    kind: str,
    text: str,
    exchange: DataExchange | None = None,
    provider: ExternalSystem | None = None,
) -> dict[str, str]:
    """What is wrong with a complaint before it is filed, by field."""
    problems: dict[str, str] = {}
    if not text.strip():
        problems["text"] = str(_("Say what is wrong."))
    if kind == ComplaintKind.WRONG_DATA:
        if exchange is None:
            problems["exchange"] = str(_("Name the exchange whose answer is wrong."))
        elif exchange.status != ExchangeStatus.ANSWERED:
            problems["exchange"] = str(_("Only an answer with data can be wrong."))
    elif kind == ComplaintKind.LATE_ANSWER:
        if exchange is None and provider is None:
            problems["provider"] = str(_("Name the provider or the exchange that is late."))
        elif exchange is not None and exchange.status not in [
            *IN_FLIGHT,
            ExchangeStatus.EXPIRED,
        ]:
            problems["exchange"] = str(_("This exchange was answered."))
    else:
        problems["kind"] = str(_("Unknown kind of complaint."))
    if exchange is not None and provider is not None and exchange.provider_id != provider.pk:
        problems["provider"] = str(_("The exchange was not with this provider."))
    return problems


def complaint_file(
    *,
    kind: str,
    text: str,
    filed_by: Any,
    region_id: str,
    exchange: DataExchange | None = None,
    provider: ExternalSystem | None = None,
    now: datetime,
) -> DataComplaint:
    """File a complaint and send it after commit. Raises InvalidComplaint (by field)."""
    problems = complaint_problems(kind=kind, text=text, exchange=exchange, provider=provider)
    if problems:
        raise InvalidComplaint(problems)
    complaint = DataComplaint.objects.create(
        kind=kind,
        provider=provider or exchange.provider,
        exchange=exchange,
        region_id=region_id,
        text=text.strip(),
        filed_by=filed_by,
        filed_at=now,
        next_attempt_at=now,
    )
    from integration.tasks import send_complaint

    complaint_id = str(complaint.pk)
    transaction.on_commit(lambda: send_complaint.delay(complaint_id=complaint_id))
    return complaint


def complaint_send(*, complaint_id: str, now: datetime) -> DataComplaint | None:
    """Send a complaint, or ask the provider after it; None when it is not due."""
    with transaction.atomic():
        complaint = (
            DataComplaint.objects.select_for_update(skip_locked=True)
            .select_related("provider")
            .filter(pk=complaint_id, next_attempt_at__lte=now)
            .exclude(status=ComplaintStatus.ANSWERED)
            .first()
        )
        if complaint is None:
            return None
        try:
            if complaint.status == ComplaintStatus.PENDING:
                reply = provider_call(
                    system=complaint.provider,
                    method="POST",
                    path="complaints",
                    payload={
                        "complaint_id": str(complaint.pk),
                        "request_id": str(complaint.exchange_id) if complaint.exchange_id else None,
                        "kind": complaint.kind,
                        "text": complaint.text,
                    },
                    now=now,
                )
            else:
                reply = provider_call(
                    system=complaint.provider,
                    method="GET",
                    path=f"complaints/{complaint.pk}",
                    now=now,
                )
        except CircuitOpen as exc:
            complaint.next_attempt_at = exc.until
            complaint.problem = str(exc)
            complaint.save(update_fields=["next_attempt_at", "problem"])
            return complaint
        complaint.attempts += 1
        body = reply.body if isinstance(reply.body, dict) else {}
        if reply.status in (200, 202) and body.get("status") == "answered":
            complaint.status = ComplaintStatus.ANSWERED
            complaint.answer = str(body.get("answer", ""))
            complaint.corrected = bool(body.get("corrected"))
            complaint.answered_at = now
            complaint.next_attempt_at = None
            complaint.problem = ""
            if complaint.corrected and complaint.exchange_id:
                # The answer was wrong: nobody reuses it any more.
                DataExchange.objects.filter(pk=complaint.exchange_id).update(valid_until=now)
            publish(
                ANSWERED_EVENT,
                {
                    "complaint": str(complaint.pk),
                    "exchange": str(complaint.exchange_id) if complaint.exchange_id else None,
                    "corrected": complaint.corrected,
                },
            )
        elif reply.status in (200, 202) and body.get("status") == "accepted":
            if complaint.status == ComplaintStatus.PENDING:
                complaint.status = ComplaintStatus.SENT
                complaint.sent_at = now
            complaint.next_attempt_at = now + retry_delay(complaint.attempts)
            complaint.problem = ""
        elif reply.status == 404 and complaint.status == ComplaintStatus.SENT:
            complaint.status = ComplaintStatus.PENDING  # the provider lost it: send it again
            complaint.next_attempt_at = now
        else:
            complaint.next_attempt_at = now + retry_delay(complaint.attempts)
            complaint.problem = reply.error or f"HTTP {reply.status}"
        complaint.save()
    return complaint


def complaints_due(*, now: datetime, limit: int = 100) -> list[str]:
    """The ids of complaints to send or ask after now."""
    return [
        str(pk)
        for pk in DataComplaint.objects.filter(next_attempt_at__lte=now)
        .filter(~Q(status=ComplaintStatus.ANSWERED))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    ]
