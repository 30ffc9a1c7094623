"""The proof that the books agree: the ledger's balances against the accruals and payments they
record, and each payment and batch against what it is made of (docs/treasury.md).

By region, budget source and measure:
- expenditure (debit less credit) is what was accrued (regular accruals and corrections; the
  carried pairs net to nothing);
- paid out through banks (credit less debit) is what the banks hold of the payments sent
  (sent or credited; returned and recalled ones were reversed, withdrawn never left);
- owed to recipients (credit less debit) is what was accrued less what was paid out.
And: every ledger entry balances; a payment's amount is the sum of the accruals it pays (and
one returned, recalled or withdrawn pays none); a batch's count and total are its payments'.
Each is one set-based query; nothing is changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from treasury.enums import NOT_PAID_OUT, LedgerAccount, PaymentStatus

PAID_OUT = [PaymentStatus.SENT, PaymentStatus.CREDITED]


@dataclass(frozen=True)
class Mismatch:
    check: str  # one of CHECKS
    where: str  # what disagrees: a region, source and measure; an entry; a payment; a batch
    expected: Decimal  # what the accruals or payments say
    found: Decimal  # what the ledger, payment or batch says


CHECKS = ["entry_balanced", "expense", "bank", "payable", "payment_accruals", "batch_totals"]

BALANCES_SQL = """
WITH ledger AS (
    SELECT e.region_id, p.source, p.measure_id,
           sum(p.debit - p.credit) FILTER (WHERE p.account = %(expense)s) AS expense,
           sum(p.credit - p.debit) FILTER (WHERE p.account = %(bank)s) AS bank,
           sum(p.credit - p.debit) FILTER (WHERE p.account = %(payable)s) AS payable
    FROM treasury_posting p JOIN treasury_ledgerentry e ON e.id = p.entry_id
    WHERE %(region)s::varchar IS NULL OR e.region_id = %(region)s
    GROUP BY 1, 2, 3
), accrued AS (
    SELECT region_id, source, measure_id, sum(amount) AS amount FROM treasury_accrual
    WHERE %(region)s::varchar IS NULL OR region_id = %(region)s
    GROUP BY 1, 2, 3
), paid AS (
    SELECT region_id, source, measure_id, sum(amount) AS amount FROM treasury_payment
    WHERE status = ANY(%(paid_out)s) AND (%(region)s::varchar IS NULL OR region_id = %(region)s)
    GROUP BY 1, 2, 3
), books AS (
    SELECT region_id, source, measure_id,
           COALESCE(l.expense, 0) AS expense, COALESCE(l.bank, 0) AS bank,
           COALESCE(l.payable, 0) AS payable,
           COALESCE(a.amount, 0) AS accrued, COALESCE(p.amount, 0) AS paid
    FROM ledger l
    FULL JOIN accrued a USING (region_id, source, measure_id)
    FULL JOIN paid p USING (region_id, source, measure_id)
)
SELECT check_name, concat_ws(' / ', books.region_id, books.source, m.code), expected, found
FROM books JOIN measures_measure m ON m.id = books.measure_id
CROSS JOIN LATERAL (VALUES ('expense', accrued, expense), ('bank', paid, bank),
                           ('payable', accrued - paid, payable))
    AS c(check_name, expected, found)
WHERE expected <> found
"""

ENTRIES_SQL = """
SELECT 'entry_balanced', concat_ws(' ', e.id, e.kind, e.region_id), sum(p.debit), sum(p.credit)
FROM treasury_ledgerentry e JOIN treasury_posting p ON p.entry_id = e.id
WHERE %(region)s::varchar IS NULL OR e.region_id = %(region)s
GROUP BY e.id HAVING sum(p.debit) <> sum(p.credit)
"""

PAYMENTS_SQL = """
SELECT 'payment_accruals', concat_ws(' ', p.uuid, p.status),
       COALESCE(a.amount, 0), CASE WHEN p.status = ANY(%(not_paid_out)s) THEN 0 ELSE p.amount END
FROM treasury_payment p
LEFT JOIN (SELECT payment_id, sum(amount) AS amount FROM treasury_accrual
           WHERE payment_id IS NOT NULL GROUP BY payment_id) a ON a.payment_id = p.id
WHERE (%(region)s::varchar IS NULL OR p.region_id = %(region)s)
  AND COALESCE(a.amount, 0)
      <> CASE WHEN p.status = ANY(%(not_paid_out)s) THEN 0 ELSE p.amount END
"""

BATCHES_SQL = """
SELECT 'batch_totals', concat_ws(' ', b.uuid, c.what), c.expected, c.found
FROM treasury_paymentbatch b
LEFT JOIN (SELECT batch_id, count(*) AS n, sum(amount) AS total FROM treasury_payment
           WHERE status <> %(withdrawn)s GROUP BY batch_id) t ON t.batch_id = b.id
CROSS JOIN LATERAL (VALUES ('count', COALESCE(t.n, 0)::numeric, b.count::numeric),
                           ('total', COALESCE(t.total, 0), b.total)) AS c(what, expected, found)
WHERE (%(region)s::varchar IS NULL OR b.region_id = %(region)s) AND c.expected <> c.found
"""


def ledger_check(*, region: str | None = None) -> list[Mismatch]:
    """Every disagreement found (none: the books agree), in the order of CHECKS."""
    params = {
        "region": region,
        "expense": LedgerAccount.EXPENSE,
        "bank": LedgerAccount.BANK,
        "payable": LedgerAccount.PAYABLE,
        "paid_out": PAID_OUT,
        "not_paid_out": list(NOT_PAID_OUT),
        "withdrawn": PaymentStatus.WITHDRAWN,
    }
    found: list[Mismatch] = []
    with connection.cursor() as cursor:
        for sql in (ENTRIES_SQL, BALANCES_SQL, PAYMENTS_SQL, BATCHES_SQL):
            cursor.execute(sql, params)
            found += [Mismatch(*row) for row in cursor.fetchall()]
    return sorted(found, key=lambda m: (CHECKS.index(m.check), m.where))
