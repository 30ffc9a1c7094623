from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from treasury.services.bank_files import BankFileInvalid, bank_file_import


class Command(BaseCommand):
    help = (
        "Apply a bank's file of payment outcomes (credited or returned, with a TOTAL line). "
        "All or nothing: any problem refuses the whole file and every problem is reported "
        "with its line and field; a file applied before changes nothing."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("path", type=Path, help="The bank's CSV file.")

    def handle(self, *args, path: Path, **options) -> None:  # type: ignore[no-untyped-def]
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from None
        try:
            counts = bank_file_import(content=content, now=timezone.now())
        except BankFileInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(f"{path}, {problem}")
            raise CommandError(str(exc.message)) from None
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "%(path)s applied: %(credited)d credited, %(returned)d returned, "
                    "%(ignored)d applied before."
                )
                % {"path": path, **counts}
            )
        )
