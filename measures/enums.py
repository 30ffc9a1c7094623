"""Choices of the measures catalogue and the rules engine."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ValueType(models.TextChoices):
    NUMBER = "number", _("number")
    BOOL = "bool", _("yes or no")
    TEXT = "text", _("text")


class DataOwner(models.TextChoices):
    """The agency that owns a kind of data and answers inter-agency requests for it."""

    CIVIL_REGISTRY = "civil_registry", _("Civil registry (ЕГР ЗАГС)")
    INTERIOR = "interior", _("Ministry of the Interior (registered address)")
    TAX_SERVICE = "tax_service", _("Federal Tax Service (incomes)")
    DISABILITY_REGISTRY = "disability_registry", _("Federal register of disabled persons")
    SOCIAL_FUND = "social_fund", _("Social Fund of Russia")
    EDUCATION = "education", _("Education authorities")
    EMPLOYMENT_SERVICE = "employment_service", _("Employment service")
    HEALTH = "health", _("Medical organisations")
    SOCIAL_PROTECTION = "social_protection", _("Regional social protection body")
    REFERENCE = "reference", _("Reference data (НСИ)")


class Outcome(models.TextChoices):
    ELIGIBLE = "eligible", _("Eligible")
    INELIGIBLE = "ineligible", _("Not eligible")
    UNKNOWN = "unknown", _("Data missing")
