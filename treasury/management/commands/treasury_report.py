import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from treasury.services.reports import (
    ReportFormat,
    ReportInvalid,
    ReportKind,
    ReportTooLarge,
    report_build,
    report_filter,
    report_write,
)


class Command(BaseCommand):
    help = (
        "Write a treasury report as CSV or PDF: the payment register of a batch or a month, "
        "the reconciliation of a month's batches with the bank, the payments returned in a "
        "month, or the overpayments outstanding. CSV goes to standard output without "
        "--output; a file is written whole or not at all."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("kind", choices=ReportKind.values, help="The report.")
        parser.add_argument("--period", help="The month, YYYY-MM.")
        parser.add_argument("--batch", help="A batch's id (UUID), for the register.")
        parser.add_argument("--region", help="A region's code, e.g. 27.")
        parser.add_argument(
            "--format", dest="fmt", choices=ReportFormat.values, default=ReportFormat.CSV
        )
        parser.add_argument("--output", type=Path, help="The file to write (PDF needs one).")

    def handle(self, *args, kind: str, fmt: str, output: Path | None, **options) -> None:  # type: ignore[no-untyped-def]
        if fmt == ReportFormat.PDF and output is None:
            raise CommandError(_("--output: a PDF is written to a file; name it."))
        if output is not None and not output.parent.is_dir():
            raise CommandError(
                _("--output: there is no folder %(folder)s.") % {"folder": output.parent}
            )
        try:
            spec = report_filter(
                kind=kind,
                period=options["period"],
                batch=options["batch"],
                region=options["region"],
            )
            report = report_build(kind=kind, spec=spec, now=timezone.now(), user=None)
            if output is None:
                for chunk in report_write(report, fmt=fmt):
                    self.stdout.write(chunk.decode(), ending="")
                return
            chunks = report_write(report, fmt=fmt)
            # A temporary file beside the output, renamed over it once whole: a failure
            # half-way leaves no half a report under the name asked for.
            handle, temporary = tempfile.mkstemp(
                dir=output.parent, prefix=f".{output.name}.", suffix=".part"
            )
            try:
                with os.fdopen(handle, "wb") as file:
                    for chunk in chunks:
                        file.write(chunk)
                os.replace(temporary, output)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except (ReportInvalid, ReportTooLarge) as exc:
            raise CommandError(f"--{exc.field}: {exc.message}") from None
        self.stderr.write(
            _("%(report)s written to %(path)s.") % {"report": report.title, "path": output}
        )
