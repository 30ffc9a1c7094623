"""Choices of the integration app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SystemKind(models.TextChoices):
    CIVIL_REGISTRY = "civil_registry", _("Civil registry (ZAGS)")
    DISABILITY_REGISTRY = "disability_registry", _("Federal disability registry")
    EDUCATION = "education", _("Education system")
    INSURER = "insurer", _("Insurer")
    TAX = "tax", _("Tax service")
    SOCIAL_FUND = "social_fund", _("Social Fund")
    INTERIOR = "interior", _("Interior ministry (registered addresses)")
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


class DataKind(models.TextChoices):
    """What the platform asks other agencies for (one port each, integration/ports.py)."""

    INCOME = "income", _("Income (tax service)")
    BENEFITS = "benefits", _("Benefits paid by other bodies")
    ADDRESS = "address", _("Registered address")
    EDUCATION = "education", _("Education status")
    DISABILITY = "disability", _("Disability")
    PENSION = "pension", _("Pension status")


class ExchangeStatus(models.TextChoices):
    """Where one exchange with a provider stands."""

    PENDING = "pending", _("To be sent")
    WAITING = "waiting", _("Sent, waiting for the answer")
    ANSWERED = "answered", _("Answered")
    NOT_FOUND = "not_found", _("Answered: no record")
    FAILED = "failed", _("Refused by the provider")
    EXPIRED = "expired", _("No answer by the deadline")


class AttemptOutcome(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    NOT_FOUND = "not_found", _("No record")
    ACCEPTED = "accepted", _("Accepted, answer later")
    UNKNOWN = "unknown", _("Provider does not know the request")
    REFUSED = "refused", _("Refused")
    ERROR = "error", _("Failed (will retry)")
    CIRCUIT_OPEN = "circuit_open", _("Not sent: provider's circuit open")


class ComplaintKind(models.TextChoices):
    WRONG_DATA = "wrong_data", _("Received data is wrong")
    LATE_ANSWER = "late_answer", _("Provider answers late")


class ComplaintStatus(models.TextChoices):
    PENDING = "pending", _("To be sent")
    SENT = "sent", _("Sent, waiting for the answer")
    ANSWERED = "answered", _("Answered")


class PublicationStatus(models.TextChoices):
    PENDING = "pending", _("To be sent")
    ACCEPTED = "accepted", _("Accepted by the register")
    REJECTED = "rejected", _("Rejected by the register")
    SUPERSEDED = "superseded", _("Superseded by a later version before it was sent")
