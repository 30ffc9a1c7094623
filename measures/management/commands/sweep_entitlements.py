import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from tqdm import tqdm

from measures.enums import Outcome
from measures.models import Measure
from measures.services.entitlements import entitlement_sweep
from platform_core.commands import grouped, iso_date
from platform_core.errors import DomainError
from platform_core.models import Region
from registries.models import Person


class Command(BaseCommand):
    help = (
        "Evaluate one measure for every person of a region and store their entitlements "
        "(outcome, amount, the facts used). Idempotent: a repeated sweep rewrites nothing."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--measure", required=True, help="Measure code.")
        parser.add_argument("--region", required=True, help="Region code, e.g. 27.")
        parser.add_argument(
            "--as-of", type=iso_date, default=None, help="The date of evaluation (default today)."
        )

    def handle(self, *args, measure: str, region: str, as_of: date | None, **options) -> None:  # type: ignore[no-untyped-def]
        found = Measure.objects.filter(code=measure).first()
        if found is None:
            raise CommandError(_("Unknown measure %(code)s.") % {"code": measure})
        if not Region.objects.filter(pk=region).exists():
            raise CommandError(_("Unknown region %(code)s.") % {"code": region})
        on = as_of or timezone.localdate()
        bounds = Person.objects.filter(region_id=region).order_by("pk")
        first, last = bounds.values_list("pk", flat=True).first(), bounds.last()
        total = (last.pk - first + 1) if first is not None and last is not None else 0
        with tqdm(total=total, unit=" ids", unit_scale=True, file=sys.stderr, disable=None) as bar:
            try:
                summary = entitlement_sweep(
                    measure=found, region_code=region, on=on, progress=bar.update
                )
            except DomainError as exc:
                raise CommandError(str(exc.message)) from None
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "%(measure)s, region %(region)s, as of %(date)s, rules v%(version)s: "
                    "%(persons)s persons in %(seconds)s s; %(written)s entitlements written "
                    "or changed."
                )
                % {
                    "measure": summary.measure,
                    "region": summary.region,
                    "date": summary.as_of.isoformat(),
                    "version": summary.rule_version,
                    "persons": grouped(summary.persons),
                    "seconds": f"{summary.seconds:.1f}",
                    "written": grouped(summary.written),
                }
            )
        )
        for outcome, count in sorted(summary.outcomes.items()):
            self.stdout.write(f"  {Outcome(outcome).label:<22} {count:>10,}")
