"""Social contracts (социальный контракт) with low-income families: what each side does, the
assistance given, an adaptation programme of dated steps, and the term. The family's income
before, during and after the contract is read from the registry (measures.selectors)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from measures.enums import AssistanceKind, ContractStatus, ContractSubject
from measures.models.cases import Case
from platform_core.enums import Power
from platform_core.scoping import Jurisdiction
from registries.models import Person


class SocialContract(models.Model):
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="social_contracts",
        verbose_name=_("recipient"),
    )
    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="social_contracts",
        verbose_name=_("case"),
    )
    region = models.ForeignKey(
        "platform_core.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    number = models.CharField(_("number"), max_length=32, unique=True)
    subject = models.CharField(_("subject"), max_length=24, choices=ContractSubject.choices)
    recipient_obligations = models.TextField(_("the recipient undertakes"))
    agency_obligations = models.TextField(_("the social protection body undertakes"))
    term_from = models.DateField(_("in force from"))
    term_to = models.DateField(_("in force to"))
    status = models.CharField(
        _("status"), max_length=16, choices=ContractStatus.choices, default=ContractStatus.DRAFT
    )
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("officer"),
    )
    created_at = models.DateTimeField(_("created at"))
    outcome = models.TextField(_("outcome"), blank=True)

    jurisdiction = Jurisdiction(
        region="region", municipality="person__municipality", change=Power.ASSIGN_MEASURES
    )

    class Meta:
        verbose_name = _("social contract")
        verbose_name_plural = _("social contracts")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(term_to__gte=F("term_from")), name="contract_term_ordered"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ContractStatus.values), name="contract_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(subject__in=ContractSubject.values), name="contract_subject_valid"
            ),
            # One contract in force per person at a time.
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status=ContractStatus.ACTIVE),
                name="contract_one_active_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_subject_display()})"


class ContractAssistance(models.Model):
    """One kind of assistance the contract gives, and how much."""

    contract = models.ForeignKey(
        SocialContract,
        on_delete=models.CASCADE,
        related_name="assistance",
        verbose_name=_("contract"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=AssistanceKind.choices)
    amount = models.DecimalField(
        _("amount, RUB"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    months = models.PositiveSmallIntegerField(_("for months"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    jurisdiction = Jurisdiction(region="contract__region", change=Power.ASSIGN_MEASURES)

    class Meta:
        verbose_name = _("assistance under a contract")
        verbose_name_plural = _("assistance under contracts")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0),
                name="assistance_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount or ''}"


class ContractStep(models.Model):
    """A step of the adaptation programme, with its date and whether it was done."""

    contract = models.ForeignKey(
        SocialContract, on_delete=models.CASCADE, related_name="steps", verbose_name=_("contract")
    )
    title = models.CharField(_("step"), max_length=300)
    due_on = models.DateField(_("due on"))
    done_on = models.DateField(_("done on"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    jurisdiction = Jurisdiction(region="contract__region", change=Power.ASSIGN_MEASURES)

    class Meta:
        verbose_name = _("adaptation programme step")
        verbose_name_plural = _("adaptation programme")
        ordering = ["contract", "due_on", "id"]

    def __str__(self) -> str:
        return f"{self.due_on}: {self.title}"
