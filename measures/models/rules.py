"""Versions of a measure's rules (eligibility, amount, period) and the entitlements they give."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from measures.enums import Outcome, RuleStatus, ValueType
from measures.models.catalogue import Measure
from measures.rules import RuleInvalid, rule_check
from platform_core.enums import Power
from platform_core.scoping import Jurisdiction
from registries.models import Person

RULE_FIELDS = {
    "eligibility": ValueType.BOOL,
    "amount": ValueType.NUMBER,
    "period_months": ValueType.NUMBER,
}


class RuleVersion(models.Model):
    """One version of a measure's rules, in force over a period once published."""

    measure = models.ForeignKey(
        Measure, on_delete=models.CASCADE, related_name="rule_versions", verbose_name=_("measure")
    )
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=16, choices=RuleStatus.choices, default=RuleStatus.DRAFT
    )
    valid_from = models.DateField(_("in force from"))
    valid_to = models.DateField(_("in force to"), null=True, blank=True)
    eligibility = models.TextField(
        _("eligibility"), help_text=_("A yes/no expression over facts, e.g. age >= 18.")
    )
    amount = models.TextField(
        _("amount, RUB"), blank=True, help_text=_("A number expression; empty when in kind.")
    )
    period_months = models.TextField(
        _("period, months"), blank=True, help_text=_("A number expression; empty for one-time.")
    )
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    jurisdiction = Jurisdiction(
        region="measure__region", view=None, change=Power.ASSIGN_MEASURES, shared_when_empty=True
    )

    class Meta:
        verbose_name = _("rule version")
        verbose_name_plural = _("rule versions")
        ordering = ["measure", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "version"], name="rule_version_unique"),
            models.CheckConstraint(condition=Q(status__in=RuleStatus.values), name="rule_status"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="rule_period_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(status=RuleStatus.PUBLISHED) | Q(published_at__isnull=False),
                name="rule_published_has_moment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure_id} v{self.version}"

    def clean(self) -> None:
        errors = {}
        for name, value_type in RULE_FIELDS.items():
            text = getattr(self, name)
            if not text.strip() and name != "eligibility":
                continue
            try:
                rule_check(text, expect=value_type)
            except RuleInvalid as exc:
                errors[name] = [str(p) for p in exc.problems]
        if self.valid_to and self.valid_from and self.valid_to < self.valid_from:
            errors["valid_to"] = [_("The end of the period is before its start.")]
        if errors:
            raise ValidationError(errors)


class Entitlement(models.Model):
    """The outcome of a measure's rules for a person as of a date, with what it rested on."""

    # A sweep writes a region's entitlements (a million rows) in one statement that reads the
    # persons, measure and rule version it references. A database foreign key would check each
    # row once more at commit, three lookups per row and more than half of the sweep's time;
    # Django's CASCADE and PROTECT still apply (docs/decisions.md §9). The unique constraint,
    # person first, is the index for a person's entitlements.
    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,
        related_name="+",
        verbose_name=_("person"),
    )
    measure = models.ForeignKey(
        Measure,
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,
        related_name="+",
        verbose_name=_("measure"),
    )
    rule_version = models.ForeignKey(
        RuleVersion,
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,
        related_name="+",
        verbose_name=_("rule version"),
    )
    as_of = models.DateField(_("as of"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    amount = models.DecimalField(
        _("amount, RUB"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    facts = models.JSONField(_("facts used"), default=dict)
    evaluated_at = models.DateTimeField(_("evaluated at"))

    jurisdiction = Jurisdiction(region="person__region", municipality="person__municipality")

    class Meta:
        verbose_name = _("entitlement")
        verbose_name_plural = _("entitlements")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "measure", "as_of", "rule_version"], name="entitlement_unique"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=Outcome.values), name="entitlement_outcome"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} × {self.measure_id} @ {self.as_of}: {self.outcome}"
