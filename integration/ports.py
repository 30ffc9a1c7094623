"""Ports: one per data kind the platform asks other agencies for.

A port sends an exchange to its provider and asks after it; it answers with an `Outcome`.
`HttpDataPort` speaks the protocol of docs/peers.md (the emulated peers speak it, and so would
a gateway to СМЭВ); `INTEGRATION_DATA_PORTS` names another class for a kind to swap a
provider's adapter without touching anything that asks.

Each kind's spec says how long an answer is reused (the once-only principle), how long it is
kept at most (personal data is not kept longer than its purpose needs), and how long the
provider has to answer. docs/decisions.md §11 gives the reasons for each figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from integration.contracts import answer_problems
from integration.enums import AttemptOutcome, DataKind
from integration.models import DataExchange
from integration.services.http import Reply, provider_call


@dataclass(frozen=True)
class KindSpec:
    validity: timedelta  # an answer is reused for this long
    retention: timedelta  # and erased after this long at most
    deadline: timedelta  # the provider answers within this
    period_params: bool  # the request names a period of months (`from`, `to`)


KINDS: dict[str, KindSpec] = {
    DataKind.INCOME: KindSpec(timedelta(days=30), timedelta(days=180), timedelta(hours=48), True),
    DataKind.BENEFITS: KindSpec(timedelta(days=30), timedelta(days=180), timedelta(hours=48), True),
    DataKind.ADDRESS: KindSpec(timedelta(days=7), timedelta(days=90), timedelta(hours=48), False),
    DataKind.EDUCATION: KindSpec(timedelta(days=30), timedelta(days=90), timedelta(days=5), False),
    DataKind.DISABILITY: KindSpec(
        timedelta(days=1), timedelta(days=90), timedelta(hours=48), False
    ),
    DataKind.PENSION: KindSpec(timedelta(days=30), timedelta(days=90), timedelta(hours=48), False),
}


@dataclass(frozen=True)
class Outcome:
    """What one try at an exchange came to."""

    kind: AttemptOutcome
    http_status: int | None = None
    latency_ms: int | None = None
    data: dict[str, Any] | None = None
    error: str = ""


class DataPort(Protocol):
    def send(self, exchange: DataExchange, *, now: datetime) -> Outcome: ...

    def poll(self, exchange: DataExchange, *, now: datetime) -> Outcome: ...


class HttpDataPort:
    """docs/peers.md over signed HTTP. Raises CircuitOpen while the provider's circuit is."""

    def send(self, exchange: DataExchange, *, now: datetime) -> Outcome:
        body = {
            "request_id": str(exchange.id),
            "kind": exchange.kind,
            "subject": exchange.subject,
            "params": exchange.params,
        }
        reply = provider_call(
            system=exchange.provider, method="POST", path="requests", payload=body, now=now
        )
        return self._outcome(exchange, reply)

    def poll(self, exchange: DataExchange, *, now: datetime) -> Outcome:
        reply = provider_call(
            system=exchange.provider, method="GET", path=f"requests/{exchange.id}", now=now
        )
        if reply.status == 404:
            return Outcome(AttemptOutcome.UNKNOWN, 404, reply.latency_ms)
        return self._outcome(exchange, reply)

    def _outcome(self, exchange: DataExchange, reply: Reply) -> Outcome:
        common = {"http_status": reply.status, "latency_ms": reply.latency_ms}
        if reply.failed:
            return Outcome(AttemptOutcome.ERROR, error=reply.error, **common)
        body = reply.body if isinstance(reply.body, dict) else {}
        status = body.get("status")
        if reply.status == 202 and status == "accepted":
            return Outcome(AttemptOutcome.ACCEPTED, **common)
        if reply.status == 200 and status == "not_found":
            return Outcome(AttemptOutcome.NOT_FOUND, data={}, **common)
        if reply.status == 200 and status == "answered":
            problems = answer_problems(exchange.kind, body.get("data"))
            if problems:
                # A provider breaking its contract is its fault: retried, and counted.
                return Outcome(
                    AttemptOutcome.ERROR,
                    error="; ".join(f"{p.field}: {p.message}" for p in problems)[:1000],
                    **common,
                )
            return Outcome(AttemptOutcome.ANSWERED, data=body["data"], **common)
        if 400 <= (reply.status or 0) < 500:
            return Outcome(AttemptOutcome.REFUSED, error=reply.error, **common)
        return Outcome(
            AttemptOutcome.ERROR, error=f"unexpected answer: {reply.error or body}"[:1000], **common
        )


@cache
def port_for(kind: str) -> DataPort:
    """The port that asks for data of kind."""
    path = settings.INTEGRATION_DATA_PORTS.get(kind, "integration.ports.HttpDataPort")
    return import_string(path)()


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the attempts so far, capped."""
    base = settings.INTEGRATION_RETRY_BASE_SECONDS
    return timedelta(
        seconds=min(base * 2 ** max(attempts - 1, 0), settings.INTEGRATION_RETRY_MAX_SECONDS)
    )
