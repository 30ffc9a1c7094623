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
    CAPITAL = "capital", _("Maternity (family) capital balance")


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


class AppealKind(models.TextChoices):
    APPEAL = "appeal", _("Appeal against a decision")
    COMPLAINT = "complaint", _("Complaint")
    QUESTION = "question", _("Question")


class AppealStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    IN_WORK = "in_work", _("Being considered")
    ANSWERED = "answered", _("Answered")


class Appeal(models.Model):
    """An appeal, complaint or question a citizen sent from the portal: it reaches the staff
    of the person's region (admin), who answer it; the citizen follows it on the portal."""

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="appeals", verbose_name=_("person")
    )
    filed_by = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("filed by")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=AppealKind.choices)
    case = models.ForeignKey(
        "measures.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appeals",
        verbose_name=_("case"),
    )
    text = models.TextField(_("text"), max_length=5000)
    status = models.CharField(
        _("status"), max_length=16, choices=AppealStatus.choices, default=AppealStatus.SUBMITTED
    )
    answer = models.TextField(_("answer"), blank=True, max_length=5000)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    created_at = models.DateTimeField(_("filed at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    jurisdiction = Jurisdiction(region="person__region", municipality="person__municipality")

    class Meta:
        verbose_name = _("citizen's appeal")
        verbose_name_plural = _("citizens' appeals")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=AppealStatus.values), name="appeal_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="answered") | ~models.Q(answer=""),
                name="appeal_answered_has_answer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}"
