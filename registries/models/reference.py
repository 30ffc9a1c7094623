"""Unified reference data (единая НСИ): classifiers, banks, subsistence minimums.

Every row has an effective period, so a value that changes (a new subsistence minimum, a
bank that closed) is a new version rather than an overwrite; `is_demo` marks values that are
illustrative rather than official.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from platform_core.enums import Power
from platform_core.models import Region
from platform_core.scoping import Jurisdiction
from registries.enums import SubsistenceGroup

NATIONWIDE_REFERENCE = Jurisdiction(region=None, view=None, change=Power.MANAGE_REFERENCE_DATA)


class VersionedReference(models.Model):
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    is_demo = models.BooleanField(
        _("demo value"), default=False, help_text=_("Illustrative, not an official value.")
    )
    source = models.CharField(_("source"), max_length=300, blank=True)

    class Meta:
        abstract = True


class ClassifierItem(VersionedReference):
    """An entry of a classifier: recipient categories, measure kinds, document kinds..."""

    classifier = models.CharField(_("classifier"), max_length=50)
    code = models.CharField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=500)
    name_en = models.CharField(_("name in English"), max_length=500, blank=True)
    parent_code = models.CharField(_("parent code"), max_length=50, blank=True)

    jurisdiction = NATIONWIDE_REFERENCE

    class Meta:
        verbose_name = _("classifier item")
        verbose_name_plural = _("classifier items")
        ordering = ["classifier", "code", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["classifier", "code", "valid_from"], name="classifier_item_version"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="classifier_item_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.classifier}:{self.code} {self.name}"


class Bank(VersionedReference):
    """A bank of the BIC directory (справочник БИК)."""

    bic = models.CharField(_("BIC"), max_length=9)
    name = models.CharField(_("name"), max_length=300)
    correspondent_account = models.CharField(_("correspondent account"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)

    jurisdiction = NATIONWIDE_REFERENCE

    class Meta:
        verbose_name = _("bank")
        verbose_name_plural = _("BIC directory")
        ordering = ["bic", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["bic", "valid_from"], name="bank_bic_version"),
            models.CheckConstraint(condition=Q(bic__regex=r"^04[0-9]{7}$"), name="bank_bic_format"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="bank_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bic} {self.name}"


class SubsistenceMinimum(VersionedReference):
    """The regional subsistence minimum (прожиточный минимум) for a year and group, monthly."""

    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    group = models.CharField(_("group"), max_length=16, choices=SubsistenceGroup.choices)
    amount = models.DecimalField(_("amount, RUB a month"), max_digits=10, decimal_places=2)

    jurisdiction = Jurisdiction(region="region", view=None, change=Power.MANAGE_REFERENCE_DATA)

    class Meta:
        verbose_name = _("subsistence minimum")
        verbose_name_plural = _("subsistence minimums")
        ordering = ["region", "-year", "group"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "year", "group", "valid_from"], name="subsistence_version"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="subsistence_positive"),
            models.CheckConstraint(
                condition=Q(group__in=SubsistenceGroup.values), name="subsistence_group"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.year} {self.get_group_display()}: {self.amount}"
