"""Reads of integration: what became of an event, the inbox's and the outbound figures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Aggregate, Avg, Count, F, FloatField, Max, Min, Q, QuerySet, Sum

from integration.enums import ExchangeStatus, InboxStatus, PublicationStatus
from integration.models import (
    DataExchange,
    DataRequest,
    ExternalSystem,
    FederalFact,
    InboundEvent,
    ProviderCircuit,
)
from integration.models.interagency import IN_FLIGHT


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


def exchange_stats(exchanges: QuerySet[DataExchange]) -> list[dict[str, Any]]:
    """Per provider and data kind: exchanges by status, overdue ones, answer latency, tries."""
    rows = (
        exchanges.order_by()
        .values("provider__code", "kind")
        .annotate(
            total=Count("id"),
            **{s: Count("id", filter=Q(status=s)) for s in ExchangeStatus.values},
            oldest_in_flight=Min("created_at", filter=Q(status__in=IN_FLIGHT)),
            latency_p50_ms=Percentile(0.5, "latency_ms"),
            latency_p95_ms=Percentile(0.95, "latency_ms"),
            attempts=Sum("attempts"),
        )
    )
    return [dict(row) for row in rows]


class Percentile(Aggregate):
    """percentile_cont over a numeric field (PostgreSQL)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, fraction: float, expression: str, **extra: Any):
        super().__init__(expression, fraction=fraction, **extra)


def circuits(*, now: datetime) -> list[dict[str, Any]]:
    """Each provider's circuit: closed, open until when, failures in a row."""
    return [
        {
            "provider": c.system.code,
            "state": "closed"
            if c.open_until is None
            else ("open" if c.open_until > now else "half_open"),
            "open_until": c.open_until,
            "failures": c.failures,
            "opened_times": c.opened_times,
            "last_failure_at": c.last_failure_at,
            "last_error": c.last_error,
        }
        for c in ProviderCircuit.objects.select_related("system").order_by("system__code")
    ]


def fact_stats(facts: QuerySet[FederalFact]) -> dict[str, Any]:
    """The federal feed: versions by status, the oldest waiting, attempts."""
    return facts.order_by().aggregate(
        total=Count("id"),
        **{s: Count("id", filter=Q(status=s)) for s in PublicationStatus.values},
        oldest_pending=Min("created_at", filter=Q(status=PublicationStatus.PENDING)),
        max_attempts=Max("attempts", filter=Q(status=PublicationStatus.PENDING)),
    )


def data_requests_of_case(*, case_ref: str) -> QuerySet[DataRequest]:
    """The asks of a case with their exchanges (its request log)."""
    return (
        DataRequest.objects.filter(case_ref=case_ref)
        .select_related("exchange", "exchange__provider")
        .order_by("requested_at")
    )
