"""The catalogue of social support measures: what a measure is, who gives it and how."""

from __future__ import annotations

from datetime import date

from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from measures.enums import (
    ApplicantRole,
    AssignmentMode,
    Channel,
    DataKind,
    MeasureLevel,
    PayeeRole,
    ProvisionKind,
)
from platform_core.enums import Power
from platform_core.models import Municipality, Organisation, Region
from platform_core.scoping import Jurisdiction
from registries.enums import LifeEventKind

MEASURE_CODE = RegexValidator(
    r"^[a-z0-9][a-z0-9_.-]*$", _("Use lower-case Latin letters, digits, '_', '.' or '-'.")
)


def _period_ordered(
    name: str, start: str = "valid_from", end: str = "valid_to"
) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{end}__isnull": True}) | Q(**{f"{end}__gte": F(start)}), name=name
    )


class Measure(models.Model):
    """A social support measure (мера социальной поддержки) and its conditions of provision."""

    code = models.CharField(_("code"), max_length=50, unique=True, validators=[MEASURE_CODE])
    name = models.CharField(_("name"), max_length=500)
    description = models.TextField(_("description"), blank=True)
    legal_act = models.CharField(_("legal act"), max_length=500)
    legal_act_date = models.DateField(_("date of the act"), null=True, blank=True)
    legal_article = models.CharField(_("article"), max_length=200, blank=True)
    level = models.CharField(_("level"), max_length=16, choices=MeasureLevel.choices)
    establishing_authority = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("establishing authority"),
    )
    operator = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="operated_measures",
        verbose_name=_("assigning organisation"),
        help_text=_("Who assigns the measure unless a function transfer says otherwise."),
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
        help_text=_("Empty for a federal measure given in every region."),
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("municipality"),
    )
    provision = models.CharField(
        _("kind of provision"), max_length=16, choices=ProvisionKind.choices
    )
    payee_role = models.CharField(_("payee"), max_length=16, choices=PayeeRole.choices)
    mode = models.CharField(_("assignment mode"), max_length=16, choices=AssignmentMode.choices)
    trigger_events = ArrayField(
        models.CharField(max_length=32, choices=LifeEventKind.choices),
        verbose_name=_("triggering life events"),
        default=list,
        blank=True,
    )
    data_kinds = ArrayField(
        models.CharField(max_length=16, choices=DataKind.choices),
        verbose_name=_("data needed"),
        default=list,
        blank=True,
    )
    decision_days = models.PositiveSmallIntegerField(
        _("decision deadline, working days"), default=2
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    excludes = models.ManyToManyField(
        "self",
        blank=True,
        verbose_name=_("cannot be received together with"),
    )
    capped_with = models.ManyToManyField(
        "self",
        blank=True,
        verbose_name=_("capped together with"),
    )
    is_demo = models.BooleanField(
        _("demo parameters"),
        default=False,
        help_text=_("Amounts or conditions the legal act does not state are demo values."),
    )
    demo_note = models.CharField(_("what is demo"), max_length=500, blank=True)

    jurisdiction = Jurisdiction(
        region="region", view=None, change=Power.ASSIGN_MEASURES, shared_when_empty=True
    )

    class Meta:
        verbose_name = _("social support measure")
        verbose_name_plural = _("social support measures")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__in=MeasureLevel.values), name="measure_level"
            ),
            models.CheckConstraint(
                condition=Q(provision__in=ProvisionKind.values), name="measure_provision"
            ),
            models.CheckConstraint(
                condition=Q(payee_role__in=PayeeRole.values), name="measure_payee_role"
            ),
            models.CheckConstraint(
                condition=Q(mode__in=AssignmentMode.values), name="measure_mode"
            ),
            models.CheckConstraint(
                condition=Q(level=MeasureLevel.FEDERAL, region__isnull=True)
                | (~Q(level=MeasureLevel.FEDERAL) & Q(region__isnull=False)),
                name="measure_territory_matches_level",
            ),
            models.CheckConstraint(
                condition=~Q(level=MeasureLevel.MUNICIPAL) | Q(municipality__isnull=False),
                name="measure_municipal_has_municipality",
            ),
            models.CheckConstraint(condition=Q(decision_days__gte=1), name="measure_deadline"),
            _period_ordered("measure_period_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.name}"

    def operator_on(self, on: date) -> Organisation:
        """Who assigns the measure on a date, after any transfer of the function."""
        transfer = (
            self.transfers.filter(valid_from__lte=on)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
            .select_related("operator")
            .order_by("-valid_from")
            .first()
        )
        return transfer.operator if transfer else self.operator


class FunctionTransfer(models.Model):
    """A region's agreement handing the assignment of its measure to another body."""

    measure = models.ForeignKey(
        Measure, on_delete=models.CASCADE, related_name="transfers", verbose_name=_("measure")
    )
    operator = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("assigned to")
    )
    agreement = models.CharField(_("agreement"), max_length=300)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    jurisdiction = Jurisdiction(
        region="measure__region", view=None, change=Power.ASSIGN_MEASURES, shared_when_empty=True
    )

    class Meta:
        verbose_name = _("transfer of the function")
        verbose_name_plural = _("transfers of the function")
        constraints = [
            _period_ordered("transfer_period_ordered"),
            models.UniqueConstraint(fields=["measure", "valid_from"], name="transfer_unique_start"),
        ]

    def __str__(self) -> str:
        return f"{self.measure_id} → {self.operator_id} ({self.valid_from})"


class ChannelPolicy(models.Model):
    """Through which channels an applicant in a role may apply for a measure, over a period."""

    measure = models.ForeignKey(
        Measure,
        on_delete=models.CASCADE,
        related_name="channel_policies",
        verbose_name=_("measure"),
    )
    applicant_role = models.CharField(_("applicant"), max_length=16, choices=ApplicantRole.choices)
    channels = ArrayField(
        models.CharField(max_length=16, choices=Channel.choices), verbose_name=_("channels")
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    jurisdiction = Jurisdiction(
        region="measure__region", view=None, change=Power.ASSIGN_MEASURES, shared_when_empty=True
    )

    class Meta:
        verbose_name = _("channel policy")
        verbose_name_plural = _("channel policies")
        ordering = ["measure", "applicant_role", "valid_from"]
        constraints = [
            _period_ordered("channel_policy_period_ordered"),
            models.CheckConstraint(
                condition=Q(applicant_role__in=ApplicantRole.values), name="channel_policy_role"
            ),
            models.CheckConstraint(condition=~Q(channels=[]), name="channel_policy_has_channels"),
            models.UniqueConstraint(
                fields=["measure", "applicant_role", "valid_from"], name="channel_policy_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure_id}: {self.applicant_role} {self.valid_from}"
