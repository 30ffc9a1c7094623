"""Money owed and paid: accruals per assignment and period, payments in batches for the banks,
and an append-only double-entry ledger by budget source and measure (docs/decisions.md §13).

The database holds the invariants: one regular accrual per (assignment, period); one payment
per (assignment, period) unless the bank returned it; postings never change and every ledger
entry balances (triggers in the migration); a batch is approved by someone other than who
formed it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from measures.models import Assignment, Measure
from platform_core.enums import Power
from platform_core.scoping import Jurisdiction
from registries.models import Person
from treasury.enums import (
    NOT_PAID_OUT,
    AccrualKind,
    BatchStatus,
    BudgetSource,
    HeldReason,
    LedgerAccount,
    LedgerEntryKind,
    PaymentChannel,
    PaymentStatus,
)

MONEY = {"max_digits": 14, "decimal_places": 2}


# A copy of a row's own reference (an accrual's recipient is its assignment's), written by
# the payroll in the same statement: no foreign key check per row for what the source row's
# key already guarantees.
DENORMALISED = {"on_delete": models.DO_NOTHING, "db_constraint": False}
# A reference to a row the payroll made in the same transaction, of a table whose rows are
# never deleted (triggers in treasury/0002): it cannot dangle, and Django's deferred check
# per row cost the commit a third of the payroll (docs/decisions.md §13).
RUN_TOGETHER = {"on_delete": models.DO_NOTHING, "db_constraint": False}


def _region(**options) -> models.ForeignKey:  # type: ignore[no-untyped-def]
    return models.ForeignKey(
        "platform_core.Region",
        related_name="+",
        verbose_name=_("region"),
        **({"on_delete": models.PROTECT} | options),
    )


class LedgerEntry(models.Model):
    """One balanced set of postings (a journal entry) of one region."""

    kind = models.CharField(_("kind"), max_length=16, choices=LedgerEntryKind.choices)
    region = _region()
    period = models.DateField(_("period"))
    at = models.DateTimeField(_("at"))
    description = models.CharField(_("description"), max_length=300)

    jurisdiction = Jurisdiction(region="region", view=Power.PAY_MEASURES, change=Power.PAY_MEASURES)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=LedgerEntryKind.values), name="ledger_entry_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.region_id} {self.period:%Y-%m}"


class Posting(models.Model):
    """A debit or a credit of an account, by budget source and measure."""

    entry = models.ForeignKey(
        LedgerEntry, on_delete=models.PROTECT, related_name="postings", verbose_name=_("entry")
    )
    account = models.CharField(_("account"), max_length=16, choices=LedgerAccount.choices)
    source = models.CharField(_("budget source"), max_length=16, choices=BudgetSource.choices)
    measure = models.ForeignKey(
        Measure, on_delete=models.PROTECT, related_name="+", verbose_name=_("measure")
    )
    debit = models.DecimalField(_("debit, RUB"), default=0, **MONEY)
    credit = models.DecimalField(_("credit, RUB"), default=0, **MONEY)

    jurisdiction = Jurisdiction(
        region="entry__region", view=Power.PAY_MEASURES, change=Power.PAY_MEASURES
    )

    class Meta:
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        ordering = ["entry", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(debit=0) & Q(credit__gt=0)),
                name="posting_one_side",
            ),
            models.CheckConstraint(
                condition=Q(account__in=LedgerAccount.values), name="posting_account_valid"
            ),
            models.CheckConstraint(
                condition=Q(source__in=BudgetSource.values), name="posting_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.debit or -self.credit}"


class PaymentBatch(models.Model):
    """A payment register (выплатной реестр) of one region, budget source, channel and date."""

    uuid = models.UUIDField(_("batch id"), default=uuid.uuid4, unique=True, editable=False)
    region = _region()
    source = models.CharField(_("budget source"), max_length=16, choices=BudgetSource.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=PaymentChannel.choices)
    period = models.DateField(_("period"))
    pay_date = models.DateField(_("payment date"))
    status = models.CharField(
        _("status"), max_length=16, choices=BatchStatus.choices, default=BatchStatus.FORMED
    )
    count = models.PositiveIntegerField(_("payments"), default=0)
    total = models.DecimalField(_("total, RUB"), default=0, **MONEY)
    checksum = models.CharField(_("file checksum (SHA-256)"), max_length=64, blank=True)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    formed_at = models.DateTimeField(_("formed at"))
    formed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("formed by"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    jurisdiction = Jurisdiction(region="region", view=Power.PAY_MEASURES, change=Power.PAY_MEASURES)

    class Meta:
        verbose_name = _("payment batch")
        verbose_name_plural = _("payment batches")
        ordering = ["-formed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=BatchStatus.values), name="batch_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True)
                | Q(formed_by__isnull=True)
                | ~Q(approved_by=F("formed_by")),
                name="batch_maker_is_not_checker",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.source} {self.channel} {self.pay_date}"


class Payment(models.Model):
    """What is paid to a recipient for an assignment and period, and the details it was paid
    on as they were then (later changes never rewrite it)."""

    uuid = models.UUIDField(_("payment id"), default=uuid.uuid4, unique=True, editable=False)
    # Indexed by payment_by_batch. Made with its batch in the same transaction; batches are
    # never deleted (a trigger): no check per row (RUN_TOGETHER).
    batch = models.ForeignKey(
        PaymentBatch,
        related_name="payments",
        verbose_name=_("batch"),
        db_index=False,
        **RUN_TOGETHER,
    )
    # The newest assignment of the accruals it pays (whose own keys are checked, and which are
    # never deleted): DENORMALISED. Indexed by payment_once_per_assignment_period.
    assignment = models.ForeignKey(
        Assignment,
        related_name="payments",
        verbose_name=_("assignment"),
        db_index=False,
        **DENORMALISED,
    )
    # The assignment's, copied by the payroll for scoping and reports (DENORMALISED).
    person = models.ForeignKey(
        Person, related_name="payments", verbose_name=_("recipient"), **DENORMALISED
    )
    measure = models.ForeignKey(
        Measure, related_name="+", verbose_name=_("measure"), db_index=False, **DENORMALISED
    )
    region = _region(db_index=False, **DENORMALISED)  # a plain index in Meta (no _like one)
    source = models.CharField(_("budget source"), max_length=16, choices=BudgetSource.choices)
    period = models.DateField(_("period"))
    amount = models.DecimalField(_("amount, RUB"), **MONEY)
    status = models.CharField(
        _("status"), max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.FORMED
    )
    channel = models.CharField(_("channel"), max_length=16, choices=PaymentChannel.choices)
    recipient_name = models.CharField(_("recipient"), max_length=300)
    snils = models.CharField(_("SNILS"), max_length=11, blank=True)
    bic = models.CharField(_("bank BIC"), max_length=9, blank=True)
    account = models.CharField(_("bank account"), max_length=20, blank=True)
    card = models.CharField(_("Mir card"), max_length=19, blank=True, db_default="")
    address = models.CharField(_("address"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"))
    status_at = models.DateTimeField(_("status since"), null=True, blank=True)
    return_reason = models.CharField(_("why returned"), max_length=100, blank=True)
    withheld = models.DecimalField(
        _("overpayment withheld, RUB"),
        db_default=0,
        help_text=_("Of earlier overpayments, what this payment recovers (within the legal cap)."),
        **MONEY,
    )
    recall_requested_at = models.DateTimeField(
        _("recall asked of the bank at"), null=True, blank=True
    )
    recall_refused = models.CharField(
        _("why the bank refused the recall"), max_length=100, blank=True, db_default=""
    )

    jurisdiction = Jurisdiction(
        region="region", municipality="person__municipality", change=Power.PAY_MEASURES
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Never twice: one payment per assignment and period, unless the bank returned it
            # or took it back, or it was pulled from its batch before it was sent.
            models.UniqueConstraint(
                fields=["assignment", "period"],
                condition=~Q(status__in=NOT_PAID_OUT),
                name="payment_once_per_assignment_period",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(withheld__gte=0), name="payment_withheld_positive"),
            models.CheckConstraint(
                condition=Q(status__in=PaymentStatus.values), name="payment_status_valid"
            ),
            models.CheckConstraint(
                condition=(Q(channel=PaymentChannel.ACCOUNT) & ~Q(account="") & ~Q(bic=""))
                | (Q(channel=PaymentChannel.CARD) & ~Q(card=""))
                | (Q(channel=PaymentChannel.POST) & ~Q(address="")),
                name="payment_has_details",
            ),
        ]
        indexes = [
            models.Index(fields=["batch", "status"], name="payment_by_batch"),
            models.Index(fields=["region"], name="payment_region"),
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id} {self.period:%Y-%m} {self.amount}"


class BudgetLimit(models.Model):
    """What a budget may pay for a measure in a region in a year: payments beyond it are held
    (the accruals stay owed, with the reason) until the limit is raised."""

    region = _region()
    source = models.CharField(_("budget source"), max_length=16, choices=BudgetSource.choices)
    measure = models.ForeignKey(
        Measure, on_delete=models.PROTECT, related_name="+", verbose_name=_("measure")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    amount = models.DecimalField(_("limit, RUB"), **MONEY)

    jurisdiction = Jurisdiction(region="region", view=Power.PAY_MEASURES, change=Power.PAY_MEASURES)

    class Meta:
        verbose_name = _("budget limit")
        verbose_name_plural = _("budget limits")
        ordering = ["-year", "region", "measure"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "source", "measure", "year"], name="budget_limit_once"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="budget_limit_not_negative"),
            models.CheckConstraint(
                condition=Q(source__in=BudgetSource.values), name="budget_limit_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.source} {self.measure_id} {self.year}: {self.amount}"


class BankCursor(models.Model):
    """How far the platform has read a bank's statement (its `seq`)."""

    system = models.OneToOneField(
        "integration.ExternalSystem",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("bank"),
    )
    seq = models.BigIntegerField(_("last statement item read"), default=0)

    jurisdiction = Jurisdiction(region=None, view=Power.PAY_MEASURES, change=Power.PAY_MEASURES)

    class Meta:
        verbose_name = _("bank statement cursor")
        verbose_name_plural = _("bank statement cursors")

    def __str__(self) -> str:
        return f"{self.system_id}: {self.seq}"


class Accrual(models.Model):
    """What an assignment owes for a period (a month; a quarter or a year where the measure is
    paid so), or a correction of such an accrual after the assignment's period changed."""

    assignment = models.ForeignKey(
        Assignment,
        on_delete=models.PROTECT,
        related_name="accruals",
        verbose_name=_("assignment"),
        db_index=False,  # accrual_assignment_period
    )
    # The assignment's, copied by the payroll for scoping and reports (DENORMALISED).
    person = models.ForeignKey(
        Person, related_name="accruals", verbose_name=_("recipient"), **DENORMALISED
    )
    measure = models.ForeignKey(
        Measure, related_name="+", verbose_name=_("measure"), db_index=False, **DENORMALISED
    )
    region = _region(db_index=False, **DENORMALISED)  # a plain index in Meta (no _like one)
    source = models.CharField(_("budget source"), max_length=16, choices=BudgetSource.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=AccrualKind.choices)
    period = models.DateField(_("period"), help_text=_("The first day of the period's month."))
    day_from = models.DateField(_("for days from"))
    day_to = models.DateField(_("for days to"))
    rate = models.DecimalField(_("assigned amount, RUB"), **MONEY)
    amount = models.DecimalField(_("amount, RUB"), **MONEY)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrects"),
        db_index=False,  # accrual_corrections
    )
    accrued_in = models.DateField(_("accrued in the payroll of"))
    held = models.CharField(
        _("not paid because"), max_length=16, choices=HeldReason.choices, blank=True
    )
    created_at = models.DateTimeField(_("created at"))
    # Both made with the accrual by the same payroll (RUN_TOGETHER); nothing looks accruals up
    # by ledger entry.
    ledger_entry = models.ForeignKey(
        LedgerEntry,
        null=True,
        blank=True,
        related_name="accruals",
        verbose_name=_("ledger entry"),
        db_index=False,
        **RUN_TOGETHER,
    )
    payment = models.ForeignKey(
        Payment,
        null=True,
        blank=True,
        related_name="accruals",
        verbose_name=_("payment"),
        **RUN_TOGETHER,
    )

    jurisdiction = Jurisdiction(
        region="region", municipality="person__municipality", change=Power.PAY_MEASURES
    )

    class Meta:
        verbose_name = _("accrual")
        verbose_name_plural = _("accruals")
        ordering = ["-period", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "period"],
                condition=Q(kind=AccrualKind.REGULAR),
                name="accrual_once_per_assignment_period",
            ),
            models.CheckConstraint(
                condition=(Q(kind=AccrualKind.REGULAR) & Q(corrects__isnull=True))
                | (
                    Q(kind__in=[AccrualKind.CORRECTION, AccrualKind.CARRIED])
                    & Q(corrects__isnull=False)
                ),
                name="accrual_correction_names_original",
            ),
            models.CheckConstraint(
                condition=Q(day_to__gte=F("day_from")),
                name="accrual_days_ordered",
            ),
            models.CheckConstraint(
                condition=Q(source__in=BudgetSource.values), name="accrual_source_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["assignment", "period"], name="accrual_assignment_period"),
            models.Index(fields=["region"], name="accrual_region"),
            models.Index(
                fields=["person", "measure"],
                name="accrual_unpaid",
                condition=Q(payment__isnull=True),
            ),
            models.Index(
                fields=["corrects"], name="accrual_corrections", condition=Q(corrects__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id} {self.period:%Y-%m} {self.amount}"
