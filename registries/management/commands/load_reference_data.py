from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from registries.services.reference import (
    REFERENCE_DATA_DIR,
    ReferenceDataError,
    reference_data_load,
)


class Command(BaseCommand):
    help = (
        "Load the reference data (regions, municipalities, classifiers, the BIC directory, "
        "subsistence minimums) from CSV files and seed the production calendar. All or "
        "nothing: any bad line refuses the whole load and every problem is reported."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--dir",
            dest="directory",
            type=Path,
            default=REFERENCE_DATA_DIR,
            help="Folder of the CSV files (default: the files shipped with the platform).",
        )

    def handle(self, *args, directory: Path, **options) -> None:  # type: ignore[no-untyped-def]
        if not directory.is_dir():
            raise CommandError(_("%(path)s: not a folder.") % {"path": directory})
        try:
            summary = reference_data_load(
                directory=directory, stdout=self.stdout if options["verbosity"] >= 2 else None
            )
        except ReferenceDataError as exc:
            for message in exc.errors:
                self.stderr.write(message)
            raise CommandError(str(exc.message)) from None
        self.stdout.write(
            f"{_('kind'):<22}{_('created'):>11}{_('updated'):>11}{_('unchanged'):>11}"
        )
        for kind, counts in summary.counts.items():
            self.stdout.write(
                f"{kind:<22}{counts.created:>11}{counts.updated:>11}{counts.unchanged:>11}"
            )
        self.stdout.write(
            self.style.SUCCESS(_("Reference data loaded from %(path)s.") % {"path": directory})
        )
