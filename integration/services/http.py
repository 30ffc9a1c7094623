"""Signed HTTP calls to other agencies' systems, behind each provider's circuit breaker.

Every outbound call goes through `provider_call`: it refuses at once while the provider's
circuit is open, signs the request as docs/peers.md says, and counts the outcome: transport
errors, timeouts and 5xx answers are the provider's failures; after
INTEGRATION_CIRCUIT_FAILURES of them in a row the circuit opens for
INTEGRATION_CIRCUIT_COOLDOWN_SECONDS, then lets one trial call through (half-open): its
success closes the circuit, its failure opens it again.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import httpx
from django.conf import settings
from django.db import connection
from django.utils.translation import gettext_lazy as _

from integration.models import ExternalSystem, ProviderCircuit
from integration.signing import signature
from platform_core.errors import DomainError


class CircuitOpen(DomainError):
    """The provider failed too often lately; it is not asked until `until`."""

    status = 503
    code = "provider_circuit_open"

    def __init__(self, system: ExternalSystem, until: datetime):
        super().__init__(
            _("%(system)s failed too often; it is not asked until %(until)s.")
            % {"system": system.code, "until": until.isoformat(timespec="seconds")}
        )
        self.until = until


@dataclass(frozen=True)
class Reply:
    """What a provider answered: the HTTP status and JSON body, or the transport error."""

    status: int | None
    body: Any
    latency_ms: int
    error: str = ""

    @property
    def failed(self) -> bool:
        """A failure of the provider (counted by its circuit), not a refusal of ours."""
        return self.status is None or self.status >= 500


_local = threading.local()


def _client() -> httpx.Client:
    client = getattr(_local, "client", None)
    if client is None:
        client = _local.client = httpx.Client(
            timeout=settings.INTEGRATION_HTTP_TIMEOUT_SECONDS,
            headers={"User-Agent": "social-treasury-platform"},
        )
    return client


def signed_headers(system: ExternalSystem, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "X-System": settings.INTEGRATION_PLATFORM_CODE,
        "X-Timestamp": timestamp,
        "X-Signature": signature(system.secret, timestamp, body),
        "Content-Type": "application/json",
    }


def circuit_admit(*, system: ExternalSystem, now: datetime) -> None:
    """Let a call to system through, or raise CircuitOpen.

    When the cool-down is over, exactly one caller gets the trial call: it moves the circuit's
    reopening time forward, so the others are refused until the trial has told.
    """
    circuit = ProviderCircuit.objects.filter(system=system).first()
    if circuit is None or circuit.open_until is None:
        return
    if circuit.open_until > now:
        raise CircuitOpen(system, circuit.open_until)
    trial_until = now + timedelta(seconds=settings.INTEGRATION_CIRCUIT_COOLDOWN_SECONDS)
    claimed = ProviderCircuit.objects.filter(system=system, open_until=circuit.open_until).update(
        open_until=trial_until
    )
    if not claimed:
        raise CircuitOpen(system, trial_until)


def circuit_record(*, system: ExternalSystem, reply: Reply, now: datetime) -> None:
    """Count a call's outcome in the provider's circuit."""
    if not reply.failed:
        ProviderCircuit.objects.filter(system=system).exclude(failures=0, open_until=None).update(
            failures=0, open_until=None
        )
        return
    threshold = settings.INTEGRATION_CIRCUIT_FAILURES
    reopen = now + timedelta(seconds=settings.INTEGRATION_CIRCUIT_COOLDOWN_SECONDS)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO integration_providercircuit AS c
                (system_id, failures, open_until, opened_times, last_failure_at, last_error)
            VALUES (%(system)s, 1, CASE WHEN 1 >= %(threshold)s THEN %(reopen)s END,
                    CASE WHEN 1 >= %(threshold)s THEN 1 ELSE 0 END, %(now)s, %(error)s)
            ON CONFLICT (system_id) DO UPDATE SET
                failures = c.failures + 1,
                open_until = CASE WHEN c.failures + 1 >= %(threshold)s THEN %(reopen)s
                                  ELSE c.open_until END,
                opened_times = c.opened_times
                    + CASE WHEN c.failures + 1 = %(threshold)s THEN 1 ELSE 0 END,
                last_failure_at = %(now)s,
                last_error = %(error)s
            """,
            {
                "system": system.pk,
                "threshold": threshold,
                "reopen": reopen,
                "now": now,
                "error": reply.error or f"HTTP {reply.status}",
            },
        )


def circuit_reset(*, system: ExternalSystem) -> None:
    """Close a provider's circuit by hand (an operator knows it is back)."""
    ProviderCircuit.objects.filter(system=system).update(failures=0, open_until=None)


def provider_call(
    *,
    system: ExternalSystem,
    method: str,
    path: str,
    payload: Any = None,
    now: datetime,
) -> Reply:
    """Call path under system's base URL, signed. Raises CircuitOpen instead of calling."""
    circuit_admit(system=system, now=now)
    body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
    url = urljoin(system.base_url if system.base_url.endswith("/") else system.base_url + "/", path)
    started = time.perf_counter()
    try:
        response = _client().request(
            method, url, content=body, headers=signed_headers(system, body)
        )
    except httpx.HTTPError as exc:
        reply = Reply(
            None,
            None,
            round((time.perf_counter() - started) * 1000),
            f"{type(exc).__name__}: {exc}"[:500],
        )
    else:
        try:
            parsed = response.json()
        except ValueError:
            parsed = None
        error = "" if response.status_code < 400 else response.text[:500]
        reply = Reply(
            response.status_code, parsed, round((time.perf_counter() - started) * 1000), error
        )
    circuit_record(system=system, reply=reply, now=now)
    return reply
