"""Jurisdiction: the one function every staff-facing queryset goes through.

A model opts in by declaring `jurisdiction = Jurisdiction(...)`: the lookup path to its
region (and municipality, if it has one) and the powers needed to see and change it. A model
without a declaration cannot be scoped, so forgetting it fails loudly instead of leaking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.translation import gettext_lazy as _

from platform_core.enums import Power
from platform_core.errors import OutOfJurisdiction

if TYPE_CHECKING:
    from platform_core.models import User

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Jurisdiction:
    """How a model's rows map onto territory and which powers reach them.

    `region` is a lookup path to a Region key (for example "person__region"); None marks
    nationwide data (reference data) that every staff user may read. `view` None means no
    special power is needed to read. With `shared_when_empty`, rows whose region is empty
    (a federal measure) are read by every region, but changed only by nationwide bodies.
    """

    region: str | None
    municipality: str | None = None
    view: str | None = Power.VIEW_PERSONAL_DATA
    change: str = Power.CHANGE_PERSONAL_DATA
    shared_when_empty: bool = False


def jurisdiction_of(model: type[models.Model]) -> Jurisdiction:
    spec = getattr(model, "jurisdiction", None)
    if not isinstance(spec, Jurisdiction):
        raise ImproperlyConfigured(f"{model.__name__} declares no jurisdiction.")
    return spec


def has_access(model: type[models.Model], *, user: User, action: str = "view") -> bool:
    """Tell whether user may reach any row of model at all (before territory narrows it)."""
    spec = jurisdiction_of(model)
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    organisation = user.organisation
    if organisation is None or not organisation.is_active:
        return False
    power = spec.view if action == "view" else spec.change
    return power is None or organisation.has_power(power)


def scope_queryset(
    queryset: models.QuerySet[M], *, user: User, action: str = "view"
) -> models.QuerySet[M]:
    """Narrow queryset to the rows user may see ("view") or change ("change")."""
    spec = jurisdiction_of(queryset.model)
    if not has_access(queryset.model, user=user, action=action):
        return queryset.none()
    organisation = user.organisation
    if user.is_superuser or spec.region is None or organisation.is_nationwide:
        return queryset
    if organisation.municipality_id and spec.municipality:
        own = models.Q(**{spec.municipality: organisation.municipality_id})
    else:
        own = models.Q(**{spec.region: organisation.region_id})
    if spec.shared_when_empty and action == "view":
        own |= models.Q(**{f"{spec.region}__isnull": True})
    return queryset.filter(own)


def ensure_in_scope(obj: models.Model, *, user: User, action: str = "change") -> None:
    """Raise OutOfJurisdiction unless user may act on obj."""
    model = type(obj)
    if not scope_queryset(
        model._default_manager.filter(pk=obj.pk), user=user, action=action
    ).exists():
        raise OutOfJurisdiction(_("This record is outside your jurisdiction."))


def ensure_territory_allowed(
    *,
    user: User,
    region_code: str | None,
    municipality_oktmo: str | None = None,
    power: str = Power.CHANGE_PERSONAL_DATA,
) -> None:
    """Raise OutOfJurisdiction unless user may create or move a record into this territory."""
    if user.is_superuser:
        return
    organisation = user.organisation
    if organisation is None or not organisation.is_active or not organisation.has_power(power):
        raise OutOfJurisdiction(_("Your organisation has no power to do this."))
    if organisation.is_nationwide:
        return
    if region_code != organisation.region_id:
        raise OutOfJurisdiction(
            _("Region %(region)s is outside your jurisdiction.") % {"region": region_code},
            field="region",
        )
    if organisation.municipality_id and municipality_oktmo != organisation.municipality_id:
        raise OutOfJurisdiction(
            _("Municipality %(oktmo)s is outside your jurisdiction.")
            % {"oktmo": municipality_oktmo},
            field="municipality",
        )
