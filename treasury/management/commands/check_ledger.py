from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from platform_core.models import Region
from treasury.services.ledger_check import ledger_check

LABELS = {
    "entry_balanced": gettext_lazy("A ledger entry's debits and credits differ"),
    "expense": gettext_lazy("Expenditure differs from the accruals"),
    "bank": gettext_lazy("Paid out through banks differs from the payments sent"),
    "payable": gettext_lazy("Owed to recipients differs from accrued less paid out"),
    "payment_accruals": gettext_lazy("A payment differs from the accruals it pays"),
    "batch_totals": gettext_lazy("A batch's count or total differs from its payments"),
}


class Command(BaseCommand):
    help = (
        "Prove the books agree: the ledger's balances by region, budget source and measure "
        "against the accruals and payments, every entry balanced, every payment the sum of "
        "its accruals, every batch the sum of its payments. Fails listing each disagreement."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--region", help="Only this region's books (its code).")

    def handle(self, *args, region: str | None, **options) -> None:  # type: ignore[no-untyped-def]
        if region and not Region.objects.filter(code=region).exists():
            raise CommandError(_("--region: no region has the code %(code)r.") % {"code": region})
        mismatches = ledger_check(region=region)
        for m in mismatches:
            self.stdout.write(
                f"{LABELS[m.check]}: {m.where}: "
                + _("expected %(expected)s, found %(found)s")
                % {"expected": m.expected, "found": m.found}
            )
        if mismatches:
            raise CommandError(
                _("The books disagree in %(count)d places.") % {"count": len(mismatches)}
            )
        self.stdout.write(self.style.SUCCESS(_("The books agree.")))
