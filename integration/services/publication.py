"""The feed to the federal social security register (ЕГИССО-like), idempotent and retried.

`facts_publish` stores a new version of a fact only when its content changed (so a repeated
event publishes nothing new); `facts_deliver` sends what is due in batches, under a lease, and
records the register's verdict per fact. Transient failures are retried with backoff behind
the register's circuit breaker; a rejected fact stays rejected with the register's reasons
until a new version of it is published.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils.translation import gettext_lazy as _

from integration.contracts import fact_problems
from integration.enums import PublicationStatus, SystemKind
from integration.models import ExternalSystem, FederalFact
from integration.ports import retry_delay
from integration.services.http import CircuitOpen, provider_call
from platform_core.errors import Conflict, DomainError

BATCH = 500
LEASE = timedelta(seconds=120)
# What the platform publishes an assignment fact on (issue 5's cases publish it).
ASSIGNMENT_EVENT = "measures.assignment_changed"


class InvalidFact(DomainError):
    code = "invalid_fact"

    def __init__(self, problems: list[Any]):
        super().__init__(_("The fact does not follow the federal register's contract."))
        self.problems = problems


def fact_publish(*, fact: dict[str, Any], now: datetime) -> FederalFact | None:
    """Store the fact as its next version if its content changed; None if it did not.

    `fact` is the register's fact without `version` and `kind`. Raises InvalidFact.
    """
    return facts_publish(facts=[fact], now=now)[0]


def facts_publish(*, facts: list[dict[str, Any]], now: datetime) -> list[FederalFact | None]:
    """fact_publish of many facts, in order (a later one of the same fact is its next
    version), in four statements. Raises InvalidFact; then nothing is stored."""
    contents = []
    for fact in facts:
        content = {key: value for key, value in fact.items() if key not in ("version", "kind")}
        problems = fact_problems({**content, "kind": "assignment", "version": 1})
        if problems:
            raise InvalidFact(problems)
        contents.append(content)
    fact_ids = sorted({content["fact_id"] for content in contents})
    with transaction.atomic():
        with connection.cursor() as cursor:  # one publisher of a fact at a time, in one order
            cursor.execute(
                "SELECT count(pg_advisory_xact_lock(hashtextextended(f, 7)))"
                " FROM (SELECT unnest(%s::text[]) AS f ORDER BY 1) AS ordered",
                [fact_ids],
            )
        latest = {
            row.fact_id: row
            for row in FederalFact.objects.filter(fact_id__in=fact_ids)
            .order_by("fact_id", "-version")
            .distinct("fact_id")
        }
        stored: list[FederalFact | None] = []
        for content in contents:
            digest = hashlib.sha256(
                json.dumps(content, sort_keys=True, ensure_ascii=False).encode()
            ).hexdigest()
            before = latest.get(content["fact_id"])
            if before is not None and before.digest == digest:
                stored.append(None)
                continue
            if before is not None and before.pk is None:  # new in this call: replaced
                before.status, before.next_attempt_at = PublicationStatus.SUPERSEDED, None
            version = (before.version if before else 0) + 1
            latest[content["fact_id"]] = FederalFact(
                fact_id=content["fact_id"],
                version=version,
                payload={**content, "kind": "assignment", "version": version},
                digest=digest,
                created_at=now,
                next_attempt_at=now,
            )
            stored.append(latest[content["fact_id"]])
        new = [fact for fact in stored if fact is not None]
        if new:
            FederalFact.objects.filter(
                fact_id__in={fact.fact_id for fact in new}, status=PublicationStatus.PENDING
            ).update(status=PublicationStatus.SUPERSEDED, next_attempt_at=None)
            FederalFact.objects.bulk_create(new)
    return stored


def register_system() -> ExternalSystem | None:
    return (
        ExternalSystem.objects.filter(active=True, kind=SystemKind.FEDERAL_REGISTER)
        .exclude(base_url="")
        .order_by("code")
        .first()
    )


def facts_deliver(*, now: datetime, limit: int = BATCH) -> dict[str, int]:
    """Send one batch of due facts to the register; counts of what became of them."""
    register = register_system()
    if register is None:
        return {}
    with transaction.atomic():
        due = list(
            FederalFact.objects.select_for_update(skip_locked=True)
            .filter(status=PublicationStatus.PENDING, next_attempt_at__lte=now)
            .filter(Q(lease_until=None) | Q(lease_until__lt=now))
            .order_by("next_attempt_at", "id")[:limit]
        )
        FederalFact.objects.filter(pk__in=[f.pk for f in due]).update(lease_until=now + LEASE)
    if not due:
        return {}
    try:
        reply = provider_call(
            system=register,
            method="POST",
            path="v1/facts",
            payload={"facts": [f.payload for f in due]},
            now=now,
        )
    except CircuitOpen as exc:
        FederalFact.objects.filter(pk__in=[f.pk for f in due]).update(
            lease_until=None, next_attempt_at=exc.until, problem=str(exc)
        )
        return {"circuit_open": len(due)}
    results = reply.body.get("results") if isinstance(reply.body, dict) else None
    counts = {"accepted": 0, "rejected": 0, "retry": 0}
    with transaction.atomic():
        if reply.status != 200 or not isinstance(results, list) or len(results) != len(due):
            for fact in due:
                fact.attempts += 1
                fact.next_attempt_at = now + retry_delay(fact.attempts)
                fact.lease_until = None
                fact.problem = reply.error or str(_("The register's answer was not understood."))
            FederalFact.objects.bulk_update(
                due, ["attempts", "next_attempt_at", "lease_until", "problem"]
            )
            counts["retry"] = len(due)
            return counts
        for fact, result in zip(due, results, strict=True):
            fact.attempts += 1
            fact.lease_until = None
            fact.delivered_at = now
            fact.next_attempt_at = None
            accepted = isinstance(result, dict) and result.get("status") == "accepted"
            fact.status = PublicationStatus.ACCEPTED if accepted else PublicationStatus.REJECTED
            fact.errors = [] if accepted else (result or {}).get("errors", [])
            fact.problem = ""
            counts["accepted" if accepted else "rejected"] += 1
        FederalFact.objects.bulk_update(
            due,
            [
                "attempts",
                "lease_until",
                "delivered_at",
                "next_attempt_at",
                "status",
                "errors",
                "problem",
            ],
        )
    return counts


def fact_resend(*, fact: FederalFact, now: datetime) -> FederalFact:
    """Send a rejected fact's latest version again (after the register fixed its side).

    Raises Conflict if it is not rejected or a later version exists.
    """
    with transaction.atomic():
        locked = FederalFact.objects.select_for_update().get(pk=fact.pk)
        newest = FederalFact.objects.filter(fact_id=locked.fact_id).aggregate(v=Max("version"))
        if locked.status != PublicationStatus.REJECTED or newest["v"] != locked.version:
            raise Conflict(_("Only the latest version of a rejected fact is sent again."))
        locked.status = PublicationStatus.PENDING
        locked.next_attempt_at = now
        locked.save(update_fields=["status", "next_attempt_at"])
    return locked
