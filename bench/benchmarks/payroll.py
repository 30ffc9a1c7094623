"""The payroll: 500,000 monthly assignments to accruals, ledger postings, payments, batches and
their files, against a raw COPY of as many payment rows in the same run.

The assignments are written straight into the tables (persons with bank details, or an address
only for one in ten, and their cases, decisions and assignments of the unified allowance), a
quarter of them starting within the month (paid by their days); then one `payroll_run` of the
month, timed, and a COPY of the same number of rows shaped like the payments into a table of
the same columns (the physical limit: what writing those rows alone costs here).
"""

from __future__ import annotations

import io
import time
import uuid
from datetime import date
from pathlib import Path

from django.db import connection
from django.test import override_settings
from django.utils import timezone

from bench.benchmarks import Context, Metric, benchmark
from measures.models import Measure
from measures.services.catalogue import catalogue_load
from treasury.models import Accrual, Payment, PaymentBatch, Posting
from treasury.services.payroll import payroll_run

PERIOD = date(2026, 12, 1)
REGION = "27"
MEASURE = "federal.unified_allowance"
WORK = Path(__file__).resolve().parents[1] / "work" / "payments"


def _assignments(count: int) -> None:
    """count persons, each with a granted case of the measure and a running assignment."""
    measure = Measure.objects.get(code=MEASURE)
    version = measure.rule_versions.order_by("-version").first()
    now = timezone.now()
    params = {
        "n": count,
        "region": REGION,
        "measure": measure.pk,
        "version": version.pk,
        "now": now,
        "period": PERIOD,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO registries_person
                (last_name, first_name, patronymic, birth_date, sex, citizenship, address,
                 phone, email, bank_bic, bank_account, consent_proactive,
                 notification_channels, created_at, updated_at, region_id)
            SELECT 'Получатель', 'Имя' || n, '', DATE '1990-01-01' + (n %% 3000), 'F', 'RUS',
                   'г. Хабаровск, ул. Ленина, д. ' || n,
                   '', '', CASE WHEN n %% 10 = 0 THEN '' ELSE '040813608' END,
                   CASE WHEN n %% 10 = 0 THEN '' ELSE lpad(n::text, 20, '40817810000') END,
                   true, '{}', %(now)s, %(now)s, %(region)s
            FROM generate_series(1, %(n)s) n
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO measures_case
                (person_id, measure_id, region_id, trigger_kind, trigger_key, as_of, status,
                 channel, opened_at, summary, refusal_reason)
            SELECT id, %(measure)s, %(region)s, 'application', 'application:bench', %(period)s,
                   'decided', 'portal', %(now)s, '', ''
            FROM registries_person WHERE last_name = 'Получатель'
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO measures_decision
                (case_id, number, outcome, amount, period_from, legal_basis, explanation,
                 automatic, reason, decided_at, signed, signature, key_id, rule_version_id)
            SELECT id, 'bench-' || id, 'grant', 5000 + id %% 7000,
                   %(period)s - (id %% 400)::int, '', '{}', true, '', %(now)s, '{}', '', '',
                   %(version)s
            FROM measures_case WHERE trigger_key = 'application:bench'
            """,
            params,
        )
        # A quarter start within the month (a part of it, by days); the rest before it.
        cursor.execute(
            """
            INSERT INTO measures_assignment
                (decision_id, person_id, measure_id, region_id, amount, active_from, periodic,
                 status, created_at, ended_reason)
            SELECT d.id, c.person_id, c.measure_id, c.region_id, d.amount,
                   CASE WHEN d.id %% 4 = 0 THEN %(period)s + (d.id %% 28)::int
                        ELSE d.period_from END,
                   true, 'active', %(now)s, ''
            FROM measures_decision d JOIN measures_case c ON c.id = d.case_id
            WHERE d.number LIKE 'bench-%%'
            """,
            params,
        )
        cursor.execute("VACUUM (ANALYZE)")


def _copy_baseline(count: int) -> float:
    """Seconds to COPY count rows shaped like payments into a table of the same columns."""
    buffer = io.StringIO()
    for n in range(count):
        buffer.write(
            f"{n}\t{uuid.uuid4()}\t1\t{n}\t{n}\t1\t27\tfederal\t2026-12-01\t{5000 + n % 7000}.00\tformed\t"
            f"account\tПолучатель Имя{n}\t\t040813608\t{n:020d}\t\t2026-12-01 00:00:00+00\t\n"
        )
    data = buffer.getvalue().encode()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_payment_copy (LIKE treasury_payment INCLUDING DEFAULTS "
            "INCLUDING INDEXES INCLUDING CONSTRAINTS)"
        )
        columns = (
            "id, uuid, batch_id, assignment_id, person_id, measure_id, region_id, source, period, "
            "amount, status, channel, recipient_name, snils, bic, account, address, created_at,"
            " return_reason"
        )
        started = time.perf_counter()
        with cursor.copy(f"COPY bench_payment_copy ({columns}) FROM STDIN") as copy:
            copy.write(data)
        return time.perf_counter() - started


@benchmark(
    Metric(
        "payroll_500k_s",
        "s",
        "run_payroll of a month over 500,000 running monthly assignments (a quarter starting "
        "within it): accruals by days, the ledger entry's postings, 500,000 payments in "
        "batches per budget source and channel, and the batches' CSV files.",
        target=60,
        higher_is_better=False,
        baseline="payroll_copy_baseline_s",
    ),
    Metric(
        "payroll_copy_baseline_s",
        "s",
        "Baseline in the same run: a raw COPY of 500,000 rows shaped like the payments into "
        "a table with the payment table's columns, indexes and constraints.",
        higher_is_better=False,
    ),
    Metric(
        "payroll_vs_copy_ratio",
        "",
        "payroll_500k_s divided by that baseline.",
        higher_is_better=False,
    ),
)
def payroll(ctx: Context) -> dict[str, float]:
    count = ctx.size(full=500_000, quick=20_000)
    with ctx.fresh_database():
        catalogue_load(as_of=PERIOD)
        started = time.perf_counter()
        _assignments(count)
        ctx.log(f"   {count:,} assignments written in {time.perf_counter() - started:.1f} s")
        with override_settings(TREASURY_FIRST_PERIOD=PERIOD.isoformat(), TREASURY_FILES_DIR=WORK):
            marks: list[tuple[str, float]] = []
            started = time.perf_counter()
            summary = payroll_run(
                period=PERIOD,
                now=timezone.now(),
                progress=lambda step: marks.append((step, time.perf_counter())),
            )
            seconds = time.perf_counter() - started
        ends = [at for _, at in marks[1:]] + [started + seconds]
        ctx.log(
            "   steps: "
            + ", ".join(
                f"{step} {end - at:.1f} s" for (step, at), end in zip(marks, ends, strict=True)
            )
        )
        accruals, payments = Accrual.objects.count(), Payment.objects.count()
        ctx.log(
            f"   payroll: {accruals:,} accruals, {payments:,} payments in "
            f"{PaymentBatch.objects.count()} batches, {Posting.objects.count()} postings, "
            f"{len(summary.files)} files, {seconds:.1f} s"
        )
        if accruals != count or payments != count:
            raise RuntimeError(f"expected {count} accruals and payments")
        baseline = _copy_baseline(count)
        ctx.log(f"   COPY of {count:,} payment rows: {baseline:.1f} s")
    scale = 500_000 / count
    return {
        "payroll_500k_s": seconds * scale,
        "payroll_copy_baseline_s": baseline * scale,
        "payroll_vs_copy_ratio": seconds / baseline,
    }
