"""The citizen portal's own data: which person of the registry a citizen's login is."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from platform_core.scoping import Jurisdiction
from registries.models import Person


class CitizenAccount(models.Model):
    """A citizen's login to the portal and the person of the registry it is. A citizen sees
    that person and the persons they legally represent, nothing else (frontoffice.selectors)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="citizen",
        verbose_name=_("user"),
    )
    person = models.OneToOneField(
        Person, on_delete=models.PROTECT, related_name="account", verbose_name=_("person")
    )
    demo = models.BooleanField(
        _("demo login"),
        default=False,
        help_text=_("Offered on the demo login page (when PORTAL_DEMO_LOGIN is on)."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    jurisdiction = Jurisdiction(region="person__region", municipality="person__municipality")

    class Meta:
        verbose_name = _("citizen account")
        verbose_name_plural = _("citizen accounts")

    def __str__(self) -> str:
        return str(self.person)


class CertificateKind(models.TextChoices):
    ASSIGNMENTS = "assignments", _("Measures assigned and their amounts")
    PAYMENTS = "payments", _("Payments over a period")


class Certificate(models.Model):
    """A certificate (справка) a citizen asked for: what it said, kept as issued, and the code
    anyone it is shown to checks it by on the public check page."""

    code = models.CharField(_("check code"), max_length=14, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=CertificateKind.choices)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("person")
    )
    issued_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issued to"),
    )
    issued_at = models.DateTimeField(_("issued at"))
    period_from = models.DateField(_("period from"), null=True, blank=True)
    period_to = models.DateField(_("period to"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8)
    # As issued: the headings, the rows and the totals, in the language it was issued in.
    content = models.JSONField(_("content"))

    jurisdiction = Jurisdiction(region="person__region", municipality="person__municipality")

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=CertificateKind.values), name="certificate_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(period_from__isnull=True)
                | models.Q(period_to__gte=models.F("period_from")),
                name="certificate_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.kind}"
