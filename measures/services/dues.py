"""What an assignment's terms owe over a stretch of days: the yardstick of recalculations.

Periodic measures accrue by calendar month, a month's part by its days (a quarterly amount is
a third of it a month, an annual one a twelfth); a one-time measure is owed once, on its date.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal

from measures.enums import ProvisionKind

MONTHS_PER_PAYMENT = {
    ProvisionKind.CASH_MONTHLY: 1,
    ProvisionKind.CASH_QUARTERLY: 3,
    ProvisionKind.CASH_ANNUAL: 12,
}
CENT = Decimal("0.01")


def amount_due(
    *, amount: Decimal | None, provision: str, start: date, end: date | None, until: date
) -> Decimal:
    """What `amount` on `provision` owes for the days from start to end (open: to until),
    counted no later than until."""
    if amount is None or start > until:
        return Decimal("0.00")
    if provision not in MONTHS_PER_PAYMENT:
        return amount.quantize(CENT)
    last = until if end is None else min(end, until)
    monthly = amount / MONTHS_PER_PAYMENT[provision]
    total = Decimal(0)
    day = start
    while day <= last:
        days_in_month = calendar.monthrange(day.year, day.month)[1]
        upto = min(date(day.year, day.month, days_in_month), last)
        total += monthly * ((upto - day).days + 1) / days_in_month
        day = upto + timedelta(days=1)
    return total.quantize(CENT)
