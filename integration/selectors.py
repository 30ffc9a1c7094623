"""Reads of the inbox: what became of an event, and the inbox's figures for monitoring."""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, F, Max, Min, Q, QuerySet

from integration.enums import InboxStatus
from integration.models import ExternalSystem, InboundEvent


def inbound_status(*, system: ExternalSystem, event_id: str) -> InboundEvent | None:
    """The event a system sent under an id, if received."""
    if "\x00" in event_id:  # no stored id has one (the contracts refuse it)
        return None
    return InboundEvent.objects.filter(system=system, event_id=event_id).first()


def inbound_stats(events: QuerySet[InboundEvent]) -> list[dict[str, Any]]:
    """Per system and contract: events by status, the oldest waiting, processing lag."""
    lag = F("processed_at") - F("received_at")
    rows = (
        events.order_by()
        .values("system__code", "contract")
        .annotate(
            total=Count("id"),
            **{s: Count("id", filter=Q(status=s)) for s in InboxStatus.values},
            oldest_waiting=Min("received_at", filter=Q(status=InboxStatus.RECEIVED)),
            avg_lag=Avg(lag, filter=Q(processed_at__isnull=False)),
            max_lag=Max(lag, filter=Q(processed_at__isnull=False)),
        )
    )
    return [
        {
            **{k: v for k, v in row.items() if k not in ("avg_lag", "max_lag")},
            "avg_lag_seconds": _seconds(row["avg_lag"]),
            "max_lag_seconds": _seconds(row["max_lag"]),
        }
        for row in rows
    ]


def _seconds(value: Any) -> float | None:
    return None if value is None else round(value.total_seconds(), 3)
