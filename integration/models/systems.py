"""External systems: other agencies' systems that send to the platform or answer it.

An external system (a civil registry, a disability registry, a tax service, a bank...) has its
own credentials: a code and a shared secret that signs every request, in both directions.
Scopes name what it may send; `provides` names the data kinds it answers for (one port each,
integration/ports.py) at `base_url`.
"""

from __future__ import annotations

import secrets

from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from integration.enums import DataKind, Scope, SystemKind
from platform_core.enums import Power
from platform_core.scoping import Jurisdiction


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class ExternalSystem(models.Model):
    """A system of another agency that talks to the platform."""

    code = models.CharField(
        _("code"),
        max_length=50,
        unique=True,
        validators=[
            RegexValidator(r"^[a-z0-9][a-z0-9_.-]*$", _("Lower-case letters, digits, . _ -."))
        ],
        help_text=_("Sent in the X-System header of every request."),
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=24, choices=SystemKind.choices)
    scopes = ArrayField(
        models.CharField(max_length=40, choices=Scope.choices),
        verbose_name=_("scopes"),
        default=list,
        blank=True,
    )
    secret = models.CharField(
        _("signing secret"),
        max_length=128,
        default=new_secret,
        help_text=_("Shared with the system; signs the body of each request (HMAC-SHA256)."),
    )
    provides = ArrayField(
        models.CharField(max_length=20, choices=DataKind.choices),
        verbose_name=_("answers requests for"),
        default=list,
        blank=True,
    )
    base_url = models.URLField(
        _("base URL"),
        blank=True,
        help_text=_("Where the platform sends its requests to this system (docs/peers.md)."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    jurisdiction = Jurisdiction(
        region=None, view=Power.OPERATE_PLATFORM, change=Power.OPERATE_PLATFORM
    )

    class Meta:
        verbose_name = _("external system")
        verbose_name_plural = _("external systems")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"
