"""Choices of the treasury: where money comes from, what is owed, how and whether it is paid."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class BudgetSource(models.TextChoices):
    """The budget a measure is paid from: its level's."""

    FEDERAL = "federal", _("Federal budget")
    REGIONAL = "regional", _("Regional budget")
    MUNICIPAL = "municipal", _("Municipal budget")


class AccrualKind(models.TextChoices):
    REGULAR = "regular", _("Accrued for a period")
    CORRECTION = "correction", _("Correction of an earlier accrual")
    # A pair of these (+x paid, -x not) carries the part of an overpayment a payment could not
    # withhold (the legal cap) to later payments; they net to nothing in the ledger.
    CARRIED = "carried", _("Overpayment carried to a later payment")


class PaymentChannel(models.TextChoices):
    ACCOUNT = "account", _("Bank account")
    CARD = "card", _("Mir card")
    POST = "post", _("Post office")


class PaymentStatus(models.TextChoices):
    FORMED = "formed", _("In a batch")
    SENT = "sent", _("Sent to the bank")
    CREDITED = "credited", _("Credited")
    RETURNED = "returned", _("Returned by the bank")
    WITHDRAWN = "withdrawn", _("Pulled from the batch before it was sent")
    RECALLED = "recalled", _("Taken back from the account by the bank")


# Payments whose money is not out (or no longer): what they paid is owed again.
NOT_PAID_OUT = (PaymentStatus.RETURNED, PaymentStatus.WITHDRAWN, PaymentStatus.RECALLED)


class BatchStatus(models.TextChoices):
    FORMED = "formed", _("Formed")
    APPROVED = "approved", _("Approved")
    SENT = "sent", _("Sent to the bank")
    SETTLED = "settled", _("Settled")


class LedgerAccount(models.TextChoices):
    """The accounts of the ledger: what the budgets spent, what is owed to recipients, what
    went out through the banks."""

    EXPENSE = "expense", _("Expenditure on measures")
    PAYABLE = "payable", _("Owed to recipients")
    BANK = "bank", _("Paid out through banks")


class LedgerEntryKind(models.TextChoices):
    ACCRUAL = "accrual", _("Accruals")
    PAYMENT = "payment", _("Payments")
    RETURN = "return", _("Returns")


class HeldReason(models.TextChoices):
    """Why an accrual owed is not paid yet."""

    NO_DETAILS = "no_details", _("No bank account or address to pay to")
    BUDGET_LIMIT = "budget_limit", _("The budget limit of the measure for the year is reached")
