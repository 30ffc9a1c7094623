"""The event bus: publish into the outbox, dispatch to subscribers, deliver idempotently.

publish() writes in the caller's transaction, so an event exists if and only if the change
that caused it was committed. After commit the event is dispatched: one EventDelivery row
per subscribed handler. A delivery runs its handler inside a transaction that also marks the
delivery done, under a row lock, so a handler's database work happens once per event even
when the task is delivered twice. Failures are retried with exponential backoff and end as
dead letters that an operator can replay.

In a worker's bus task the events a handler publishes are dispatched, and their deliveries
run, by the same task once the handler's transaction commits (the cascade of one life event
runs in one task, not as a task per event and per handler), up to EVENTS_CASCADE_LIMIT steps
a task; past it, and outside bus tasks, they go through the broker. Each step keeps its own
transaction and delivery row, so what is left undone when a worker dies is found as before,
by the outbox poller and by redeliver_due.
"""

from __future__ import annotations

import json
import logging
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
_subscribers: dict[str, dict[str, Handler]] = {}
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


def subscribe(event_type: str, *, name: str | None = None) -> Callable[[Handler], Handler]:
    """Register the decorated function as a handler of event_type."""

    def register(func: Handler) -> Handler:
        handler_name = name or f"{func.__module__}.{func.__qualname__}"
        _subscribers.setdefault(event_type, {})[handler_name] = func
        return func

    return register


def subscribers_of(event_type: str) -> dict[str, Handler]:
    return dict(_subscribers.get(event_type, {}))


def handler_by_name(handler_name: str) -> Handler | None:
    for handlers in _subscribers.values():
        if handler_name in handlers:
            return handlers[handler_name]
    return None


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
    event = OutboxEvent.objects.create(
        event_type=event_type,
        payload=plain,
        created_at=now,
        dispatched_at=None if wanted else now,
        actor_id=actor_id,
    )
    if wanted:
        published(event_id=str(event.id), dispatch_now=dispatch_now)
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
    """Dispatch an event written to the outbox once its transaction commits (see publish)."""
    if dispatch_now or settings.CELERY_TASK_ALWAYS_EAGER:
        transaction.on_commit(lambda: _dispatch(event_id))


def _dispatch(event_id: str) -> None:
    from platform_core.tasks import dispatch_event

    if _cascading():
        _step(lambda: event_dispatch(event_id=event_id), f"event {event_id}")
    else:
        dispatch_event.delay(event_id=event_id)


def event_dispatch(*, event_id: str) -> list[int]:
    """Create the deliveries of one committed event; return their ids (empty if done before).

    Two statements: marking the event dispatched (which takes its row lock, so a second
    dispatcher waits and then finds it done), and the deliveries' INSERT; an event no one
    subscribes to is only marked.
    """
    events, deliveries = OutboxEvent._meta.db_table, EventDelivery._meta.db_table
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {events} SET dispatched_at = %s"  # noqa: S608 (table names are code)
            " WHERE id = %s AND dispatched_at IS NULL RETURNING event_type",
            [now, event_id],
        )
        row = cursor.fetchone()
        handlers = list(subscribers_of(row[0])) if row else []
        if not handlers:
            return []
        cursor.execute(
            f"INSERT INTO {deliveries}"  # noqa: S608
            " (event_id, handler, status, attempts, next_attempt_at, last_error, created_at)"
            " SELECT %s, handler, %s, 0, %s, '', %s FROM unnest(%s::text[]) AS handler"
            " ON CONFLICT (event_id, handler) DO NOTHING RETURNING id",
            [event_id, DeliveryStatus.PENDING, now, now, handlers],
        )
        delivery_ids = [found for (found,) in cursor.fetchall()]
    _enqueue_deliveries(delivery_ids)
    return delivery_ids


def outbox_dispatch_pending(*, limit: int = 5000) -> int:
    """Dispatch committed events that were not dispatched yet (after a crash); return count."""
    ids = list(
        OutboxEvent.objects.filter(dispatched_at__isnull=True)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    for event_id in ids:
        event_dispatch(event_id=str(event_id))
    return len(ids)


def _enqueue_deliveries(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        transaction.on_commit(lambda d=delivery_id: _deliver(d))


def _deliver(delivery_id: int) -> None:
    from platform_core.tasks import deliver_event, delivery_run_and_retry

    if _cascading():
        _step(lambda: delivery_run_and_retry(delivery_id), f"delivery {delivery_id}")
    else:
        deliver_event.delay(delivery_id=delivery_id)


def backoff_seconds(attempts: int) -> float:
    return settings.EVENTS_BACKOFF_BASE_SECONDS * (2 ** max(attempts - 1, 0))


def delivery_run(*, delivery_id: int) -> EventDelivery | None:
    """Run one delivery's handler once; return the delivery, or None if busy or missing.

    The handler's writes and the delivery's "done" commit together: a second run of the same
    delivery finds it done and does nothing. A handler that fails rolls its transaction back
    whole; the failure is then recorded in a transaction of its own (no savepoint around
    every handler for the rare failure).
    """
    try:
        with transaction.atomic():
            delivery = _delivery_lock(delivery_id)
            if delivery is None or delivery.status in (DeliveryStatus.DONE, DeliveryStatus.DEAD):
                return delivery
            handler = handler_by_name(delivery.handler)
            if handler is None:
                raise LookupError(f"No handler named {delivery.handler} is registered.")
            event = delivery.event
            handler(
                Event(
                    id=str(event.id),
                    type=event.event_type,
                    payload=event.payload,
                    created_at=event.created_at,
                )
            )
            delivery.attempts += 1
            delivery.status = DeliveryStatus.DONE
            delivery.finished_at = timezone.now()
            delivery.next_attempt_at = None
            delivery.last_error = ""
            delivery.save(update_fields=DELIVERY_OUTCOME)
            return delivery
    except Exception as exc:  # the handler's failure is recorded, never lost
        return _delivery_failed(delivery_id, exc)


# What a run of a delivery changes.
DELIVERY_OUTCOME = ["attempts", "status", "finished_at", "next_attempt_at", "last_error"]


def _delivery_lock(delivery_id: int) -> EventDelivery | None:
    return (
        EventDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("event")
        .filter(pk=delivery_id)
        .first()
    )


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
    ids = list(
        EventDelivery.objects.filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED], next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
    _enqueue_deliveries(ids)
    return len(ids)


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
        _enqueue_deliveries([locked.pk])
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
