import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from tqdm import tqdm

from treasury.enums import BudgetSource
from treasury.services.payroll import STEPS, payroll_run


def _month(value: str) -> date:
    try:
        return date.fromisoformat(f"{value}-01")
    except ValueError:
        raise CommandError(
            _("--period: %(value)r is not a month of the form YYYY-MM.") % {"value": value}
        ) from None


class Command(BaseCommand):
    help = (
        "Run the payroll of a month: accruals of every running assignment up to it (and "
        "corrections of what ended), ledger postings, payments in batches per region, budget "
        "source and channel, and the batches' files. Run again, it adds only what is new."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--period", required=True, help="The month, YYYY-MM.")
        parser.add_argument(
            "--pay-date", help="The payment date, YYYY-MM-DD (default: the pay day)."
        )

    def handle(self, *args, period: str, pay_date: str | None, **options) -> None:  # type: ignore[no-untyped-def]
        month = _month(period)
        paid_on = None
        if pay_date:
            try:
                paid_on = date.fromisoformat(pay_date)
            except ValueError:
                raise CommandError(
                    _("--pay-date: %(value)r is not a date of the form YYYY-MM-DD.")
                    % {"value": pay_date}
                ) from None
        # tqdm draws on the real stderr (Django's wrapper would add a newline to every redraw);
        # disable=None hides the bar when stderr is no terminal.
        with tqdm(
            total=len(STEPS), desc=_("Payroll"), file=sys.stderr, leave=False, disable=None
        ) as bar:

            def progress(step: str) -> None:
                bar.set_postfix_str(step)
                bar.update(0 if step == STEPS[0] else 1)

            summary = payroll_run(
                period=month, now=timezone.now(), pay_date=paid_on, progress=progress
            )
        self.stdout.write(
            f"{_('budget'):<22}{_('measure'):<40}{_('accruals'):>10}{_('sum'):>16}"
            f"{_('payments'):>10}{_('sum'):>16}"
        )
        for source, code, n, total, paid_n, paid in summary.by_source_measure:
            self.stdout.write(
                f"{BudgetSource(source).label:<22}{code:<40}{n:>10}{total:>16,.2f}"
                f"{paid_n:>10}{paid:>16,.2f}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Payroll %(period)s: %(accrued)d accruals, %(corrected)d corrections, "
                    "%(payments)d payments in %(batches)d batches; %(held)d recipients wait "
                    "(no payment details, or a budget limit reached)."
                )
                % {
                    "period": f"{summary.period:%Y-%m}",
                    "accrued": summary.accrued,
                    "corrected": summary.corrected,
                    "payments": summary.payments,
                    "batches": summary.batches,
                    "held": summary.held,
                }
            )
        )
