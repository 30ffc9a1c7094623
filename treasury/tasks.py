"""Celery tasks of the treasury: the monthly payroll, on beat's schedule."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from treasury.enums import LedgerEntryKind
from treasury.models import LedgerEntry
from treasury.services.bank import bank_exchange
from treasury.services.payroll import payroll_run


@shared_task(name="treasury.monthly_payroll")
def monthly_payroll() -> dict:
    """The month's payroll, once, from its formation day on (beat asks hourly; a month's
    later runs, for what came since, are the operators': `manage.py run_payroll`)."""
    today = timezone.localdate()
    period = today.replace(day=1)
    if today.day < settings.TREASURY_PAYROLL_DAY:
        return {"period": period.isoformat(), "ran": False, "why": "before the payroll day"}
    if LedgerEntry.objects.filter(kind=LedgerEntryKind.ACCRUAL, period=period).exists():
        return {"period": period.isoformat(), "ran": False, "why": "ran this month"}
    summary = payroll_run(period=period, now=timezone.now())
    return {
        "period": period.isoformat(),
        "ran": True,
        "accrued": summary.accrued,
        "corrected": summary.corrected,
        "payments": summary.payments,
        "batches": summary.batches,
    }


@shared_task(name="treasury.bank_exchange")
def bank_exchange_run() -> dict:
    """Approved batches to the bank, and its statement read (idempotent: beat runs it often)."""
    return bank_exchange(now=timezone.now())
