"""The inbox of what external systems send.

Every inbound event is stored once per (system, event id) with the answer it was given, so a
repeat is answered the same and applied never again (DESIGN.md, invariants).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from integration.enums import Contract, InboxStatus
from integration.models.systems import ExternalSystem
from platform_core.enums import Power
from platform_core.scoping import Jurisdiction


class InboundEvent(models.Model):
    """One event an external system sent, stored before it is acknowledged."""

    system = models.ForeignKey(
        ExternalSystem, on_delete=models.PROTECT, related_name="+", verbose_name=_("system")
    )
    event_id = models.CharField(_("event id"), max_length=64)
    contract = models.CharField(_("contract"), max_length=40, choices=Contract.choices)
    event_type = models.CharField(_("event type"), max_length=32)
    payload = models.JSONField(_("payload"))
    digest = models.CharField(_("payload digest"), max_length=64)
    received_at = models.DateTimeField(_("received at"))
    status = models.CharField(
        _("status"), max_length=16, choices=InboxStatus.choices, default=InboxStatus.RECEIVED
    )
    corrects_event_id = models.CharField(_("corrects event id"), max_length=64, blank=True)
    cancelled = models.BooleanField(_("cancels the event it corrects"), default=False)
    answer = models.JSONField(_("acknowledgement"), default=dict)
    result = models.JSONField(_("what applying it did"), default=dict, blank=True)
    problem = models.TextField(_("problem"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    jurisdiction = Jurisdiction(
        region=None, view=Power.OPERATE_PLATFORM, change=Power.OPERATE_PLATFORM
    )

    class Meta:
        verbose_name = _("inbound event")
        verbose_name_plural = _("inbound events")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["system", "event_id"], name="inbound_once_per_system"),
            models.CheckConstraint(
                condition=Q(status__in=InboxStatus.values), name="inbound_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(cancelled=False) | ~Q(corrects_event_id=""),
                name="inbound_cancel_names_event",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="inbound_by_status"),
            models.Index(
                fields=["system", "corrects_event_id"],
                name="inbound_corrections",
                condition=~Q(corrects_event_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.system_id}:{self.event_id} {self.event_type} [{self.status}]"
