"""Choices of the contact centre's notifications."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationChannel(models.TextChoices):
    PORTAL = "portal", _("Portal inbox")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class NotificationKind(models.TextChoices):
    DECISION = "decision", _("Decision on a case")
    OFFER = "offer", _("Offer to apply")
    PAYMENT_RETURNED = "payment_returned", _("Payment not credited")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


# What the sending loop still has to try (a failed one without a next attempt was given up).
UNSENT = [NotificationStatus.PENDING, NotificationStatus.FAILED]
