"""Audit of personal data: who opened whose personal file, when and how.

Changes to personal data are recorded by django-simple-history on each personal-data model
(who, when, the whole row before and after); this table records reads.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from platform_core.enums import Power
from platform_core.scoping import Jurisdiction


class PersonalFileView(models.Model):
    """One view of a personal file (просмотр личного дела)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("who"),
    )
    subject_type = models.CharField(_("subject type"), max_length=64)
    subject_id = models.CharField(_("subject id"), max_length=64)
    viewed_at = models.DateTimeField(_("when"), db_index=True)
    channel = models.CharField(_("channel"), max_length=16)
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    remote_addr = models.GenericIPAddressField(_("address"), null=True, blank=True)

    jurisdiction = Jurisdiction(
        region=None, view=Power.OPERATE_PLATFORM, change=Power.OPERATE_PLATFORM
    )

    class Meta:
        verbose_name = _("personal file view")
        verbose_name_plural = _("personal file views")
        ordering = ["-viewed_at"]
        indexes = [models.Index(fields=["subject_type", "subject_id", "-viewed_at"])]

    def __str__(self) -> str:
        return f"{self.actor_id} → {self.subject_type}:{self.subject_id} @ {self.viewed_at:%Y-%m-%d %H:%M}"
