import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from tqdm import tqdm

from registries.services.insurers_import import (
    ALL_OR_NOTHING,
    KEEP_GOOD,
    ImportProblem,
    InsurerImportError,
    insurers_import,
)

# Below this a file imports in about a second; a bar would only flicker.
PROGRESS_BAR_MIN_BYTES = 1 << 20


class Command(BaseCommand):
    help = (
        "Import insurers (employers) from a ЕГРЮЛ/ЕГРИП XML extract (.xml) or a CSV list "
        "(.csv), creating or updating them by INN. Without --keep-good, any problem refuses "
        "the whole file."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("path", type=Path, help="The .xml or .csv file.")
        parser.add_argument(
            "--keep-good",
            action="store_true",
            help="Write the good records and report the bad ones instead of refusing the file.",
        )

    def handle(self, *args, path: Path, keep_good: bool, **options) -> None:  # type: ignore[no-untyped-def]
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from None
        # tqdm draws on the real stderr with carriage returns; Django's OutputWrapper would
        # add a newline to every redraw. disable=None hides the bar when stderr is no terminal.
        with tqdm(
            total=size,
            unit="B",
            unit_scale=True,
            desc=path.name,
            file=sys.stderr,
            leave=False,
            disable=True if size < PROGRESS_BAR_MIN_BYTES else None,
        ) as bar:
            try:
                report = insurers_import(
                    path=path, mode=KEEP_GOOD if keep_good else ALL_OR_NOTHING, progress=bar.update
                )
            except InsurerImportError as exc:
                bar.close()
                self._write_problems(exc.problems)
                count = len(exc.problems)
                raise CommandError(
                    ngettext(
                        "%(file)s was not imported: %(count)d problem.",
                        "%(file)s was not imported: %(count)d problems.",
                        count,
                    )
                    % {"file": path.name, "count": count}
                ) from None
            except OSError as exc:
                raise CommandError(f"{path}: {exc.strerror}") from None
        self.stdout.write(
            _(
                "%(file)s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged, "
                "%(rejected)d rejected."
            )
            % {
                "file": path.name,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": report.rejected,
            }
        )
        if report.problems:
            self._write_problems(report.problems)
            raise CommandError(
                ngettext(
                    "%(count)d record of %(file)s was rejected; the others were kept.",
                    "%(count)d records of %(file)s were rejected; the others were kept.",
                    report.rejected,
                )
                % {"count": report.rejected, "file": path.name}
            )
        self.stdout.write(self.style.SUCCESS(_("Done.")))

    def _write_problems(self, problems: list[ImportProblem]) -> None:
        for problem in problems:
            self.stderr.write(str(problem))
