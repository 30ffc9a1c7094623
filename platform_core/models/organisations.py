"""Territories, organisations and their staff: the ground of jurisdiction scoping.

Regions and municipalities live in the shared kernel, not in the registries app with the
rest of the reference data, because every scoped queryset and every regional deadline
depends on them (docs/decisions.md).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from platform_core.enums import OrganisationKind, Power, Role
from platform_core.scoping import Jurisdiction


class Region(models.Model):
    """A subject of the Russian Federation (субъект РФ)."""

    code = models.CharField(_("code"), max_length=2, primary_key=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    okato = models.CharField(_("OKATO"), max_length=11, blank=True)
    oktmo = models.CharField(_("OKTMO"), max_length=11, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64)
    federal_district = models.CharField(_("federal district"), max_length=100, blank=True)

    jurisdiction = Jurisdiction(region=None, view=None, change=Power.MANAGE_REFERENCE_DATA)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{2}$"), name="region_code_two_digits"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Municipality(models.Model):
    """A municipal formation identified by its OKTMO code (муниципальное образование)."""

    oktmo = models.CharField(_("OKTMO"), max_length=11, primary_key=True)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="municipalities", verbose_name=_("region")
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=50, blank=True)

    jurisdiction = Jurisdiction(region=None, view=None, change=Power.MANAGE_REFERENCE_DATA)

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["oktmo"]
        constraints = [
            models.CheckConstraint(
                condition=Q(oktmo__regex=r"^[0-9]{8}([0-9]{3})?$"), name="municipality_oktmo_format"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.oktmo})"


class Organisation(models.Model):
    """A body that works on the platform, with the territory and powers it acts within.

    A federal body has no region: its territory is the whole country. A municipal body or a
    client office serving one municipality has one; a regional one sees its whole region.
    """

    name = models.CharField(_("name"), max_length=300)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=OrganisationKind.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent organisation"),
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organisations",
        verbose_name=_("region"),
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organisations",
        verbose_name=_("municipality"),
    )
    powers = ArrayField(
        models.CharField(max_length=32, choices=Power.choices),
        default=list,
        blank=True,
        verbose_name=_("powers"),
    )
    inn = models.CharField(_("INN"), max_length=10, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    jurisdiction = Jurisdiction(region=None, view=None, change=Power.MANAGE_REFERENCE_DATA)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=OrganisationKind.values), name="organisation_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(powers__contained_by=Power.values), name="organisation_powers_valid"
            ),
            # Only a federal body acts nationwide; every other body has a region.
            models.CheckConstraint(
                condition=Q(kind=OrganisationKind.FEDERAL_BODY) | Q(region__isnull=False),
                name="organisation_region_unless_federal",
            ),
            # The event log and dead letters carry every region's data: nationwide bodies only.
            models.CheckConstraint(
                condition=~Q(powers__contains=[Power.OPERATE_PLATFORM]) | Q(region__isnull=True),
                name="organisation_operate_platform_nationwide",
            ),
        ]

    def __str__(self) -> str:
        return self.short_name or self.name

    @property
    def is_nationwide(self) -> bool:
        return self.region_id is None

    def has_power(self, power: str) -> bool:
        return power in self.powers


class User(AbstractUser):
    """A person who logs in: staff of an organisation, a citizen, or an integrator."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("organisation"),
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, blank=True)
    patronymic = models.CharField(_("patronymic"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(role="") | Q(role__in=Role.values), name="user_role_valid"
            ),
        ]
