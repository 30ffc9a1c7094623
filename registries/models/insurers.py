"""The registry of insurers (реестр страхователей): employers, and who works where."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from platform_core.enums import Power
from platform_core.models import Region
from platform_core.scoping import Jurisdiction
from platform_core.validators import (
    validate_inn_individual,
    validate_inn_legal,
    validate_kpp,
    validate_ogrn,
    validate_ogrnip,
)
from registries.enums import InsurerKind


class Insurer(models.Model):
    """An employer: a legal entity (ЕГРЮЛ) or an individual entrepreneur (ЕГРИП)."""

    kind = models.CharField(_("kind"), max_length=16, choices=InsurerKind.choices)
    name = models.CharField(_("name"), max_length=500)
    inn = models.CharField(_("INN"), max_length=12, unique=True)
    ogrn = models.CharField(
        _("OGRN / OGRNIP"),
        max_length=15,
        unique=True,
        help_text=_("13 digits for a legal entity, 15 for an entrepreneur."),
    )
    kpp = models.CharField(_("KPP"), max_length=9, blank=True, validators=[validate_kpp])
    okved = models.CharField(_("main OKVED code"), max_length=8, blank=True)
    registration_number = models.CharField(
        _("Social Fund registration number"), max_length=10, blank=True
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    registered_on = models.DateField(_("registered on"))
    deregistered_on = models.DateField(_("deregistered on"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=50, default="tax_service")

    history = HistoricalRecords()
    jurisdiction = Jurisdiction(
        region="region", view=Power.MANAGE_INSURERS, change=Power.MANAGE_INSURERS
    )

    class Meta:
        verbose_name = _("insurer")
        verbose_name_plural = _("insurers")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=InsurerKind.values), name="insurer_kind"),
            models.CheckConstraint(
                condition=(
                    Q(kind=InsurerKind.LEGAL_ENTITY)
                    & Q(inn__regex=r"^[0-9]{10}$")
                    & Q(ogrn__regex=r"^[0-9]{13}$")
                    & Q(kpp__regex=r"^[0-9]{4}[0-9A-Z]{2}[0-9]{3}$")
                )
                | (
                    Q(kind=InsurerKind.ENTREPRENEUR)
                    & Q(inn__regex=r"^[0-9]{12}$")
                    & Q(ogrn__regex=r"^[0-9]{15}$")
                    & Q(kpp="")
                ),
                name="insurer_identifiers_match_kind",
            ),
            models.CheckConstraint(
                condition=Q(deregistered_on__isnull=True)
                | Q(deregistered_on__gte=F("registered_on")),
                name="insurer_deregistered_after_registered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (ИНН {self.inn})"

    def clean(self) -> None:
        checks = (
            {"inn": validate_inn_legal, "ogrn": validate_ogrn}
            if self.kind == InsurerKind.LEGAL_ENTITY
            else {"inn": validate_inn_individual, "ogrn": validate_ogrnip}
        )
        errors = {}
        for field, check in checks.items():
            try:
                check(getattr(self, field))
            except ValidationError as exc:
                errors[field] = exc.messages
        if self.kind == InsurerKind.LEGAL_ENTITY and not self.kpp:
            errors["kpp"] = _("A legal entity must have a KPP.")
        if self.kind == InsurerKind.ENTREPRENEUR and self.kpp:
            errors["kpp"] = _("An entrepreneur has no KPP.")
        if (
            self.deregistered_on
            and self.registered_on
            and self.deregistered_on < self.registered_on
        ):
            errors["deregistered_on"] = _("Deregistration cannot be before registration.")
        if errors:
            raise ValidationError(errors)


class EmploymentRecord(models.Model):
    """A period of a person's employment with an insurer."""

    person = models.ForeignKey(
        "registries.Person",
        on_delete=models.CASCADE,
        related_name="employments",
        verbose_name=_("person"),
    )
    insurer = models.ForeignKey(
        Insurer, on_delete=models.PROTECT, related_name="employments", verbose_name=_("insurer")
    )
    position = models.CharField(_("position"), max_length=200, blank=True)
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=50)

    history = HistoricalRecords()
    jurisdiction = Jurisdiction(region="person__region", municipality="person__municipality")

    class Meta:
        verbose_name = _("employment record")
        verbose_name_plural = _("employment records")
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="employment_period_ordered",
            ),
        ]
        indexes = [models.Index(fields=["person", "started_on"])]

    def __str__(self) -> str:
        return f"{self.person_id} @ {self.insurer_id}"
