"""Celery tasks of the contact centre (queue `notifications`): thin wrappers over services."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from contact_center.services import notification_send, notifications_due


@shared_task(name="contact_center.send_notification")
def send_notification(*, notification_id: int) -> str | None:
    """Send one notification if it is due; a repeated task finds it sent and does nothing."""
    notification = notification_send(notification_id=notification_id, now=timezone.now())
    return None if notification is None else notification.status


@shared_task(name="contact_center.send_due")
def send_due() -> int:
    """Queue what is due: failures whose backoff has passed, and any whose task was lost."""
    due = notifications_due(now=timezone.now())
    for notification_id in due:
        send_notification.delay(notification_id=notification_id)
    return len(due)
