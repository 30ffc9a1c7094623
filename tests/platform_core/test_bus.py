"""The event bus: outbox in the caller's transaction, idempotent delivery, retries, dead letters."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from platform_core import bus
from platform_core.enums import DeliveryStatus
from platform_core.errors import Conflict
from platform_core.models import EventDelivery, OutboxEvent
from tests.platform_core import handlers

pytestmark = pytest.mark.django_db(transaction=True)


def seen_for(event: OutboxEvent) -> int:
    return OutboxEvent.objects.filter(event_type="tests.seen", payload__of=str(event.id)).count()


def test_published_event_is_delivered_to_its_handler_after_commit():
    with transaction.atomic():
        event = bus.publish("tests.ping", {"n": 1})
        assert EventDelivery.objects.count() == 0  # nothing runs before commit
    delivery = EventDelivery.objects.get(event=event)
    assert delivery.status == DeliveryStatus.DONE
    assert delivery.finished_at is not None
    assert seen_for(event) == 1


def test_rolled_back_transaction_publishes_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        bus.publish("tests.ping", {"n": 2})
        raise RuntimeError("the business change failed")
    assert not OutboxEvent.objects.filter(event_type="tests.ping").exists()


def test_repeated_delivery_runs_the_handler_once():
    event = bus.publish("tests.ping", {"n": 3})
    delivery = EventDelivery.objects.get(event=event)
    for _ in range(3):
        bus.delivery_run(delivery_id=delivery.pk)
    bus.event_dispatch(event_id=str(event.id))  # a re-dispatch creates no second delivery
    assert EventDelivery.objects.filter(event=event).count() == 1
    assert seen_for(event) == 1


def test_failing_handler_is_retried_with_backoff_then_succeeds(settings):
    settings.EVENTS_BACKOFF_BASE_SECONDS = 10
    event = bus.publish("tests.flaky", {"fail_times": 2})
    delivery = EventDelivery.objects.get(event=event)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert "refusing" in delivery.last_error
    first_wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert 5 < first_wait <= 10
    # Not due yet: nothing is redelivered.
    assert bus.deliveries_redeliver_due(now=timezone.now()) == 0
    assert bus.deliveries_redeliver_due(now=delivery.next_attempt_at) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert (delivery.next_attempt_at - timezone.now()).total_seconds() > 15  # doubled
    bus.deliveries_redeliver_due(now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DONE
    assert seen_for(event) == 1


def test_exhausted_retries_become_a_dead_letter_that_can_be_replayed(settings):
    settings.EVENTS_MAX_ATTEMPTS = 2
    event = bus.publish("tests.flaky", {"fail_times": 3})
    delivery = EventDelivery.objects.get(event=event)
    bus.delivery_run(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD
    assert delivery.next_attempt_at is None
    assert bus.deliveries_redeliver_due(now=timezone.now()) == 0  # dead letters wait for a person
    handlers.FAIL_TIMES[str(event.id)] = 0  # the cause was fixed
    bus.delivery_replay(delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DONE
    assert seen_for(event) == 1
    with pytest.raises(Conflict):
        bus.delivery_replay(delivery=delivery)


def test_events_left_undispatched_by_a_crash_are_dispatched_by_the_sweep():
    # As if the process died between commit and its on-commit hook.
    event = OutboxEvent.objects.create(
        event_type="tests.ping", payload={"n": 4}, created_at=timezone.now()
    )
    assert bus.outbox_dispatch_pending() == 1
    event.refresh_from_db()
    assert event.dispatched_at is not None
    assert seen_for(event) == 1
    assert bus.outbox_dispatch_pending() == 0


def test_stats_count_lag_and_failures(settings):
    settings.EVENTS_MAX_ATTEMPTS = 1
    bus.publish("tests.ping", {"n": 5})
    bus.publish("tests.ping", {"n": 6})
    bus.publish("tests.flaky", {"fail_times": 1})
    stats = {row["event_type"]: row for row in bus.event_stats()}
    assert stats["tests.ping"]["published"] == 2
    assert stats["tests.ping"]["done"] == 2
    assert stats["tests.ping"]["avg_lag_seconds"] is not None
    assert stats["tests.flaky"]["dead"] == 1
    assert stats["tests.seen"]["published"] == 2


def test_unknown_handler_is_recorded_as_failure_not_lost():
    event = bus.publish("tests.ping", {"n": 7})
    delivery = EventDelivery.objects.create(
        event=event,
        handler="no.such.handler",
        created_at=timezone.now(),
        next_attempt_at=timezone.now(),
    )
    bus.delivery_run(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "No handler named no.such.handler" in delivery.last_error


def seen_batches(events: list[OutboxEvent]) -> list[int]:
    """The size of the batch each event was handled in (once per time it was handled)."""
    ids = [str(event.id) for event in events]
    return [
        seen.payload["batch"]
        for seen in OutboxEvent.objects.filter(event_type="tests.seen").order_by("created_at")
        if seen.payload["of"] in ids
    ]


def test_events_of_one_transaction_reach_a_batch_handler_together():
    with transaction.atomic():
        events = [bus.publish("tests.batch", {"n": n}) for n in range(3)]
    assert seen_batches(events) == [3, 3, 3]
    deliveries = EventDelivery.objects.filter(event__in=events)
    assert [d.status for d in deliveries] == [DeliveryStatus.DONE] * 3
    assert {d.attempts for d in deliveries} == {1}
    # Run again, whole or one by one: done, nothing handled twice.
    bus.deliveries_run(delivery_ids=[d.pk for d in deliveries])
    bus.delivery_run(delivery_id=deliveries[0].pk)
    assert seen_batches(events) == [3, 3, 3]


def test_batches_are_at_most_the_batch_size(settings):
    settings.EVENTS_BATCH_SIZE = 2
    with transaction.atomic():
        events = [bus.publish("tests.batch", {"n": n}) for n in range(5)]
    # The batches after the first are queued (for other workers) before the first runs.
    assert seen_batches(events) == [2, 2, 1, 2, 2]


def test_a_failing_batch_runs_each_alone_and_only_the_failing_one_is_retried():
    with transaction.atomic():
        first = bus.publish("tests.batch", {"n": 1})
        poisoned = bus.publish("tests.batch", {"n": 2, "poison": True})
        last = bus.publish("tests.batch", {"n": 3})
    assert seen_batches([first, last]) == [1, 1]  # each alone after the batch failed
    assert seen_batches([poisoned]) == []
    failed = EventDelivery.objects.get(event=poisoned)
    assert failed.status == DeliveryStatus.FAILED
    assert failed.attempts == 1
    assert "a poisoned event" in failed.last_error
    assert {d.status for d in EventDelivery.objects.filter(event__in=[first, last])} == {
        DeliveryStatus.DONE
    }


def test_an_event_rolled_back_with_its_savepoint_is_not_dispatched_and_the_rest_are():
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            bus.publish("tests.ping", {"n": 8})
            raise RuntimeError("this part failed")
        kept = bus.publish("tests.ping", {"n": 9})
    assert not OutboxEvent.objects.filter(event_type="tests.ping", payload__n=8).exists()
    assert seen_for(kept) == 1


def test_the_poller_dispatches_in_batches(settings):
    settings.EVENTS_BATCH_SIZE = 2
    now = timezone.now()
    events = [
        OutboxEvent.objects.create(event_type="tests.batch", payload={"n": n}, created_at=now)
        for n in range(3)
    ]  # as if the process died before its after-commit hook
    assert bus.outbox_dispatch_pending() == 3
    assert sorted(seen_batches(events)) == [1, 2, 2]
