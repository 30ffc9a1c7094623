"""Inter-agency requests: who asked which agency for what, and what came back.

A `DataRequest` is one ask (an officer or the case pipeline, for a case); a `DataExchange` is
one conversation with a provider. Asks for the same data (kind, subject, parameters) share an
exchange while it is in flight or its answer is still valid, so an agency is asked once, not
once per case (the once-only principle). Every try is an `ExchangeAttempt`, with its
latency and outcome; each provider has a `ProviderCircuit`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from integration.enums import (
    AttemptOutcome,
    ComplaintKind,
    ComplaintStatus,
    DataKind,
    ExchangeStatus,
)
from integration.models.systems import ExternalSystem
from platform_core.enums import Power
from platform_core.scoping import Jurisdiction

IN_FLIGHT = [ExchangeStatus.PENDING, ExchangeStatus.WAITING]


class DataExchange(models.Model):
    """One request to a provider and its answer; its id is the provider's idempotency key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("data kind"), max_length=20, choices=DataKind.choices)
    provider = models.ForeignKey(
        ExternalSystem, on_delete=models.PROTECT, related_name="+", verbose_name=_("provider")
    )
    key = models.CharField(
        _("data key"), max_length=64, help_text=_("Digest of the kind, subject and parameters.")
    )
    subject = models.JSONField(_("subject"))
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ExchangeStatus.choices, default=ExchangeStatus.PENDING
    )
    created_at = models.DateTimeField(_("created at"))
    deadline_at = models.DateTimeField(_("answer due by"))
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    lease_until = models.DateTimeField(_("being sent until"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    first_sent_at = models.DateTimeField(_("first sent at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("time to answer, ms"), null=True, blank=True)
    answer = models.JSONField(_("answer"), null=True, blank=True)
    answer_digest = models.CharField(_("answer digest"), max_length=64, blank=True)
    problem = models.TextField(_("problem"), blank=True)
    valid_until = models.DateTimeField(_("reused until"), null=True, blank=True)
    purge_after = models.DateTimeField(_("answer erased after"), null=True, blank=True)
    purged_at = models.DateTimeField(_("answer erased at"), null=True, blank=True)

    jurisdiction = Jurisdiction(
        region=None, view=Power.OPERATE_PLATFORM, change=Power.OPERATE_PLATFORM
    )

    class Meta:
        verbose_name = _("inter-agency exchange")
        verbose_name_plural = _("inter-agency exchanges")
        ordering = ["-created_at"]
        constraints = [
            # Once only: one exchange in flight per piece of data.
            models.UniqueConstraint(
                fields=["key"],
                condition=Q(status__in=IN_FLIGHT),
                name="exchange_one_in_flight_per_key",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ExchangeStatus.values), name="exchange_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=DataKind.values), name="exchange_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[ExchangeStatus.ANSWERED, ExchangeStatus.NOT_FOUND])
                | Q(answered_at__isnull=False),
                name="exchange_answer_dated",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="exchange_due",
                condition=Q(status__in=IN_FLIGHT),
            ),
            models.Index(fields=["key", "-answered_at"], name="exchange_by_key"),
            models.Index(
                fields=["purge_after"], name="exchange_to_purge", condition=Q(purged_at=None)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.provider_id} [{self.status}]"


class DataRequest(models.Model):
    """One ask for data: who asked, for which case, when, and which exchange answers it."""

    exchange = models.ForeignKey(
        DataExchange,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=_("exchange"),
    )
    kind = models.CharField(_("data kind"), max_length=20, choices=DataKind.choices)
    region = models.ForeignKey(
        "platform_core.Region",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("region"),
    )
    person_id = models.BigIntegerField(_("person id"), null=True, blank=True)
    case_ref = models.CharField(
        _("case"), max_length=64, help_text=_("The case the data is for, as its owner names it.")
    )
    purpose = models.CharField(_("purpose"), max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"))
    reused = models.BooleanField(
        _("answered by an earlier exchange"),
        default=False,
        help_text=_("The data was already asked for and its answer still valid, or in flight."),
    )
    released_at = models.DateTimeField(
        _("released at"),
        null=True,
        blank=True,
        help_text=_("When the case no longer needed the data."),
    )

    jurisdiction = Jurisdiction(
        region="region", view=Power.VIEW_PERSONAL_DATA, change=Power.ASSIGN_MEASURES
    )

    class Meta:
        verbose_name = _("inter-agency request")
        verbose_name_plural = _("inter-agency requests")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=DataKind.values), name="data_request_kind_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["case_ref"], name="data_request_by_case"),
            models.Index(fields=["exchange", "released_at"], name="data_request_open"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.case_ref}"


class ExchangeAttempt(models.Model):
    """One try at an exchange: when, how long, what came of it."""

    exchange = models.ForeignKey(
        DataExchange, on_delete=models.CASCADE, related_name="tries", verbose_name=_("exchange")
    )
    number = models.PositiveIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started at"))
    latency_ms = models.PositiveIntegerField(_("latency, ms"), null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=AttemptOutcome.choices)
    error = models.TextField(_("error"), blank=True)

    jurisdiction = Jurisdiction(
        region=None, view=Power.OPERATE_PLATFORM, change=Power.OPERATE_PLATFORM
    )

    class Meta:
        verbose_name = _("exchange attempt")
        verbose_name_plural = _("exchange attempts")
        ordering = ["exchange", "number"]
        constraints = [
            models.UniqueConstraint(fields=["exchange", "number"], name="attempt_once"),
            models.CheckConstraint(
                condition=Q(outcome__in=AttemptOutcome.values), name="attempt_outcome_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exchange_id} #{self.number} {self.outcome}"


class ProviderCircuit(models.Model):
    """A provider's circuit breaker: after enough failures in a row, stop asking for a while."""

    system = models.OneToOneField(
        ExternalSystem,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="circuit",
        verbose_name=_("provider"),
    )
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    open_until = models.DateTimeField(_("not asked until"), null=True, blank=True)
    opened_times = models.PositiveIntegerField(_("times opened"), default=0)
    last_failure_at = models.DateTimeField(_("last failure at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    jurisdiction = Jurisdiction(
        region=None, view=Power.OPERATE_PLATFORM, change=Power.OPERATE_PLATFORM
    )

    class Meta:
        verbose_name = _("provider circuit")
        verbose_name_plural = _("provider circuits")

    def __str__(self) -> str:
        return str(self.system_id)


class DataComplaint(models.Model):
    """An officer's complaint about received data or a late provider, tracked to its answer."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=ComplaintKind.choices)
    provider = models.ForeignKey(
        ExternalSystem, on_delete=models.PROTECT, related_name="+", verbose_name=_("provider")
    )
    exchange = models.ForeignKey(
        DataExchange,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("exchange"),
    )
    region = models.ForeignKey(
        "platform_core.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    text = models.TextField(_("what is wrong"))
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("filed by"),
    )
    filed_at = models.DateTimeField(_("filed at"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ComplaintStatus.choices,
        default=ComplaintStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    answer = models.TextField(_("provider's answer"), blank=True)
    corrected = models.BooleanField(_("data corrected"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    problem = models.TextField(_("last problem"), blank=True)

    jurisdiction = Jurisdiction(
        region="region", view=Power.VIEW_PERSONAL_DATA, change=Power.ASSIGN_MEASURES
    )

    class Meta:
        verbose_name = _("data-quality complaint")
        verbose_name_plural = _("data-quality complaints")
        ordering = ["-filed_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ComplaintStatus.values), name="complaint_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind=ComplaintKind.LATE_ANSWER) | Q(exchange__isnull=False),
                name="complaint_wrong_data_names_exchange",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="complaint_due",
                condition=~Q(status=ComplaintStatus.ANSWERED),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.provider_id} [{self.status}]"
