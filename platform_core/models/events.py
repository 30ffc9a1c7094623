"""The event spine: a transactional outbox and one delivery row per (event, handler).

The delivery row is what makes a handler idempotent: it is unique per (event, handler) and
is marked done in the same transaction as the handler's own writes.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from platform_core.enums import DeliveryStatus, Power
from platform_core.scoping import Jurisdiction


class OutboxEvent(models.Model):
    """A business event published in the transaction that caused it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event_type = models.CharField(_("event type"), max_length=100, db_index=True)
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("published at"), db_index=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    actor_id = models.BigIntegerField(_("actor"), null=True, blank=True)

    jurisdiction = Jurisdiction(
        region=None, view=Power.OPERATE_PLATFORM, change=Power.OPERATE_PLATFORM
    )

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="outbox_undispatched",
                condition=Q(dispatched_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.id}"


class EventDelivery(models.Model):
    """The delivery of one event to one handler, with its attempts and outcome."""

    event = models.ForeignKey(
        OutboxEvent, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    handler = models.CharField(_("handler"), max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    jurisdiction = Jurisdiction(
        region=None, view=Power.OPERATE_PLATFORM, change=Power.OPERATE_PLATFORM
    )

    class Meta:
        verbose_name = _("event delivery")
        verbose_name_plural = _("event deliveries")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["event", "handler"], name="delivery_once_per_handler"),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.DONE) | Q(finished_at__isnull=False),
                name="delivery_done_has_finish",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due",
                condition=Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.handler} ← {self.event_id} [{self.status}]"

    @property
    def lag_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.event.created_at).total_seconds()
