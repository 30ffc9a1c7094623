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


class MeasureLevel(models.TextChoices):
    FEDERAL = "federal", _("Federal")
    REGIONAL = "regional", _("Regional")
    MUNICIPAL = "municipal", _("Municipal")


class ProvisionKind(models.TextChoices):
    CASH_ONCE = "cash_once", _("One-time cash payment")
    CASH_MONTHLY = "cash_monthly", _("Monthly cash payment")
    CASH_QUARTERLY = "cash_quarterly", _("Quarterly cash payment")
    CASH_ANNUAL = "cash_annual", _("Annual cash payment")
    IN_KIND = "in_kind", _("In kind")
    CERTIFICATE = "certificate", _("Electronic certificate")
    SERVICE = "service", _("Service")
    STATUS_DOCUMENT = "status_document", _("Status document")


class PayeeRole(models.TextChoices):
    PERSON = "person", _("The person")
    PARENT = "parent", _("A parent")
    CARER = "carer", _("A carer")
    REPRESENTATIVE = "representative", _("A legal representative")


class AssignmentMode(models.TextChoices):
    PROACTIVE = "proactive", _("Proactive, without an application")
    APPLICATION = "application", _("On one application")
    CHOICE = "choice", _("On an application with a choice")


class ApplicantRole(models.TextChoices):
    PERSON = "person", _("The person")
    PARENT = "parent", _("A parent")
    GUARDIAN = "guardian", _("A guardian or trustee")
    REPRESENTATIVE = "representative", _("A representative by power of attorney")


class Channel(models.TextChoices):
    PORTAL = "portal", _("Portal (electronically)")
    CLIENT_OFFICE = "client_office", _("Client office (in person)")
    MFC = "mfc", _("MFC (in person)")
    POST = "post", _("By post (on paper)")
    CONTACT_CENTRE = "contact_centre", _("Contact centre")
    API = "api", _("Another agency's system")


class DataKind(models.TextChoices):
    """A kind of data a measure needs; DATA_KIND_OWNERS says which agency holds it."""

    CIVIL_STATUS = "civil_status", _("Births, deaths, marriages")
    ADDRESS = "address", _("Registered address")
    INCOME = "income", _("Incomes")
    DISABILITY = "disability", _("Disability")
    EMPLOYMENT = "employment", _("Employment")
    PENSION = "pension", _("Pension status")
    EDUCATION = "education", _("Education status")
    PREGNANCY = "pregnancy", _("Pregnancy registration")
    FAMILY_STATUS = "family_status", _("Large-family and low-income status")
    BENEFITS = "benefits", _("Benefits paid by other bodies")


DATA_KIND_OWNERS = {
    DataKind.CIVIL_STATUS: DataOwner.CIVIL_REGISTRY,
    DataKind.ADDRESS: DataOwner.INTERIOR,
    DataKind.INCOME: DataOwner.TAX_SERVICE,
    DataKind.DISABILITY: DataOwner.DISABILITY_REGISTRY,
    DataKind.EMPLOYMENT: DataOwner.SOCIAL_FUND,
    DataKind.PENSION: DataOwner.SOCIAL_FUND,
    DataKind.EDUCATION: DataOwner.EDUCATION,
    DataKind.PREGNANCY: DataOwner.HEALTH,
    DataKind.FAMILY_STATUS: DataOwner.SOCIAL_PROTECTION,
    DataKind.BENEFITS: DataOwner.SOCIAL_FUND,
}


class RuleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class CaseStatus(models.TextChoices):
    """Where a case (личное дело по мере) stands; changed only by measures/services/cases.py."""

    OPEN = "open", _("Opened, being evaluated")
    OFFERED = "offered", _("Offered: waiting for the citizen's application")
    WAITING_DATA = "waiting_data", _("Waiting for data from other agencies")
    REVIEW = "review", _("In an officer's queue")
    DECIDED = "decided", _("Decided")
    NO_RIGHT = "no_right", _("Closed: no right found")
    CLOSED = "closed", _("Closed")


OPEN_CASE_STATUSES = [
    CaseStatus.OPEN,
    CaseStatus.OFFERED,
    CaseStatus.WAITING_DATA,
    CaseStatus.REVIEW,
]


class TriggerKind(models.TextChoices):
    LIFE_EVENT = "life_event", _("Life event")
    APPLICATION = "application", _("Application")
    MILESTONE = "milestone", _("Age or period milestone")
    RECALCULATION = "recalculation", _("Recalculation")


class RecalculationCause(models.TextChoices):
    """Why an assignment is worked out again."""

    CORRECTION = "correction", _("A life event was corrected")
    CANCELLATION = "cancellation", _("A life event was cancelled")
    PARAMETERS = "parameters", _("The measure's rules or amounts changed")
    INCOME = "income", _("Income data of the family changed")


class CaseEntryKind(models.TextChoices):
    """What a line of a case's timeline records."""

    OPENED = "opened", _("Case opened")
    APPLIED = "applied", _("Application received")
    STATUS = "status", _("Status changed")
    EVALUATED = "evaluated", _("Entitlement evaluated")
    DATA_REQUESTED = "data_requested", _("Data requested from another agency")
    DATA_RECEIVED = "data_received", _("Data received")
    DECIDED = "decided", _("Decision taken")
    ASSIGNED = "assigned", _("Measure assigned")
    NOTIFIED = "notified", _("Citizen notified")
    COMMENT = "comment", _("Comment")


class DecisionOutcome(models.TextChoices):
    GRANT = "grant", _("Granted")
    REFUSE = "refuse", _("Refused")


class AssignmentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    TERMINATED = "terminated", _("Terminated")


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    DONE = "done", _("Decided")


class ContractSubject(models.TextChoices):
    """What a social contract is for (Federal Law 178-FZ, art. 8.1)."""

    JOB_SEARCH = "job_search", _("Finding a job")
    BUSINESS = "business", _("Starting a business")
    SUBSIDIARY_FARMING = "subsidiary_farming", _("A personal subsidiary farm")
    HARDSHIP = "hardship", _("Other measures to overcome a difficult situation")


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("In force")
    COMPLETED = "completed", _("Completed")
    TERMINATED = "terminated", _("Terminated early")


class AssistanceKind(models.TextChoices):
    MONTHLY_CASH = "monthly_cash", _("Monthly cash payment")
    LUMP_SUM = "lump_sum", _("Lump sum")
    TRAINING = "training", _("Vocational training")
    SERVICE = "service", _("Social service")
