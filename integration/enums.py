"""Choices of the integration app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SystemKind(models.TextChoices):
    CIVIL_REGISTRY = "civil_registry", _("Civil registry (ZAGS)")
    DISABILITY_REGISTRY = "disability_registry", _("Federal disability registry")
    EDUCATION = "education", _("Education system")
    INSURER = "insurer", _("Insurer")
    TAX = "tax", _("Tax service")
    BANK = "bank", _("Bank")
    FEDERAL_REGISTER = "federal_register", _("Federal social security register")


class Scope(models.TextChoices):
    """What an external system may send."""

    CIVIL_REGISTRY_EVENTS = "civil_registry.events", _("Civil registry events")
    DISABILITY_EVENTS = "disability.events", _("Disability registry events")
    EDUCATION_EVENTS = "education.events", _("Education events")
    INSURER_EVENTS = "insurer.events", _("Insurer employment events")


class Contract(models.TextChoices):
    """The data contract an inbound event follows (integration/contracts/)."""

    CIVIL_REGISTRY_EVENT = "civil_registry_event", _("Civil registry act record")
    DISABILITY_EVENT = "disability_event", _("Disability registry record")
    EDUCATION_EVENT = "education_event", _("Education record")


class InboxStatus(models.TextChoices):
    RECEIVED = "received", _("Received, not applied yet")
    APPLIED = "applied", _("Applied")
    REVIEW = "review", _("Waiting for an officer's review")
    FAILED = "failed", _("Failed; an operator applies it again")
    DISCARDED = "discarded", _("Discarded by an officer")
