"""Celery tasks of integration: thin wrappers over its services (queue `integration`)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from integration.services.complaints import complaint_send, complaints_due
from integration.services.interagency import exchange_send, exchanges_due, exchanges_purge
from integration.services.publication import facts_deliver


def _again_at(task, when, **kwargs) -> None:  # type: ignore[no-untyped-def]
    # With a real worker a retry is scheduled for its time; in-process (eager) mode leaves it
    # to the periodic run_due, so a slow provider cannot hold a request.
    if when is not None and not settings.CELERY_TASK_ALWAYS_EAGER:
        task.apply_async(kwargs=kwargs, eta=when)


@shared_task(name="integration.send_exchange")
def send_exchange(*, exchange_id: str) -> str | None:
    exchange = exchange_send(exchange_id=exchange_id, now=timezone.now())
    if exchange is None:
        return None
    _again_at(send_exchange, exchange.next_attempt_at, exchange_id=exchange_id)
    return exchange.status


@shared_task(name="integration.send_complaint")
def send_complaint(*, complaint_id: str) -> str | None:
    complaint = complaint_send(complaint_id=complaint_id, now=timezone.now())
    if complaint is None:
        return None
    _again_at(send_complaint, complaint.next_attempt_at, complaint_id=complaint_id)
    return complaint.status


@shared_task(name="integration.run_due")
def run_due() -> dict[str, int]:
    """Everything outbound that is due: tries lost or scheduled, the federal feed."""
    now = timezone.now()
    exchanges = exchanges_due(now=now)
    for exchange_id in exchanges:
        send_exchange.delay(exchange_id=exchange_id)
    complaints = complaints_due(now=now)
    for complaint_id in complaints:
        send_complaint.delay(complaint_id=complaint_id)
    facts = facts_deliver(now=now)
    return {"exchanges": len(exchanges), "complaints": len(complaints), **facts}


@shared_task(name="integration.purge_answers")
def purge_answers() -> int:
    return exchanges_purge(now=timezone.now())
