"""Celery tasks of the event bus: thin wrappers over platform_core.bus."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from platform_core import bus
from platform_core.enums import DeliveryStatus


@shared_task(name="platform_core.dispatch_event")
def dispatch_event(*, event_id: str) -> int:
    return len(bus.event_dispatch(event_id=event_id))


@shared_task(name="platform_core.deliver_event")
def deliver_event(*, delivery_id: int) -> str:
    delivery = bus.delivery_run(delivery_id=delivery_id)
    if delivery is None:
        return "busy"
    # With a real worker the retry is scheduled at its backoff; in-process (eager) mode
    # leaves it to redeliver_due so a failing handler cannot loop inside one request.
    if delivery.status == DeliveryStatus.FAILED and not settings.CELERY_TASK_ALWAYS_EAGER:
        countdown = bus.backoff_seconds(delivery.attempts)
        deliver_event.apply_async(kwargs={"delivery_id": delivery_id}, countdown=countdown)
    return delivery.status


@shared_task(name="platform_core.dispatch_outbox")
def dispatch_outbox() -> int:
    return bus.outbox_dispatch_pending()


@shared_task(name="platform_core.redeliver_due")
def redeliver_due() -> int:
    return bus.deliveries_redeliver_due(now=timezone.now())
