"""Choices of the base registries."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class NotificationChannel(models.TextChoices):
    PORTAL = "portal", _("Portal inbox")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    POST = "post", _("Post")


class RelationKind(models.TextChoices):
    PARENT = "parent", _("Parent and child")
    SPOUSE = "spouse", _("Spouses")
    REPRESENTATIVE = "representative", _("Legal representative and ward")


class RelationBasis(models.TextChoices):
    BIRTH = "birth", _("Birth")
    ADOPTION = "adoption", _("Adoption")
    PATERNITY = "paternity", _("Establishment of paternity")
    MARRIAGE = "marriage", _("Marriage")
    GUARDIANSHIP = "guardianship", _("Guardianship")
    TRUSTEESHIP = "trusteeship", _("Trusteeship")


class LifeEventKind(models.TextChoices):
    BIRTH = "birth", _("Birth")
    DEATH = "death", _("Death")
    MARRIAGE = "marriage", _("Marriage")
    DIVORCE = "divorce", _("Divorce")
    PATERNITY = "paternity", _("Establishment of paternity")
    ADOPTION = "adoption", _("Adoption")
    NAME_CHANGE = "name_change", _("Change of name")
    DISABILITY_ESTABLISHED = "disability_established", _("Disability established")
    DISABILITY_REMOVED = "disability_removed", _("Disability removed")
    GUARDIANSHIP = "guardianship", _("Guardianship established")
    MOVED = "moved", _("Change of registered address")
    PREGNANCY_REGISTERED = "pregnancy_registered", _("Registered with a clinic for pregnancy")


class LifeEventStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CORRECTED = "corrected", _("Superseded by a correction")
    CANCELLED = "cancelled", _("Cancelled")


class StatusKind(models.TextChoices):
    DISABILITY = "disability", _("Disability")
    LARGE_FAMILY = "large_family", _("Large family")
    LOW_INCOME = "low_income", _("Low-income family")
    PENSIONER = "pensioner", _("Pensioner")
    UNEMPLOYED = "unemployed", _("Unemployed")
    STUDENT = "student", _("Full-time student")


class DisabilityGroup(models.TextChoices):
    GROUP_1 = "1", _("Group I")
    GROUP_2 = "2", _("Group II")
    GROUP_3 = "3", _("Group III")
    CHILD = "child", _("Disabled child")


class IncomeKind(models.TextChoices):
    SALARY = "salary", _("Salary")
    PENSION = "pension", _("Pension")
    BENEFIT = "benefit", _("Social benefit")
    BUSINESS = "business", _("Business income")
    SCHOLARSHIP = "scholarship", _("Scholarship")
    OTHER = "other", _("Other income")


class InsurerKind(models.TextChoices):
    LEGAL_ENTITY = "legal_entity", _("Legal entity")
    ENTREPRENEUR = "entrepreneur", _("Individual entrepreneur")


class SubsistenceGroup(models.TextChoices):
    PER_CAPITA = "per_capita", _("Per capita")
    WORKING_AGE = "working_age", _("Working-age population")
    PENSIONER = "pensioner", _("Pensioners")
    CHILD = "child", _("Children")
