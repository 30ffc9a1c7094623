import argparse
import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from platform_core.errors import DomainError
from registries.services.population import DEFAULT_CHUNK_SIZE, population_generate


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date in the form 2025-01-31."
        ) from None


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
            type=_iso_date,
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
            raise CommandError("--persons must not be negative.")
        if chunk_size <= 0:
            raise CommandError("--chunk-size must be positive.")
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
                f"Region {region}, seed {seed}: {summary.persons:,} persons loaded in "
                f"{summary.seconds:.1f} s ({summary.persons_per_second:,.0f} persons/s)."
            )
        )
        self.stdout.write(
            f"  relations {summary.relations:,}; statuses {summary.statuses:,}; "
            f"incomes {summary.incomes:,}"
        )
        self.stdout.write(
            f"  deaths {summary.deaths:,}; families with children "
            f"{summary.families_with_children:,}; large families {summary.large_families:,}; "
            f"under guardianship {summary.guardianships:,}"
        )
        if summary.persons:
            self.stdout.write(
                f"  SNILS {summary.snils_first} … {summary.snils_last} "
                f"({summary.without_snils:,} newborns have none yet)"
            )
