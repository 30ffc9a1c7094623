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
