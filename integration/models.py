"""External systems and the inbox of what they send.

An external system (a civil registry, a disability registry, a school system...) has its own
credentials: a code, a shared secret for signing requests, and scopes naming what it may send.
Every inbound event is stored once per (system, event id) with the answer it was given, so a
repeat is answered the same and applied never again (DESIGN.md, invariants).
"""

from __future__ import annotations

import secrets

from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from integration.enums import Contract, InboxStatus, Scope, SystemKind
from platform_core.enums import Power
from platform_core.scoping import Jurisdiction


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class ExternalSystem(models.Model):
    """A system of another agency that talks to the platform."""

    code = models.CharField(
        _("code"),
        max_length=50,
        unique=True,
        validators=[
            RegexValidator(r"^[a-z0-9][a-z0-9_.-]*$", _("Lower-case letters, digits, . _ -."))
        ],
        help_text=_("Sent in the X-System header of every request."),
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=24, choices=SystemKind.choices)
    scopes = ArrayField(
        models.CharField(max_length=40, choices=Scope.choices),
        verbose_name=_("scopes"),
        default=list,
        blank=True,
    )
    secret = models.CharField(
        _("signing secret"),
        max_length=128,
        default=new_secret,
        help_text=_("Shared with the system; signs the body of each request (HMAC-SHA256)."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    jurisdiction = Jurisdiction(
        region=None, view=Power.OPERATE_PLATFORM, change=Power.OPERATE_PLATFORM
    )

    class Meta:
        verbose_name = _("external system")
        verbose_name_plural = _("external systems")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


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
