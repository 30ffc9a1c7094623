"""What the platform publishes to the federal social security register (a ЕГИССО-like feed).

Each fact keeps its id for life; every change of it is a new version, stored once and sent
until the register accepts or rejects it (docs/peers.md, the fact's contract in
integration/contracts/federal-register-fact.schema.json).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from integration.enums import PublicationStatus
from platform_core.enums import Power
from platform_core.scoping import Jurisdiction


class FederalFact(models.Model):
    """One version of one fact, and what the register said of it."""

    fact_id = models.CharField(_("fact id"), max_length=64)
    version = models.PositiveIntegerField(_("version"))
    payload = models.JSONField(_("fact"))
    digest = models.CharField(_("content digest"), max_length=64)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=PublicationStatus.choices,
        default=PublicationStatus.PENDING,
    )
    created_at = models.DateTimeField(_("created at"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    lease_until = models.DateTimeField(_("being sent until"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    errors = models.JSONField(_("register's errors"), default=list, blank=True)
    problem = models.TextField(_("last problem"), blank=True)

    jurisdiction = Jurisdiction(
        region=None, view=Power.OPERATE_PLATFORM, change=Power.OPERATE_PLATFORM
    )

    class Meta:
        verbose_name = _("federal register fact")
        verbose_name_plural = _("federal register facts")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["fact_id", "version"], name="fact_version_once"),
            models.CheckConstraint(
                condition=Q(status__in=PublicationStatus.values), name="fact_status_valid"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="fact_version_positive"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="fact_due",
                condition=Q(status=PublicationStatus.PENDING),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fact_id} v{self.version} [{self.status}]"
