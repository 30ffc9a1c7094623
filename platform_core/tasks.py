"""Celery tasks of the event bus: thin wrappers over platform_core.bus."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from platform_core import bus
from platform_core.enums import DeliveryStatus
from platform_core.models import EventDelivery


@shared_task(name="platform_core.dispatch_events")
def dispatch_events(*, event_ids: list[str]) -> int:
    with bus.cascade():
        return len(bus.events_dispatch(event_ids=event_ids))


@shared_task(name="platform_core.dispatch_event")
def dispatch_event(*, event_id: str) -> int:  # queued before dispatch_events existed
    return dispatch_events(event_ids=[event_id])


@shared_task(name="platform_core.deliver_events")
def deliver_events(*, delivery_ids: list[int]) -> dict[str, int]:
    with bus.cascade():
        deliveries = deliveries_run_and_retry(delivery_ids)
    outcome = {"busy": len(delivery_ids) - len(deliveries)}
    for delivery in deliveries:
        outcome[delivery.status] = outcome.get(delivery.status, 0) + 1
    return outcome


@shared_task(name="platform_core.deliver_event")
def deliver_event(*, delivery_id: int) -> dict[str, int]:  # a retry's, or queued before
    return deliver_events(delivery_ids=[delivery_id])


def deliveries_run_and_retry(delivery_ids: list[int]) -> list[EventDelivery]:
    """Run deliveries (in their task, or in a cascade); schedule the retry of each failed."""
    deliveries = bus.deliveries_run(delivery_ids=delivery_ids)
    # With a real worker a retry is scheduled at its backoff; in-process (eager) mode leaves
    # it to redeliver_due so a failing handler cannot loop inside one request.
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        for delivery in deliveries:
            if delivery.status == DeliveryStatus.FAILED:
                deliver_event.apply_async(
                    kwargs={"delivery_id": delivery.pk},
                    countdown=bus.backoff_seconds(delivery.attempts),
                )
    return deliveries


@shared_task(name="platform_core.dispatch_outbox")
def dispatch_outbox() -> int:
    return bus.outbox_dispatch_pending()


@shared_task(name="platform_core.redeliver_due")
def redeliver_due() -> int:
    return bus.deliveries_redeliver_due(now=timezone.now())
