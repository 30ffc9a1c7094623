"""Choices of the shared kernel."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    FEDERAL_BODY = "federal_body", _("Federal body")
    REGIONAL_MINISTRY = "regional_ministry", _("Regional ministry")
    MUNICIPALITY = "municipality", _("Municipality")
    SOCIAL_FUND_BRANCH = "social_fund_branch", _("Social Fund branch")
    MFC = "mfc", _("Multifunctional centre (MFC)")
    CLIENT_OFFICE = "client_office", _("Client office")


class Power(models.TextChoices):
    """What an organisation may do within its territory."""

    VIEW_PERSONAL_DATA = "view_personal_data", _("View personal data")
    CHANGE_PERSONAL_DATA = "change_personal_data", _("Change personal data")
    ASSIGN_MEASURES = "assign_measures", _("Assign measures")
    PAY_MEASURES = "pay_measures", _("Pay measures")
    RECEIVE_APPLICATIONS = "receive_applications", _("Receive applications")
    MANAGE_REFERENCE_DATA = "manage_reference_data", _("Manage reference data")
    MANAGE_INSURERS = "manage_insurers", _("Manage insurers")
    OPERATE_PLATFORM = "operate_platform", _("Operate the platform")


class Role(models.TextChoices):
    """What a staff user does in their organisation; each role is a Django group."""

    OFFICER = "officer", _("Social protection officer")
    SUPERVISOR = "supervisor", _("Supervisor")
    OPERATOR = "operator", _("Client-office operator")
    CONTACT_CENTRE = "contact_centre", _("Contact-centre operator")
    REFERENCE_EDITOR = "reference_editor", _("Reference data editor")
    PLATFORM_OPERATOR = "platform_operator", _("Platform operator")
    AUDITOR = "auditor", _("Auditor")
    CITIZEN = "citizen", _("Citizen")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed, will retry")
    DEAD = "dead", _("Dead letter")


class DayKind(models.TextChoices):
    WORKING = "working", _("Working day")
    SHORTENED = "shortened", _("Shortened working day")
    WEEKEND = "weekend", _("Weekend")
    HOLIDAY = "holiday", _("Public holiday")
    TRANSFERRED = "transferred", _("Transferred day off")
