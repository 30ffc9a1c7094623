"""Celery tasks of the event bus: thin wrappers over platform_core.bus."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from platform_core import bus
from platform_core.enums import DeliveryStatus
from platform_core.models import EventDelivery


@shared_task(name="platform_core.dispatch_event")
def dispatch_event(*, event_id: str) -> int:
    with bus.cascade():
        return len(bus.event_dispatch(event_id=event_id))


@shared_task(name="platform_core.deliver_event")
def deliver_event(*, delivery_id: int) -> str:
    with bus.cascade():
        delivery = delivery_run_and_retry(delivery_id)
    return "busy" if delivery is None else delivery.status


def delivery_run_and_retry(delivery_id: int) -> EventDelivery | None:
    """Run a delivery (in its task, or in a cascade); if it failed, schedule its retry."""
    delivery = bus.delivery_run(delivery_id=delivery_id)
    # With a real worker the retry is scheduled at its backoff; in-process (eager) mode
    # leaves it to redeliver_due so a failing handler cannot loop inside one request.
    if (
        delivery is not None
        and delivery.status == DeliveryStatus.FAILED
        and not settings.CELERY_TASK_ALWAYS_EAGER
    ):
        countdown = bus.backoff_seconds(delivery.attempts)
        deliver_event.apply_async(kwargs={"delivery_id": delivery_id}, countdown=countdown)
    return delivery


@shared_task(name="platform_core.dispatch_outbox")
def dispatch_outbox() -> int:
    return bus.outbox_dispatch_pending()


@shared_task(name="platform_core.redeliver_due")
def redeliver_due() -> int:
    return bus.deliveries_redeliver_due(now=timezone.now())
