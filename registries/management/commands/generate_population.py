import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from tqdm import tqdm

from platform_core.commands import grouped, iso_date
from platform_core.errors import DomainError
from registries.services.population import DEFAULT_CHUNK_SIZE, population_generate


class Command(BaseCommand):
    help = (
        "Generate a realistic synthetic population of a region (households, relations, "
        "statuses, a year of incomes) and bulk-load it with COPY. The same seed gives the "
        "same persons; a seed whose SNILS range is taken in the region is refused."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--region", required=True, help="Region code, e.g. 27.")
        parser.add_argument("--persons", type=int, required=True, help="How many persons.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--as-of",
            type=iso_date,
            default=None,
            help="The date the population is seen at (default today).",
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=DEFAULT_CHUNK_SIZE,
            help=f"Persons per transaction (default {DEFAULT_CHUNK_SIZE}).",
        )

    def handle(  # type: ignore[no-untyped-def]
        self, *args, region: str, persons: int, seed: int, as_of, chunk_size: int, **options
    ) -> None:
        if persons < 0:
            raise CommandError(_("--persons must not be negative."))
        if chunk_size <= 0:
            raise CommandError(_("--chunk-size must be positive."))
        # tqdm draws on the real stderr; disable=None hides the bar when it is no terminal.
        with tqdm(
            total=persons, unit=" persons", unit_scale=True, file=sys.stderr, disable=None
        ) as bar:
            try:
                summary = population_generate(
                    region_code=region,
                    persons=persons,
                    seed=seed,
                    as_of=as_of or timezone.localdate(),
                    chunk_size=chunk_size,
                    progress=bar.update,
                )
            except DomainError as exc:
                raise CommandError(str(exc.message)) from None
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Region %(region)s, seed %(seed)s: %(persons)s persons loaded in %(seconds)s s "
                    "(%(rate)s persons/s)."
                )
                % {
                    "region": region,
                    "seed": seed,
                    "persons": grouped(summary.persons),
                    "seconds": f"{summary.seconds:.1f}",
                    "rate": grouped(round(summary.persons_per_second)),
                }
            )
        )
        self.stdout.write(
            "  "
            + _("relations %(relations)s; statuses %(statuses)s; incomes %(incomes)s")
            % {
                "relations": grouped(summary.relations),
                "statuses": grouped(summary.statuses),
                "incomes": grouped(summary.incomes),
            }
        )
        self.stdout.write(
            "  "
            + _(
                "deaths %(deaths)s; families with children %(families)s; large families "
                "%(large)s; under guardianship %(guardianships)s"
            )
            % {
                "deaths": grouped(summary.deaths),
                "families": grouped(summary.families_with_children),
                "large": grouped(summary.large_families),
                "guardianships": grouped(summary.guardianships),
            }
        )
        if summary.persons:
            self.stdout.write(
                "  "
                + _("SNILS %(first)s … %(last)s (%(newborns)s newborns have none yet)")
                % {
                    "first": summary.snils_first,
                    "last": summary.snils_last,
                    "newborns": grouped(summary.without_snils),
                }
            )
