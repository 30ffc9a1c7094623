"""The inbox: receive events once, acknowledge them, hand them on, track what became of them.

`inbound_receive` validates a request's documents against their contract and stores the
valid ones in one INSERT ... ON CONFLICT DO NOTHING: an event is stored once per (system,
event id), and a repeat gets the answer the first delivery got. The stored events are
published as one bus event per request (`integration.inbound_received`) by the same
statement; the registries apply them (registries/services/inbound.py) and report back with
`inbound_finish`. Nothing is applied in the request: the acknowledgement says "received".
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integration.contracts import Problem, contract_problems
from integration.enums import InboxStatus
from integration.models import ExternalSystem, InboundEvent
from integration.signing import signature
from platform_core.bus import publish, publish_sql, published
from platform_core.errors import Conflict, DomainError

RECEIVED_EVENT = "integration.inbound_received"


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class ContractViolation(DomainError):
    """A document breaks its contract; `problems` name each fault."""

    code = "contract_violation"

    def __init__(self, problems: list[Problem]):
        super().__init__(_("The document does not follow its contract."))
        self.problems = problems


# Systems by code, read again after SYSTEM_CACHE_SECONDS: a request does not pay a query for
# its sender's credentials, and a deactivated system or a new secret takes effect within that.
SYSTEM_CACHE_SECONDS = 10.0
_systems: dict[str, tuple[float, ExternalSystem | None]] = {}


@receiver([post_save, post_delete], sender=ExternalSystem)
def _forget_systems(**kwargs: Any) -> None:
    _systems.clear()


def _system(code: str, now: float) -> ExternalSystem | None:
    cached = _systems.get(code)
    if cached is None or now - cached[0] > SYSTEM_CACHE_SECONDS:
        found = ExternalSystem.objects.filter(code=code[:50], active=True).first()
        if found is None:
            return None  # unknown codes are not kept: anyone can send them
        cached = _systems[code] = (now, found)
    return cached[1]


def system_authenticate(
    *, code: str, timestamp: str, signed: str, body: bytes, now: datetime
) -> ExternalSystem:
    """The system whose signature this is. Raises NotAuthenticated saying why not."""
    if not code or not timestamp or not signed:
        raise NotAuthenticated(
            _("Sign the request: X-System, X-Timestamp and X-Signature headers are required.")
        )
    system = _system(code, now.timestamp())
    if system is None:
        raise NotAuthenticated(_("Unknown or inactive system %(code)s.") % {"code": code[:50]})
    try:
        sent = int(timestamp)  # whole seconds: no "nan" or "inf" slips past the age check
    except ValueError:
        raise NotAuthenticated(_("X-Timestamp must be Unix time in seconds.")) from None
    if abs(now.timestamp() - sent) > settings.INTEGRATION_SIGNATURE_MAX_AGE_SECONDS:
        raise NotAuthenticated(
            _("The request is too old or from the future: X-Timestamp is %(seconds)d s off.")
            % {"seconds": now.timestamp() - sent}
        )
    if not hmac.compare_digest(signature(system.secret, timestamp, body), signed.lower()):
        raise NotAuthenticated(_("The signature does not match the body."))
    return system


@dataclass
class Receipt:
    """What a document of a request got: its answer and HTTP status."""

    event_id: str | None
    status: int
    answer: dict[str, Any]
    stored: bool = False
    problems: list[Problem] = field(default_factory=list)


def _digest(document: dict[str, Any]) -> str:
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _refused(document: Any, problems: list[Problem]) -> Receipt:
    event_id = document.get("event_id") if isinstance(document, dict) else None
    return Receipt(
        event_id if isinstance(event_id, str) else None,
        400,
        {
            "event_id": event_id if isinstance(event_id, str) else None,
            "status": "rejected",
            "errors": [p.as_dict() for p in problems],
        },
        problems=problems,
    )


STORE = """
INSERT INTO integration_inboundevent
    (system_id, event_id, contract, event_type, payload, digest, received_at, status,
     corrects_event_id, cancelled, answer, result, problem, attempts)
SELECT %s, d.event_id, %s, d.event_type, d.payload, d.digest, %s, %s,
    d.corrects_event_id, d.cancelled, d.answer, '{}'::jsonb, '', 0
FROM jsonb_to_recordset(%s::jsonb) AS d(
    event_id text, event_type text, payload jsonb, digest text, corrects_event_id text,
    cancelled boolean, answer jsonb)
ON CONFLICT (system_id, event_id) DO NOTHING
RETURNING id, event_id
"""
# The bus event's payload, as publish() would write it, built from the stored rows.
ANNOUNCEMENT = (
    "jsonb_build_object('system', %s::text, 'contract', %s::text, 'ids', jsonb_agg(id ORDER BY id))"
)


def _store(
    *, system: ExternalSystem, contract: str, rows: list[dict[str, Any]], now: datetime
) -> dict[str, int]:
    """Insert the rows not stored before and the bus event announcing them; their ids.

    One statement (the outbox INSERT is a CTE reading what the inbox INSERT returned) is one
    round trip and atomic by itself, so the request pays no BEGIN and COMMIT and an event is
    stored if and only if it is announced. The bus event is written only if rows were.
    """
    announce, announce_params, announcement = publish_sql(
        RECEIVED_EVENT,
        payload_sql=ANNOUNCEMENT,
        payload_params=[system.code, contract],
        rows="stored",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            # Constants and the bus's SQL; every value is a parameter.
            f"WITH stored AS ({STORE}), announced AS ({announce}) SELECT id, event_id FROM stored",  # noqa: S608
            [
                system.pk,
                contract,
                now,
                InboxStatus.RECEIVED,
                json.dumps(rows, ensure_ascii=False),
                *announce_params,
            ],
        )
        stored = {event_id: pk for pk, event_id in cursor.fetchall()}
    if stored:
        published(event_id=announcement, dispatch_now=False)
    return stored


def inbound_receive(
    *, system: ExternalSystem, contract: str, documents: list[Any], now: datetime
) -> list[Receipt]:
    """Validate and store a request's documents; one receipt each, in order.

    Valid new events are stored and published; a repeat of a stored event gets its first
    answer; a different document under a stored event id is a conflict (409); an invalid
    one is refused (400) with its problems. Nothing of a refused document is stored.
    """
    receipts: list[Receipt | None] = []
    fresh: dict[str, dict[str, Any]] = {}  # event id -> row to insert
    positions: dict[str, int] = {}
    digests: dict[int, str] = {}
    for document in documents:
        problems = contract_problems(contract, document)
        if problems:
            receipts.append(_refused(document, problems))
            continue
        event_id = document["event_id"]
        digests[len(receipts)] = _digest(document)
        if event_id in positions:  # the same event twice in one batch: one row
            receipts.append(None)
            continue
        positions[event_id] = len(receipts)
        receipts.append(None)
        fresh[event_id] = {
            "event_id": event_id,
            "event_type": document["type"],
            "payload": document,
            "digest": digests[positions[event_id]],
            "corrects_event_id": document.get("corrects_event_id", ""),
            "cancelled": bool(document.get("cancelled", False)),
            "answer": {"event_id": event_id, "status": "received", "received_at": now.isoformat()},
        }
    stored = (
        _store(system=system, contract=contract, rows=list(fresh.values()), now=now)
        if fresh
        else {}
    )
    repeated = [event_id for event_id in fresh if event_id not in stored]
    known = (
        {
            row.event_id: row
            for row in InboundEvent.objects.filter(system=system, event_id__in=repeated).only(
                "event_id", "digest", "answer"
            )
        }
        if repeated
        else {}
    )
    for index, document in enumerate(documents):
        if receipts[index] is not None:
            continue
        event_id = document["event_id"]
        first = known.get(event_id)
        if first is None:  # stored by this request
            first_digest, answer = fresh[event_id]["digest"], fresh[event_id]["answer"]
        else:
            first_digest, answer = first.digest, first.answer
        if digests[index] == first_digest:
            receipt = Receipt(
                event_id, 202, answer, stored=first is None and positions[event_id] == index
            )
        else:
            message = _("Event %(id)s was received before with different content.") % {
                "id": event_id
            }
            receipt = Receipt(
                event_id,
                409,
                {"event_id": event_id, "status": "conflict", "detail": str(message)},
            )
        receipts[index] = receipt
    return [r for r in receipts if r is not None]


def inbound_finish(
    *, inbound: InboundEvent, status: str, result: dict[str, Any] | None = None, problem: str = ""
) -> InboundEvent:
    """Record what applying an event did (the caller holds its row lock)."""
    inbound.status = status
    inbound.result = result or {}
    inbound.problem = problem
    inbound.attempts += 1
    inbound.processed_at = timezone.now()
    inbound.save(update_fields=["status", "result", "problem", "attempts", "processed_at"])
    return inbound


def inbound_replay(*, inbound: InboundEvent) -> InboundEvent:
    """Apply an event again after an officer's review or a failure. Raises Conflict."""
    with transaction.atomic():
        locked = (
            InboundEvent.objects.select_for_update(of=("self",))
            .select_related("system")
            .get(pk=inbound.pk)
        )
        if locked.status not in (InboxStatus.REVIEW, InboxStatus.FAILED):
            raise Conflict(
                _("Only events in review or failed can be applied again; this one is %(s)s.")
                % {"s": locked.get_status_display()}
            )
        locked.status = InboxStatus.RECEIVED
        locked.save(update_fields=["status"])
        publish(
            RECEIVED_EVENT,
            {"system": locked.system.code, "contract": locked.contract, "ids": [locked.pk]},
        )
    return locked


def inbound_discard(*, inbound: InboundEvent, reason: str) -> InboundEvent:
    """An officer decides an event in review is not to be applied. Raises Conflict."""
    with transaction.atomic():
        locked = InboundEvent.objects.select_for_update().get(pk=inbound.pk)
        if locked.status not in (InboxStatus.REVIEW, InboxStatus.FAILED):
            raise Conflict(_("Only events in review or failed can be discarded."))
        locked.status = InboxStatus.DISCARDED
        locked.problem = f"{locked.problem}\n{reason}".strip()
        locked.save(update_fields=["status", "problem"])
    return locked
