"""The production calendar (производственный календарь): every day of a year and its kind."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from platform_core.enums import DayKind, Power
from platform_core.scoping import Jurisdiction

WORKING_KINDS = (DayKind.WORKING, DayKind.SHORTENED)


class CalendarDay(models.Model):
    """One day of the federal production calendar; edited as reference data."""

    date = models.DateField(_("date"), primary_key=True)
    kind = models.CharField(_("kind"), max_length=16, choices=DayKind.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)

    jurisdiction = Jurisdiction(region=None, view=None, change=Power.MANAGE_REFERENCE_DATA)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("production calendar")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=DayKind.values), name="calendar_day_kind")
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"

    @property
    def is_working(self) -> bool:
        return self.kind in WORKING_KINDS
