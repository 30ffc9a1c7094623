from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from measures.enums import CaseStatus
from measures.models import Measure
from measures.services.recalculation import recalculations_for_measure
from platform_core.models import Region


class Command(BaseCommand):
    help = (
        "Work out again every assignment of a measure running on or after a date, after its "
        "rules or amounts changed (retroactively too). Each is a recalculation case, decided "
        "by the rules in force; the difference becomes arrears or an overpayment. Run again "
        "for the same date, it does nothing new."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--measure", required=True, help="The measure's code.")
        parser.add_argument(
            "--from", dest="since", required=True, help="The first day of the change, YYYY-MM-DD."
        )
        parser.add_argument("--region", help="Only this region's assignments (its code).")

    def handle(self, *args, measure: str, since: str, region: str | None, **options) -> None:  # type: ignore[no-untyped-def]
        try:
            effective_from = date.fromisoformat(since)
        except ValueError:
            raise CommandError(
                _("--from: %(value)r is not a date of the form YYYY-MM-DD.") % {"value": since}
            ) from None
        found = Measure.objects.filter(code=measure).first()
        if found is None:
            raise CommandError(
                _("--measure: no measure has the code %(code)r.") % {"code": measure}
            )
        if region and not Region.objects.filter(code=region).exists():
            raise CommandError(_("--region: no region has the code %(code)r.") % {"code": region})
        cases = recalculations_for_measure(
            measure=found, effective_from=effective_from, now=timezone.now(), region_code=region
        )
        by_status: dict[str, int] = {}
        for case in cases:
            by_status[case.status] = by_status.get(case.status, 0) + 1
        for status, count in sorted(by_status.items()):
            self.stdout.write(f"{CaseStatus(status).label:<40}{count:>8}")
        self.stdout.write(
            self.style.SUCCESS(
                _("%(count)d assignments of %(measure)s worked out again from %(day)s.")
                % {"count": len(cases), "measure": measure, "day": effective_from.isoformat()}
            )
        )
