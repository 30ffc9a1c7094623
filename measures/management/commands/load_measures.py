from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from measures.services.catalogue import (
    CATALOGUE_FILE,
    KIND_LABELS,
    CatalogueInvalid,
    catalogue_load,
)


class Command(BaseCommand):
    help = (
        "Load the catalogue of social support measures (organisations, measures, channel "
        "policies, transfers, rules) from a YAML file. All or nothing: any problem refuses "
        "the whole load and every problem is reported with its line and column."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--file",
            dest="path",
            type=Path,
            default=CATALOGUE_FILE,
            help="The catalogue file (default: the one shipped with the platform).",
        )

    def handle(self, *args, path: Path, **options) -> None:  # type: ignore[no-untyped-def]
        try:
            summary = catalogue_load(path=path)
        except CatalogueInvalid as exc:
            for message in exc.problems:
                self.stderr.write(message)
            raise CommandError(str(exc.message)) from None
        self.stdout.write(
            f"{_('kind'):<24}{_('created'):>11}{_('updated'):>11}{_('unchanged'):>11}"
        )
        for kind, counts in summary.counts.items():
            label = str(KIND_LABELS[kind])
            self.stdout.write(
                f"{label:<24}{counts.created:>11}{counts.updated:>11}{counts.unchanged:>11}"
            )
        self.stdout.write(
            self.style.SUCCESS(_("Measures catalogue loaded from %(path)s.") % {"path": path})
        )
