"""Never twice, never lost, for real: two payroll processes at once, and one killed in the
middle of writing its batches and run again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from django.db.models import Count, Sum

from tests.platform_core.test_worker import ROOT, database_url
from tests.treasury.test_payroll import granted
from treasury.models import Accrual, LedgerEntry, Payment, PaymentBatch

pytestmark = pytest.mark.django_db(transaction=True)

RECIPIENTS = 6


def payroll_process(tmp_path) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": database_url(),
        "TREASURY_FIRST_PERIOD": "2025-01-01",
        "TREASURY_FILES_DIR": str(tmp_path),
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_payroll", "--period", "2025-10"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def paid_once() -> None:
    """Every recipient paid September and October once, 19,000, and nothing else."""
    per_assignment = Payment.objects.values("assignment").annotate(n=Count("id"), s=Sum("amount"))
    assert len(per_assignment) == RECIPIENTS
    assert {(row["n"], row["s"]) for row in per_assignment} == {(1, Decimal("19000.00"))}
    assert Accrual.objects.count() == 2 * RECIPIENTS
    assert not Accrual.objects.filter(payment=None).exists()
    assert LedgerEntry.objects.count() == 1


def test_two_payrolls_at_once_pay_each_month_once(loaded_catalogue, tmp_path):
    for _ in range(RECIPIENTS):
        granted()
    first, second = payroll_process(tmp_path), payroll_process(tmp_path)
    outputs = [process.communicate(timeout=120) for process in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    paid_once()
    assert PaymentBatch.objects.count() == 1  # the one that ran second found nothing to do


def _waiting_on_batches(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as watcher:
        row = watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE '%%INSERT INTO treasury_paymentbatch%%'"
        ).fetchone()
    return row[0] > 0


def test_a_payroll_killed_mid_way_leaves_nothing_and_runs_again(loaded_catalogue, tmp_path):
    for _ in range(RECIPIENTS):
        granted()
    url = database_url()
    # Batches cannot be written while this lock is held: the payroll stops there, after its
    # accruals, corrections and ledger entry were written in its transaction.
    blocker = psycopg.connect(url)
    blocker.execute("LOCK TABLE treasury_paymentbatch IN EXCLUSIVE MODE")
    process = payroll_process(tmp_path)
    deadline = time.monotonic() + 60
    while not _waiting_on_batches(url):
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=20)
    blocker.rollback()
    blocker.close()

    assert not Accrual.objects.exists() and not LedgerEntry.objects.exists()
    assert not Payment.objects.exists()

    again = payroll_process(tmp_path)
    output = again.communicate(timeout=120)
    assert again.returncode == 0, output
    paid_once()
    assert date(2025, 10, 1) in set(Payment.objects.values_list("period", flat=True))
