"""Inter-agency requests (as over СМЭВ): ask once, wait with a deadline, retry, reuse, erase.

`data_request` records who asks for what and for which case. Asks for the same data (kind,
subject, parameters) share one `DataExchange` while it is in flight or its answer is still
valid: the agency is asked once (the once-only principle). `exchange_send` makes one try at
an exchange through its kind's port, under a lease so that two workers never send the same
exchange at once and a worker killed mid-call leaves it to be tried again; a transient failure
is retried with exponential backoff until the kind's deadline, after which the exchange
expires. Every outcome that matters to a case is published on the bus:
`integration.data_answered` (answered or no record), `integration.data_failed` (refused or
expired), each with the asks and their cases. Answers are erased after their retention
(`exchanges_purge`), or once their reuse window is over and no case needs them.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from integration.enums import AttemptOutcome, DataKind, ExchangeStatus
from integration.models import DataExchange, DataRequest, ExchangeAttempt, ExternalSystem
from integration.models.interagency import IN_FLIGHT
from integration.ports import KINDS, Outcome, port_for, retry_delay
from integration.services.http import CircuitOpen
from platform_core.bus import publish
from platform_core.errors import Conflict, DomainError

ANSWERED_EVENT = "integration.data_answered"
FAILED_EVENT = "integration.data_failed"
ANSWERED = [ExchangeStatus.ANSWERED, ExchangeStatus.NOT_FOUND]
MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
# How long a worker may hold an exchange it is sending before another may try it again.
LEASE = timedelta(seconds=60)


class InvalidDataRequest(DomainError):
    code = "invalid_data_request"

    def __init__(self, problems: dict[str, str]):
        super().__init__(_("The request for data is not valid."))
        self.problems = problems


class NoProvider(DomainError):
    """No system is set up to answer for a data kind (a setting to fix, not a fault)."""

    status = 409
    code = "no_provider"


def _subject(subject: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    problems: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name in ("last_name", "first_name"):
        value = str(subject.get(name) or "").strip()
        if not value:
            problems[f"subject.{name}"] = str(_("This field is required."))
        clean[name] = value
    if subject.get("patronymic"):
        clean["patronymic"] = str(subject["patronymic"]).strip()
    birth = subject.get("birth_date")
    try:
        clean["birth_date"] = date.fromisoformat(str(birth)).isoformat()
    except ValueError:
        problems["subject.birth_date"] = str(_("Must be a date as YYYY-MM-DD."))
    if subject.get("snils"):
        clean["snils"] = str(subject["snils"])
    return clean, problems


def _params(kind: str, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    if not KINDS[kind].period_params:
        return {}, {}
    problems: dict[str, str] = {}
    for name in ("from", "to"):
        if not MONTH.match(str(params.get(name) or "")):
            problems[f"params.{name}"] = str(_("Must be a month as YYYY-MM."))
    if not problems and params["from"] > params["to"]:
        problems["params.to"] = str(_("Ends before it starts."))
    return {"from": params.get("from"), "to": params.get("to")}, problems


def data_key(kind: str, subject: dict[str, Any], params: dict[str, Any]) -> str:
    """The digest naming one piece of data: the same for every ask for it."""
    who = subject.get("snils") or "|".join(
        [
            subject["last_name"].lower(),
            subject["first_name"].lower(),
            subject.get("patronymic", "").lower(),
            subject["birth_date"],
        ]
    )
    text = json.dumps([kind, who, params], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def provider_of(kind: str) -> ExternalSystem:
    """The active system that answers for kind. Raises NoProvider."""
    found = (
        ExternalSystem.objects.filter(active=True, provides__contains=[kind])
        .exclude(base_url="")
        .order_by("code")
        .first()
    )
    if found is None:
        raise NoProvider(
            _("No active system answers requests for %(kind)s.") % {"kind": DataKind(kind).label}
        )
    return found


def data_request(
    *,
    kind: str,
    subject: dict[str, Any],
    params: dict[str, Any] | None = None,
    region_id: str,
    case_ref: str,
    person_id: int | None = None,
    purpose: str = "",
    requested_by: Any = None,
    now: datetime,
) -> DataRequest:
    """Ask for data for a case; the agency is asked only if no valid answer or ask exists.

    Raises InvalidDataRequest (problems by field) or NoProvider. An ask answered by an earlier
    exchange publishes its `integration.data_answered` at once (after commit).
    """
    if kind not in KINDS:
        raise InvalidDataRequest({"kind": str(_("Unknown data kind."))})
    clean_subject, problems = _subject(subject)
    clean_params, param_problems = _params(kind, params or {})
    problems.update(param_problems)
    if not case_ref.strip():
        problems["case_ref"] = str(_("This field is required."))
    if problems:
        raise InvalidDataRequest(problems)
    key = data_key(kind, clean_subject, clean_params)
    with transaction.atomic():
        exchange, reused = _exchange_for(kind, key, clean_subject, clean_params, now)
        ask = DataRequest.objects.create(
            exchange=exchange,
            kind=kind,
            region_id=region_id,
            person_id=person_id,
            case_ref=case_ref,
            purpose=purpose,
            requested_by=requested_by,
            requested_at=now,
            reused=reused,
        )
        if exchange.status in ANSWERED:
            _publish_outcome(exchange, [ask])
        elif not reused:
            _send_after_commit(exchange)
    return ask


def _exchange_for(
    kind: str, key: str, subject: dict[str, Any], params: dict[str, Any], now: datetime
) -> tuple[DataExchange, bool]:
    """The exchange that answers this data: in flight, still valid, or new."""
    for _attempt in range(3):
        # Locked: an answer being recorded right now waits for this ask to commit (and so
        # tells it too), or is recorded first and this ask sees it answered.
        found = (
            DataExchange.objects.select_for_update()
            .filter(key=key)
            .filter(
                Q(status__in=IN_FLIGHT)
                | Q(status__in=ANSWERED, valid_until__gt=now, purged_at=None)
            )
            .order_by("-created_at")
            .first()
        )
        if found is not None:
            return found, True
        try:
            with transaction.atomic():
                return (
                    DataExchange.objects.create(
                        kind=kind,
                        provider=provider_of(kind),
                        key=key,
                        subject=subject,
                        params=params,
                        created_at=now,
                        deadline_at=now + KINDS[kind].deadline,
                        next_attempt_at=now,
                    ),
                    False,
                )
        except IntegrityError:
            continue  # another ask created it a moment ago: join it
    raise Conflict(_("The data is being asked for by others right now; try again."))


def _send_after_commit(exchange: DataExchange) -> None:
    from integration.tasks import send_exchange

    exchange_id = str(exchange.id)
    transaction.on_commit(lambda: send_exchange.delay(exchange_id=exchange_id))


def _claim(exchange_id: str, now: datetime) -> DataExchange | None:
    """Take the exchange for one try, if it is due and nobody holds it."""
    claimed = (
        DataExchange.objects.filter(pk=exchange_id, status__in=IN_FLIGHT, next_attempt_at__lte=now)
        .filter(Q(lease_until=None) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE)
    )
    if not claimed:
        return None
    return DataExchange.objects.select_related("provider").get(pk=exchange_id)


def exchange_send(*, exchange_id: str, now: datetime) -> DataExchange | None:
    """Make one try at an exchange if it is due: send it, or ask after it. Returns it, or None
    when it was not due or another worker holds it."""
    exchange = _claim(exchange_id, now)
    if exchange is None:
        return None
    if exchange.deadline_at <= now:
        exchanges_expire(now=now, ids=[exchange.pk])
        exchange.refresh_from_db()
        return exchange
    port = port_for(exchange.kind)
    try:
        if exchange.status == ExchangeStatus.WAITING:
            outcome = port.poll(exchange, now=now)
        else:
            outcome = port.send(exchange, now=now)
    except CircuitOpen as exc:
        outcome = Outcome(AttemptOutcome.CIRCUIT_OPEN, error=str(exc))
        reopen = exc.until
    else:
        reopen = None
    return _record(exchange, outcome, now=now, reopen=reopen)


def _record(
    exchange: DataExchange, outcome: Outcome, *, now: datetime, reopen: datetime | None
) -> DataExchange:
    with transaction.atomic():
        locked = DataExchange.objects.select_for_update().get(pk=exchange.pk)
        if locked.status not in IN_FLIGHT or locked.lease_until != exchange.lease_until:
            return locked  # expired, or retaken after our lease ran out: theirs counts
        counted = outcome.kind != AttemptOutcome.CIRCUIT_OPEN
        if counted:
            locked.attempts += 1
            ExchangeAttempt.objects.create(
                exchange=locked,
                number=locked.attempts,
                started_at=now,
                latency_ms=outcome.latency_ms,
                http_status=outcome.http_status,
                outcome=outcome.kind,
                error=outcome.error,
            )
            locked.first_sent_at = locked.first_sent_at or now
        locked.lease_until = None
        locked.problem = outcome.error
        spec = KINDS[locked.kind]
        if outcome.kind in (AttemptOutcome.ANSWERED, AttemptOutcome.NOT_FOUND):
            locked.status = (
                ExchangeStatus.ANSWERED
                if outcome.kind == AttemptOutcome.ANSWERED
                else ExchangeStatus.NOT_FOUND
            )
            locked.answer = outcome.data
            locked.answer_digest = hashlib.sha256(
                json.dumps(outcome.data, sort_keys=True).encode()
            ).hexdigest()
            locked.answered_at = now
            locked.latency_ms = max(0, round((now - locked.first_sent_at).total_seconds() * 1000))
            locked.latency_ms += outcome.latency_ms or 0
            locked.valid_until = now + spec.validity
            locked.purge_after = now + spec.retention
            locked.next_attempt_at = None
        elif outcome.kind == AttemptOutcome.REFUSED:
            locked.status = ExchangeStatus.FAILED
            locked.next_attempt_at = None
        elif outcome.kind == AttemptOutcome.ACCEPTED:
            locked.status = ExchangeStatus.WAITING
            locked.next_attempt_at = now + max(
                timedelta(seconds=settings.INTEGRATION_POLL_SECONDS),
                retry_delay(locked.attempts) / 4,
            )
        elif outcome.kind == AttemptOutcome.UNKNOWN:
            locked.status = ExchangeStatus.PENDING  # the provider lost it: send it again
            locked.next_attempt_at = now
        elif outcome.kind == AttemptOutcome.CIRCUIT_OPEN:
            locked.next_attempt_at = reopen
        else:
            locked.next_attempt_at = now + retry_delay(locked.attempts)
        locked.save()
        if locked.status not in IN_FLIGHT:
            _publish_outcome(locked, list(locked.requests.filter(released_at=None)))
    return locked


def _publish_outcome(exchange: DataExchange, asks: list[DataRequest]) -> None:
    if not asks:
        return
    answered = exchange.status in ANSWERED
    publish(
        ANSWERED_EVENT if answered else FAILED_EVENT,
        {
            "exchange": str(exchange.pk),
            "kind": exchange.kind,
            "status": exchange.status,
            "requests": [ask.pk for ask in asks],
            "cases": sorted({ask.case_ref for ask in asks}),
            "problem": exchange.problem,
        },
    )


def exchanges_expire(*, now: datetime, ids: list[Any] | None = None) -> int:
    """End the exchanges whose deadline passed with no answer; publish it for their cases."""
    overdue = DataExchange.objects.filter(status__in=IN_FLIGHT, deadline_at__lte=now)
    if ids is not None:
        overdue = overdue.filter(pk__in=ids)
    count = 0
    with transaction.atomic():
        for exchange in overdue.select_for_update(skip_locked=True):
            exchange.status = ExchangeStatus.EXPIRED
            exchange.next_attempt_at = None
            exchange.lease_until = None
            exchange.problem = str(
                _("No answer by the deadline (%(deadline)s).")
                % {"deadline": exchange.deadline_at.isoformat(timespec="minutes")}
            )
            exchange.save(update_fields=["status", "next_attempt_at", "lease_until", "problem"])
            _publish_outcome(exchange, list(exchange.requests.filter(released_at=None)))
            count += 1
    return count


def exchanges_due(*, now: datetime, limit: int = 200) -> list[str]:
    """The ids of exchanges due for a try now (expiring the overdue first)."""
    exchanges_expire(now=now)
    return [
        str(pk)
        for pk in DataExchange.objects.filter(status__in=IN_FLIGHT, next_attempt_at__lte=now)
        .filter(Q(lease_until=None) | Q(lease_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    ]


def exchange_retry(*, exchange: DataExchange, now: datetime) -> DataExchange:
    """Ask again for the data of a refused or expired exchange, for the same cases.

    Raises Conflict if the exchange is not refused or expired, or the data is asked for again
    already.
    """
    with transaction.atomic():
        locked = DataExchange.objects.select_for_update().get(pk=exchange.pk)
        if locked.status not in (ExchangeStatus.FAILED, ExchangeStatus.EXPIRED):
            raise Conflict(
                _("Only a refused or expired exchange is asked again; this one is %(s)s.")
                % {"s": locked.get_status_display()}
            )
        try:
            with transaction.atomic():
                fresh = DataExchange.objects.create(
                    kind=locked.kind,
                    provider=provider_of(locked.kind),
                    key=locked.key,
                    subject=locked.subject,
                    params=locked.params,
                    created_at=now,
                    deadline_at=now + KINDS[locked.kind].deadline,
                    next_attempt_at=now,
                )
        except IntegrityError:
            raise Conflict(_("This data is being asked for again already.")) from None
        locked.requests.filter(released_at=None).update(exchange=fresh)
        _send_after_commit(fresh)
    return fresh


def data_release(*, case_ref: str, now: datetime) -> int:
    """The case no longer needs the data it asked for: its answers may be erased sooner."""
    return data_release_many(case_refs=[case_ref], now=now)


def data_release_many(*, case_refs: list[str], now: datetime) -> int:
    """data_release of many cases in one statement; how many requests were released."""
    return DataRequest.objects.filter(case_ref__in=case_refs, released_at=None).update(
        released_at=now
    )


def exchanges_purge(*, now: datetime) -> int:
    """Erase the answers kept long enough; the log of who asked and when stays.

    An answer goes when its kind's retention is over, or sooner, when its reuse window is
    over and every case that asked for it has released it.
    """
    still_needed = DataRequest.objects.filter(exchange=OuterRef("pk"), released_at=None)
    return (
        DataExchange.objects.filter(purged_at=None, answered_at__isnull=False)
        .filter(Q(purge_after__lte=now) | Q(valid_until__lte=now) & ~Exists(still_needed))
        .update(answer=None, purged_at=now, valid_until=now)
    )
