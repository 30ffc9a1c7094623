"""The event bus: publish into the outbox, dispatch to subscribers, deliver idempotently.

publish() writes in the caller's transaction, so an event exists if and only if the change
that caused it was committed. After commit the event is dispatched: one EventDelivery row
per subscribed handler. A delivery runs its handler inside a transaction that also marks the
delivery done, under a row lock, so a handler's database work happens once per event even
when the task is delivered twice. Failures are retried with exponential backoff and end as
dead letters that an operator can replay.

The events one transaction publishes are dispatched together. A handler subscribed with
`batch=True` takes a list of events: the deliveries of one dispatch run together, up to
EVENTS_BATCH_SIZE in one transaction, so set-based work pays one commit and one round of
bookkeeping for many events. If a batch fails, each of its deliveries runs alone, and only
the failing one is retried.

In a worker's bus task the events a handler publishes are dispatched, and their deliveries
run, by the same task once the handler's transaction commits (the cascade of a batch of life
events runs in one task, not as a task per event and per handler), up to
EVENTS_CASCADE_LIMIT steps a task; past it, outside bus tasks, and for the second and later
batches of one dispatch (work for the other worker processes), they go through the broker.
Each step keeps its own transaction and delivery rows, so what is left undone when a worker
dies is found as before, by the outbox poller and by redeliver_due.
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Avg, Count, F, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from platform_core.batches import insert_deferred
from platform_core.enums import DeliveryStatus
from platform_core.errors import Conflict
from platform_core.models import EventDelivery, OutboxEvent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """What a handler receives: plain data, never model instances of the publisher."""

    id: str
    type: str
    payload: dict[str, Any]
    created_at: datetime


Handler = Callable[[Event], None]
BatchHandler = Callable[[list[Event]], None]
_subscribers: dict[str, dict[str, Handler | BatchHandler]] = {}
_batch_handlers: set[str] = set()
# Events published with dispatch_now in this thread's transaction, dispatched together after
# its commit (those of a rolled-back transaction are not in the outbox: dispatch skips them).
_local = threading.local()
# The steps a bus task may still run itself (a list, so callbacks can spend it); None
# outside bus tasks.
_cascade: ContextVar[list[int] | None] = ContextVar("bus_cascade", default=None)


@contextmanager
def cascade() -> Iterator[None]:
    """Run what the events published within go on to dispatch and deliver in this task."""
    token = _cascade.set([settings.EVENTS_CASCADE_LIMIT])
    try:
        yield
    finally:
        _cascade.reset(token)


def _cascading() -> bool:
    """Tell whether the next step runs here, and count it."""
    budget = _cascade.get()
    if not budget or budget[0] <= 0:
        return False
    budget[0] -= 1
    return True


def _step(run: Callable[[], Any], what: str) -> None:
    # A step that fails here is left as it stands (undispatched, or a delivery not done) for
    # the outbox poller and redeliver_due: the task that ran it has committed its own work.
    try:
        run()
    except Exception:
        logger.exception("Bus: %s left for the poller", what)


def subscribe(event_type: str, *, name: str | None = None, batch: bool = False) -> Callable:
    """Register the decorated function as a handler of event_type; with `batch` it takes a
    list of events (one or more, in the order they were published)."""

    def register(func: Any) -> Any:
        handler_name = name or f"{func.__module__}.{func.__qualname__}"
        _subscribers.setdefault(event_type, {})[handler_name] = func
        if batch:
            _batch_handlers.add(handler_name)
        else:
            _batch_handlers.discard(handler_name)
        return func

    return register


def subscribers_of(event_type: str) -> dict[str, Handler | BatchHandler]:
    return dict(_subscribers.get(event_type, {}))


def handler_by_name(handler_name: str) -> Handler | BatchHandler | None:
    for handlers in _subscribers.values():
        if handler_name in handlers:
            return handlers[handler_name]
    return None


def takes_batches(handler_name: str) -> bool:
    return handler_name in _batch_handlers


def publish(
    event_type: str,
    payload: dict[str, Any],
    *,
    actor_id: int | None = None,
    dispatch_now: bool = True,
) -> OutboxEvent:
    """Write an event to the outbox in the current transaction; dispatch it after commit.

    With `dispatch_now=False` (events published at high rates, such as what external systems
    send) the request that publishes does not pay a broker round trip: the outbox poller of
    Celery beat dispatches it within OUTBOX_POLL_SECONDS. Without a broker (the embedded
    mode, which runs no beat) it is dispatched after commit all the same.
    """
    # Round-trip through JSON so handlers get exactly what a worker would read back.
    plain = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    now = timezone.now()
    # An event no one subscribes to is kept (the outbox is the record of what happened) and
    # has nothing to dispatch.
    wanted = bool(subscribers_of(event_type))
    event = OutboxEvent(
        event_type=event_type,
        payload=plain,
        created_at=now,
        dispatched_at=None if wanted else now,
        actor_id=actor_id,
    )

    def dispatch() -> None:
        if wanted:
            published(event_id=str(event.id), dispatch_now=dispatch_now)

    # In a batch (platform_core.batches) it is written with the batch's other events.
    if not insert_deferred(event, then=dispatch):
        event.save(force_insert=True)
        dispatch()
    return event


def publish_sql(
    event_type: str,
    *,
    payload_sql: str,
    payload_params: list[Any],
    rows: str,
    actor_id: int | None = None,
) -> tuple[str, list[Any], str]:
    """An INSERT of one outbox event, for a caller that publishes in its own SQL statement.

    Returns the SQL, its parameters and the event's id. The SQL is meant as a CTE of the
    statement that makes the change: it writes the event only if the CTE named `rows` has
    rows, with the payload `payload_sql` builds from them (an SQL expression, aggregating).
    Written by the statement that makes the change, the event exists if and only if the
    change does, as with publish(), and the caller saves a round trip, and outside a
    transaction a BEGIN and a COMMIT too. Once the statement wrote the event, the caller
    calls `published()`.
    """
    event_id = str(uuid.uuid4())
    # The table and the caller's SQL are code; every value is a parameter.
    sql = (
        f"INSERT INTO {OutboxEvent._meta.db_table}"  # noqa: S608
        " (id, event_type, payload, created_at, dispatched_at, actor_id)"
        f" SELECT %s::uuid, %s, {payload_sql}, %s, NULL, %s FROM {rows} HAVING count(*) > 0"
    )
    return sql, [event_id, event_type, *payload_params, timezone.now(), actor_id], event_id


def published(*, event_id: str, dispatch_now: bool = True) -> None:
    """Dispatch an event written to the outbox once its transaction commits (see publish).

    The events of one transaction are dispatched together, by the first of their after-commit
    hooks (a hook registered in a savepoint that rolled back is dropped; a later one remains).
    """
    if dispatch_now or settings.CELERY_TASK_ALWAYS_EAGER:
        _undispatched().append(event_id)
        transaction.on_commit(_dispatch_committed)


def _undispatched() -> list[str]:
    if not hasattr(_local, "events"):
        _local.events = []
    return _local.events  # type: ignore[no-any-return]


def _dispatch_committed() -> None:
    from platform_core.tasks import dispatch_events

    event_ids, _local.events = _undispatched(), []
    if not event_ids:
        return  # dispatched by an earlier hook of the same commit
    if _cascading():
        _step(lambda: events_dispatch(event_ids=event_ids), f"{len(event_ids)} events")
    else:
        dispatch_events.delay(event_ids=event_ids)


def event_dispatch(*, event_id: str) -> list[int]:
    """Create the deliveries of one committed event (see events_dispatch)."""
    return events_dispatch(event_ids=[event_id])


def events_dispatch(*, event_ids: list[str]) -> list[int]:
    """Create the deliveries of committed events; return their ids (none for an event
    dispatched before, or not in the outbox).

    Two statements: marking the events dispatched (which takes their row locks, so a second
    dispatcher waits and then finds them done), and the deliveries' INSERT; events no one
    subscribes to are only marked.
    """
    events, deliveries = OutboxEvent._meta.db_table, EventDelivery._meta.db_table
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {events} SET dispatched_at = %s"  # noqa: S608 (table names are code)
            " WHERE id = ANY(%s::uuid[]) AND dispatched_at IS NULL RETURNING id, event_type",
            [now, event_ids],
        )
        marked = dict(cursor.fetchall())
        pairs = [
            (str(event_id), handler)
            for event_id in event_ids
            if (event_type := marked.get(uuid.UUID(event_id))) is not None
            for handler in subscribers_of(event_type)
        ]
        if not pairs:
            return []
        cursor.execute(
            f"INSERT INTO {deliveries}"  # noqa: S608
            " (event_id, handler, status, attempts, next_attempt_at, last_error, created_at)"
            " SELECT e, h, %s, 0, %s, '', %s FROM unnest(%s::uuid[], %s::text[]) AS p(e, h)"
            " ON CONFLICT (event_id, handler) DO NOTHING RETURNING id, handler",
            [DeliveryStatus.PENDING, now, now, [e for e, _ in pairs], [h for _, h in pairs]],
        )
        created = sorted(cursor.fetchall())  # in the order of the events
    _enqueue_deliveries(created)
    return [delivery_id for delivery_id, _handler in created]


def outbox_dispatch_pending(*, limit: int = 5000) -> int:
    """Dispatch committed events that were not dispatched yet (after a crash); return count."""
    ids = [
        str(event_id)
        for event_id in OutboxEvent.objects.filter(dispatched_at__isnull=True)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    ]
    for start in range(0, len(ids), settings.EVENTS_BATCH_SIZE):
        events_dispatch(event_ids=ids[start : start + settings.EVENTS_BATCH_SIZE])
    return len(ids)


def _enqueue_deliveries(deliveries: list[tuple[int, str]]) -> None:
    """Run deliveries (id, handler) after commit: a batch handler's together, in batches.

    The first run of each handler may go on in this task's cascade; the others are queued
    for the other worker processes, and queued first, before the cascade goes deep.
    """
    by_handler: dict[str, list[int]] = {}
    for delivery_id, handler in deliveries:
        by_handler.setdefault(handler, []).append(delivery_id)
    size = settings.EVENTS_BATCH_SIZE
    first, rest = [], []
    for handler, ids in by_handler.items():
        runs = (
            [ids[start : start + size] for start in range(0, len(ids), size)]
            if takes_batches(handler)
            else [[delivery_id] for delivery_id in ids]
        )
        first.append(runs[0])
        rest.extend(runs[1:])
    for run in rest:
        transaction.on_commit(lambda r=run: _deliver(r, inline=False))
    for run in first:
        transaction.on_commit(lambda r=run: _deliver(r))


def _deliver(delivery_ids: list[int], *, inline: bool = True) -> None:
    from platform_core.tasks import deliver_events, deliveries_run_and_retry

    if inline and _cascading():
        _step(lambda: deliveries_run_and_retry(delivery_ids), f"deliveries {delivery_ids[:3]}...")
    else:
        deliver_events.delay(delivery_ids=delivery_ids)


def backoff_seconds(attempts: int) -> float:
    return settings.EVENTS_BACKOFF_BASE_SECONDS * (2 ** max(attempts - 1, 0))


def delivery_run(*, delivery_id: int) -> EventDelivery | None:
    """Run one delivery's handler once; return the delivery, or None if busy or missing."""
    return next(iter(deliveries_run(delivery_ids=[delivery_id])), None)


def deliveries_run(*, delivery_ids: list[int]) -> list[EventDelivery]:
    """Run deliveries of one handler once; return those not busy elsewhere, as they end.

    The handler's writes and the deliveries' "done" commit together: a second run of the same
    delivery finds it done and does nothing. A batch handler gets the events of all the
    deliveries at once. A handler that fails rolls its transaction back whole; a batch then
    runs each delivery alone, and a single failure is recorded in a transaction of its own
    (no savepoint around every handler for the rare failure).
    """
    try:
        with transaction.atomic():
            locked = _deliveries_lock(delivery_ids)
            todo = [d for d in locked if d.status not in (DeliveryStatus.DONE, DeliveryStatus.DEAD)]
            if not todo:
                return locked
            name = todo[0].handler
            handler = handler_by_name(name)
            if handler is None:
                raise LookupError(f"No handler named {name} is registered.")
            if any(d.handler != name for d in todo):
                raise ValueError("A batch of deliveries must be of one handler.")
            events = [
                Event(
                    id=str(d.event.id),
                    type=d.event.event_type,
                    payload=d.event.payload,
                    created_at=d.event.created_at,
                )
                for d in todo
            ]
            if takes_batches(name):
                handler(events)
            elif len(events) == 1:
                handler(events[0])
            else:
                raise ValueError(f"Handler {name} takes one event at a time.")
            done = {
                "status": DeliveryStatus.DONE,
                "finished_at": timezone.now(),
                "next_attempt_at": None,
                "last_error": "",
            }
            EventDelivery.objects.filter(pk__in=[d.pk for d in todo]).update(
                attempts=F("attempts") + 1, **done
            )
            for delivery in todo:
                delivery.attempts += 1
                for field, value in done.items():
                    setattr(delivery, field, value)
            return locked
    except Exception as exc:  # the handler's failure is recorded, never lost
        if len(delivery_ids) > 1:  # which one failed: each alone
            return [
                run
                for delivery_id in delivery_ids
                if (run := delivery_run(delivery_id=delivery_id)) is not None
            ]
        failed = _delivery_failed(delivery_ids[0], exc)
        return [] if failed is None else [failed]


# What a run of a delivery changes.
DELIVERY_OUTCOME = ["attempts", "status", "finished_at", "next_attempt_at", "last_error"]


def _deliveries_lock(delivery_ids: list[int]) -> list[EventDelivery]:
    return list(
        EventDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("event")
        .filter(pk__in=delivery_ids)
        .order_by("pk")
    )


def _delivery_lock(delivery_id: int) -> EventDelivery | None:
    return next(iter(_deliveries_lock([delivery_id])), None)


def _delivery_failed(delivery_id: int, exc: Exception) -> EventDelivery | None:
    """Record a failed run: its error, and a retry after the backoff or a dead letter."""
    with transaction.atomic():
        delivery = _delivery_lock(delivery_id)
        if delivery is None or delivery.status in (DeliveryStatus.DONE, DeliveryStatus.DEAD):
            return delivery  # run meanwhile by another worker
        logger.warning("Handler %s failed on %s: %s", delivery.handler, delivery.event_id, exc)
        delivery.attempts += 1
        delivery.last_error = "".join(traceback.format_exception(exc))[-4000:]
        if delivery.attempts >= settings.EVENTS_MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.DEAD
            delivery.next_attempt_at = None
        else:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = timezone.now() + timedelta(
                seconds=backoff_seconds(delivery.attempts)
            )
        delivery.save(update_fields=DELIVERY_OUTCOME)
    return delivery


def deliveries_redeliver_due(*, now: datetime, limit: int = 500) -> int:
    """Run again the failed deliveries whose backoff has passed; return how many were queued."""
    due = list(
        EventDelivery.objects.filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED], next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .values_list("id", "handler")[:limit]
    )
    _enqueue_deliveries(due)
    return len(due)


def delivery_replay(*, delivery: EventDelivery) -> EventDelivery:
    """Queue a dead or failed delivery again with a fresh attempt budget.

    Raises Conflict if the delivery already succeeded or is running.
    """
    with transaction.atomic():
        locked = EventDelivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.status not in (DeliveryStatus.DEAD, DeliveryStatus.FAILED):
            raise Conflict(
                _("Only failed or dead deliveries can be replayed; this one is %(status)s.")
                % {"status": locked.get_status_display()}
            )
        locked.status = DeliveryStatus.PENDING
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.save(update_fields=["status", "attempts", "next_attempt_at"])
        _enqueue_deliveries([(locked.pk, locked.handler)])
    return locked


def event_stats(*, since: datetime | None = None) -> list[dict[str, Any]]:
    """Per event type: published, undispatched, deliveries by status, lag of finished ones."""
    events = OutboxEvent.objects.all()
    deliveries = EventDelivery.objects.all()
    if since is not None:
        events = events.filter(created_at__gte=since)
        deliveries = deliveries.filter(event__created_at__gte=since)
    rows: dict[str, dict[str, Any]] = {}
    for row in events.values("event_type").annotate(
        published=Count("id"),
        undispatched=Count("id", filter=Q(dispatched_at__isnull=True)),
        oldest_undispatched=Min("created_at", filter=Q(dispatched_at__isnull=True)),
    ):
        rows[row["event_type"]] = {
            "event_type": row["event_type"],
            "published": row["published"],
            "undispatched": row["undispatched"],
            "oldest_undispatched_at": row["oldest_undispatched"],
            **{status: 0 for status in DeliveryStatus.values},
            "avg_lag_seconds": None,
            "max_lag_seconds": None,
        }
    lag = F("finished_at") - F("event__created_at")
    for row in deliveries.values("event__event_type", "status").annotate(
        n=Count("id"), avg_lag=Avg(lag), max_lag=Max(lag)
    ):
        target = rows.get(row["event__event_type"])
        if target is None:
            continue
        target[row["status"]] = row["n"]
        if row["status"] == DeliveryStatus.DONE and row["avg_lag"] is not None:
            target["avg_lag_seconds"] = round(row["avg_lag"].total_seconds(), 3)
            target["max_lag_seconds"] = round(row["max_lag"].total_seconds(), 3)
    return sorted(rows.values(), key=lambda r: r["event_type"])
