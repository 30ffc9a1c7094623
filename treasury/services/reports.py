"""Reports of the treasury, as CSV or PDF: the payment register of a batch or a month, the
reconciliation of what was sent with what the bank confirmed, the payments returned, and the
overpayments still to be held back.

Each report is one set-based query over the caller's jurisdiction (the scoped querysets of
the API), read through a server-side cursor: a register of 500,000 payments streams as CSV
without being held in memory, and its totals are summed as its rows pass. A PDF holds its rows
(`TREASURY_REPORT_PDF_MAX_ROWS` at most; beyond it the caller is told to take the CSV).
"""

from __future__ import annotations

import csv
import io
import itertools
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Count, Exists, Min, OuterRef, Q, Sum
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from platform_core.errors import DomainError
from platform_core.models import Region
from platform_core.pdf import Column, table_pdf
from platform_core.scoping import scope_queryset
from treasury.enums import BatchStatus, BudgetSource, PaymentChannel, PaymentStatus
from treasury.models import Accrual, Payment, PaymentBatch

if TYPE_CHECKING:
    from platform_core.models import User

CHUNK = 2000  # rows fetched at a time from the server-side cursor


class ReportKind(models.TextChoices):
    REGISTER = "register", gettext_lazy("Payment register")
    RECONCILIATION = "reconciliation", gettext_lazy("Reconciliation with the bank")
    RETURNS = "returns", gettext_lazy("Payments returned by the bank")
    OVERPAYMENTS = "overpayments", gettext_lazy("Outstanding overpayments")


class ReportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    PDF = "pdf", "PDF"


class ReportInvalid(DomainError):
    """A report's filter is wrong; `field` names the parameter (period, batch, region)."""

    code = "invalid_report_filter"


class ReportTooLarge(DomainError):
    code = "report_too_large"


# What the bank has not answered yet, and what was never sent: the rest of a batch's payments
# are expected from it. Statuses beyond these (and beyond credited and returned) are counted in
# the expected sum, in a column of their own, and in the difference.
AWAITING = (PaymentStatus.FORMED, PaymentStatus.SENT)
NOT_SENT = (PaymentStatus.WITHDRAWN,)
# A later payment in one of these paid again what the bank returned.
PAID_AGAIN = (PaymentStatus.FORMED, PaymentStatus.SENT, PaymentStatus.CREDITED)

RETURN_REASONS = {
    # The contact centre's words for the same reasons (its msgids: one translation).
    "account_closed": gettext_lazy("the account is closed"),
    "wrong_details": gettext_lazy("the bank details are wrong"),
}


@dataclass(frozen=True)
class ReportColumn:
    """A column of a report: its heading, what its values are (text, int, money, bool,
    date, moment), its width in a PDF (points, scaled to fill the page), and whether the
    totals row sums it."""

    heading: str | Promise
    kind: str = "text"
    width: float = 60
    summed: bool = False


@dataclass(frozen=True)
class ReportFilter:
    period: date | None = None
    batch: PaymentBatch | None = None
    region: Region | None = None


@dataclass
class Report:
    """A report ready to be written: its rows are read once, when a format writes them."""

    kind: str
    title: str | Promise
    filter: ReportFilter
    now: datetime
    columns: list[ReportColumn]
    rows: Callable[[], Iterator[Sequence[Any]]]
    # Rows numbered in a first column "No.", and counted in the second's total.
    numbered: bool = False
    lines: list[str] = field(default_factory=list)


def _month(text: str) -> date:
    try:
        month = date.fromisoformat(f"{text}-01")
    except ValueError:
        raise ReportInvalid(
            _("%(value)r is not a month of the form YYYY-MM.") % {"value": text}, field="period"
        ) from None
    return month


def report_filter(
    *,
    kind: str,
    period: str | None = None,
    batch: str | None = None,
    region: str | None = None,
    user: User | None = None,
) -> ReportFilter:
    """Read a report's filter from its parameters' text; a batch outside user's jurisdiction
    is as unknown as one that does not exist.

    Raises ReportInvalid naming the parameter: a malformed month or batch id, an unknown
    batch or region, or one the report needs and did not get."""
    if kind not in ReportKind.values:
        raise ReportInvalid(
            _("Unknown report %(kind)r; one of: %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(ReportKind.values)},
            field="kind",
        )
    month = _month(period) if period else None
    found_batch = None
    if batch:
        try:
            batch_id = uuid.UUID(batch)
        except ValueError:
            raise ReportInvalid(
                _("%(value)r is not a batch id (a UUID).") % {"value": batch}, field="batch"
            ) from None
        batches = PaymentBatch.objects.select_related("region")
        if user is not None:
            batches = scope_queryset(batches, user=user)
        found_batch = batches.filter(uuid=batch_id).first()
        if found_batch is None:
            raise ReportInvalid(
                _("There is no payment batch %(batch)s.") % {"batch": batch_id}, field="batch"
            )
    found_region = None
    if region:
        found_region = Region.objects.filter(pk=region).first()
        if found_region is None:
            raise ReportInvalid(
                _("There is no region with the code %(code)r.") % {"code": region},
                field="region",
            )
    if kind == ReportKind.REGISTER and month is None and found_batch is None:
        raise ReportInvalid(_("The register needs a month (YYYY-MM) or a batch."), field="period")
    if kind in (ReportKind.RECONCILIATION, ReportKind.RETURNS) and month is None:
        raise ReportInvalid(_("This report needs a month (YYYY-MM)."), field="period")
    return ReportFilter(period=month, batch=found_batch, region=found_region)


def _scoped(queryset: models.QuerySet, user: User | None) -> models.QuerySet:
    return queryset if user is None else scope_queryset(queryset, user=user)


def _status_label(value: str) -> str:
    return str(PaymentStatus(value).label) if value in PaymentStatus.values else value


def _channel_label(value: str) -> str:
    return str(PaymentChannel(value).label) if value in PaymentChannel.values else value


def _name(last: str, first: str, patronymic: str) -> str:
    return " ".join(part for part in (last, first, patronymic) if part)


def _register(spec: ReportFilter, user: User | None) -> tuple[list[ReportColumn], Callable]:
    payments = _scoped(Payment.objects.all(), user).exclude(status__in=NOT_SENT)
    if spec.batch is not None:
        payments = payments.filter(batch=spec.batch)
    if spec.period is not None:
        payments = payments.filter(period=spec.period)
    if spec.region is not None:
        payments = payments.filter(region=spec.region)
    columns = [
        ReportColumn(gettext_lazy("Payment id"), "text", 146),
        ReportColumn(gettext_lazy("Recipient"), "text", 84),
        ReportColumn(gettext_lazy("SNILS"), "text", 50),
        ReportColumn(gettext_lazy("Measure code"), "text", 52),
        ReportColumn(gettext_lazy("Measure"), "text", 76),
        ReportColumn(gettext_lazy("Channel"), "text", 48),
        ReportColumn(gettext_lazy("BIC"), "text", 42),
        ReportColumn(gettext_lazy("Account or Mir card"), "text", 88),
        ReportColumn(gettext_lazy("Address"), "text", 68),
        ReportColumn(gettext_lazy("Amount, RUB"), "money", 54, summed=True),
        ReportColumn(gettext_lazy("Status"), "text", 51),
    ]

    def rows() -> Iterator[Sequence[Any]]:
        found = payments.order_by("region_id", "batch_id", "recipient_name", "id").values_list(
            "uuid",
            "recipient_name",
            "snils",
            "measure__code",
            "measure__name",
            "channel",
            "bic",
            "account",
            "card",
            "address",
            "amount",
            "status",
        )
        for row in found.iterator(chunk_size=CHUNK):
            (
                pid,
                name,
                snils,
                code,
                measure,
                channel,
                bic,
                account,
                card,
                address,
                amount,
                status,
            ) = row
            yield (
                str(pid),
                name,
                snils,
                code,
                measure,
                _channel_label(channel),
                bic,
                account or card,
                address,
                amount,
                _status_label(status),
            )

    return columns, rows


def _reconciliation(spec: ReportFilter, user: User | None) -> tuple[list[ReportColumn], Callable]:
    payments = _scoped(Payment.objects.all(), user).filter(batch__period=spec.period)
    if user is not None:  # the batches' own jurisdiction too (their power to pay)
        payments = payments.filter(batch__in=scope_queryset(PaymentBatch.objects.all(), user=user))
    if spec.region is not None:
        payments = payments.filter(batch__region=spec.region)
    known = {PaymentStatus.CREDITED, PaymentStatus.RETURNED, *AWAITING, *NOT_SENT}
    others = [status for status in PaymentStatus if status not in known]
    columns = [
        ReportColumn(gettext_lazy("Batch"), "text", 90),
        ReportColumn(gettext_lazy("Region"), "text", 30),
        ReportColumn(gettext_lazy("Budget source"), "text", 54),
        ReportColumn(gettext_lazy("Channel"), "text", 48),
        ReportColumn(gettext_lazy("Payment date"), "date", 44),
        ReportColumn(gettext_lazy("Batch status"), "text", 52),
        ReportColumn(gettext_lazy("Expected, count"), "int", 30, summed=True),
        ReportColumn(gettext_lazy("Expected, RUB"), "money", 60, summed=True),
        ReportColumn(gettext_lazy("Credited, count"), "int", 30, summed=True),
        ReportColumn(gettext_lazy("Credited, RUB"), "money", 60, summed=True),
        ReportColumn(gettext_lazy("Returned, count"), "int", 30, summed=True),
        ReportColumn(gettext_lazy("Returned, RUB"), "money", 60, summed=True),
        ReportColumn(gettext_lazy("Awaiting the bank, count"), "int", 30, summed=True),
        ReportColumn(gettext_lazy("Awaiting the bank, RUB"), "money", 60, summed=True),
    ]
    for status in others:
        columns += [
            ReportColumn(_("%(status)s, count") % {"status": status.label}, "int", 30, True),
            ReportColumn(_("%(status)s, RUB") % {"status": status.label}, "money", 60, True),
        ]
    columns.append(
        ReportColumn(
            gettext_lazy("Difference (expected − credited − returned), RUB"), "money", 60, True
        )
    )

    def rows() -> Iterator[Sequence[Any]]:
        grouped = (
            payments.values(
                "batch_id",
                "batch__uuid",
                "batch__region_id",
                "batch__source",
                "batch__channel",
                "batch__pay_date",
                "batch__status",
                "status",
            )
            .annotate(n=Count("id"), total=Sum("amount"))
            .order_by("batch__region_id", "batch__pay_date", "batch_id", "status")
        )
        for _batch, statuses in itertools.groupby(
            grouped.iterator(chunk_size=CHUNK), key=lambda row: row["batch_id"]
        ):
            by_status: dict[str, tuple[int, Decimal]] = {}
            first: dict[str, Any] = {}
            for row in statuses:
                first = first or row
                by_status[row["status"]] = (row["n"], row["total"])

            def count_sum(*wanted: str, by_status=by_status) -> tuple[int, Decimal]:
                found = [by_status.get(status, (0, Decimal(0))) for status in wanted]
                return sum(n for n, _s in found), sum((s for _n, s in found), Decimal(0))

            sent = [status for status in by_status if status not in NOT_SENT]
            expected = count_sum(*sent)
            credited = count_sum(PaymentStatus.CREDITED)
            returned = count_sum(PaymentStatus.RETURNED)
            awaiting = count_sum(*AWAITING)
            source, batch_status = first["batch__source"], first["batch__status"]
            yield (
                str(first["batch__uuid"]),
                first["batch__region_id"],
                BudgetSource(source).label if source in BudgetSource.values else source,
                _channel_label(first["batch__channel"]),
                first["batch__pay_date"],
                BatchStatus(batch_status).label
                if batch_status in BatchStatus.values
                else batch_status,
                *expected,
                *credited,
                *returned,
                *awaiting,
                *itertools.chain.from_iterable(count_sum(status) for status in others),
                expected[1] - credited[1] - returned[1],
            )

    return columns, rows


def _returns(spec: ReportFilter, user: User | None) -> tuple[list[ReportColumn], Callable]:
    payments = _scoped(Payment.objects.all(), user).filter(
        status=PaymentStatus.RETURNED, period=spec.period
    )
    if spec.region is not None:
        payments = payments.filter(region=spec.region)
    # Later: of a later month, or made after it (the same month paid again by a later run).
    paid_again = Payment.objects.filter(
        Q(period__gt=OuterRef("period")) | Q(created_at__gt=OuterRef("created_at")),
        person=OuterRef("person"),
        measure=OuterRef("measure"),
        status__in=PAID_AGAIN,
    )
    columns = [
        ReportColumn(gettext_lazy("Payment id"), "text", 146),
        ReportColumn(gettext_lazy("Region"), "text", 26),
        ReportColumn(gettext_lazy("Recipient"), "text", 116),
        ReportColumn(gettext_lazy("SNILS"), "text", 50),
        ReportColumn(gettext_lazy("Measure"), "text", 140),
        ReportColumn(gettext_lazy("Amount, RUB"), "money", 56, summed=True),
        ReportColumn(gettext_lazy("Reason"), "text", 110),
        ReportColumn(gettext_lazy("Returned at"), "moment", 62),
        ReportColumn(gettext_lazy("Paid again"), "bool", 40),
    ]

    def rows() -> Iterator[Sequence[Any]]:
        found = (
            payments.annotate(again=Exists(paid_again))
            .order_by("region_id", "recipient_name", "id")
            .values_list(
                "uuid",
                "region_id",
                "recipient_name",
                "snils",
                "measure__name",
                "amount",
                "return_reason",
                "status_at",
                "again",
            )
        )
        for pid, region, name, snils, measure, amount, reason, at, again in found.iterator(
            chunk_size=CHUNK
        ):
            label = RETURN_REASONS.get(reason, reason)
            yield (str(pid), region, name, snils, measure, amount, str(label), at, again)

    return columns, rows


def _overpayments(spec: ReportFilter, user: User | None) -> tuple[list[ReportColumn], Callable]:
    accruals = _scoped(Accrual.objects.all(), user).filter(payment__isnull=True)
    if spec.region is not None:
        accruals = accruals.filter(region=spec.region)
    columns = [
        ReportColumn(gettext_lazy("Recipient"), "text", 160),
        ReportColumn(gettext_lazy("SNILS"), "text", 55),
        ReportColumn(gettext_lazy("Measure"), "text", 250),
        ReportColumn(gettext_lazy("Region"), "text", 30),
        ReportColumn(gettext_lazy("Overpaid, RUB"), "money", 60, summed=True),
        ReportColumn(gettext_lazy("Since"), "moment", 70),
        ReportColumn(gettext_lazy("Deceased"), "bool", 50),
    ]

    def rows() -> Iterator[Sequence[Any]]:
        # What is owed and unpaid nets against what was overpaid, as the payroll nets it;
        # the region shown is the person's, the scope and filter are the accruals'.
        found = (
            accruals.values(
                "person_id",
                "measure_id",
                "person__last_name",
                "person__first_name",
                "person__patronymic",
                "person__snils",
                "person__region_id",
                "person__death_date",
                "measure__name",
            )
            .annotate(balance=Sum("amount"), since=Min("created_at", filter=Q(amount__lt=0)))
            .filter(balance__lt=0)
            .order_by("person__region_id", "person__last_name", "person_id", "measure_id")
        )
        for row in found.iterator(chunk_size=CHUNK):
            yield (
                _name(
                    row["person__last_name"],
                    row["person__first_name"],
                    row["person__patronymic"],
                ),
                row["person__snils"] or "",
                row["measure__name"],
                row["person__region_id"],
                -row["balance"],
                row["since"],
                row["person__death_date"] is not None,
            )

    return columns, rows


# Each builder, and whether its rows are numbered (a list of payments or persons, not of batches).
_BUILDERS = {
    ReportKind.REGISTER: (_register, True),
    ReportKind.RECONCILIATION: (_reconciliation, False),
    ReportKind.RETURNS: (_returns, True),
    ReportKind.OVERPAYMENTS: (_overpayments, True),
}


def report_build(*, kind: str, spec: ReportFilter, now: datetime, user: User | None) -> Report:
    """The report of kind over spec as of now, over user's jurisdiction (None: everything,
    for operators' commands). Nothing is read until a format writes its rows."""
    builder, numbered = _BUILDERS[ReportKind(kind)]
    columns, rows = builder(spec, user)
    if numbered:
        columns = [ReportColumn(gettext_lazy("No."), "int", 26), *columns]
    zone = ZoneInfo(spec.region.timezone) if spec.region is not None else UTC
    parts = []
    if spec.batch is not None:
        parts.append(_("batch %(batch)s") % {"batch": spec.batch.uuid})
    if spec.period is not None:
        parts.append(_("period %(period)s") % {"period": f"{spec.period:%Y-%m}"})
    if spec.region is not None:
        parts.append(
            _("region %(code)s %(name)s") % {"code": spec.region.code, "name": spec.region.name}
        )
    lines = [
        _("Filter: %(filter)s") % {"filter": "; ".join(parts) if parts else _("none")},
        _("Generated at %(at)s (%(zone)s)")
        % {"at": f"{timezone.localtime(now, zone):%Y-%m-%d %H:%M}", "zone": zone},
    ]
    return Report(
        kind=kind,
        title=ReportKind(kind).label,
        filter=spec,
        now=now,
        columns=columns,
        rows=rows,
        numbered=numbered,
        lines=lines,
    )


def report_file_name(report: Report, fmt: str) -> str:
    """A file name that says what the report is: register-2026-12-27.csv."""
    spec = report.filter
    parts = [report.kind]
    if spec.batch is not None:
        parts.append(str(spec.batch.uuid))
    if spec.period is not None:
        parts.append(f"{spec.period:%Y-%m}")
    if spec.region is not None:
        parts.append(spec.region.code)
    if spec.period is None and spec.batch is None:
        parts.append(f"{report.now:%Y-%m-%d}")
    return "-".join(parts) + f".{fmt}"


def _text(value: Any, kind: str, *, grouped: bool, zone: Any) -> str:
    if value is None:
        return ""
    if kind == "money":
        return f"{value:,.2f}".replace(",", "\u00a0") if grouped else f"{value:.2f}"
    if kind == "bool":
        return str(_("yes") if value else _("no"))
    if kind == "moment":
        return f"{timezone.localtime(value, zone):%Y-%m-%d %H:%M}"
    if kind == "date":
        return value.isoformat()
    return str(value)


def _texts(report: Report, *, grouped: bool) -> Iterator[list[str]]:
    """The report's rows as texts, then its totals row."""
    columns = report.columns
    zone = ZoneInfo(report.filter.region.timezone) if report.filter.region is not None else UTC
    sums: list[Any] = [0 if column.summed else None for column in columns]
    count = 0
    for row in report.rows():
        count += 1
        if report.numbered:
            row = (count, *row)
        for index, column in enumerate(columns):
            if column.summed:
                sums[index] += row[index]
        yield [
            _text(value, column.kind, grouped=grouped, zone=zone)
            for value, column in zip(row, columns, strict=True)
        ]
    totals = [
        _text(
            Decimal(total) if column.kind == "money" else total,
            column.kind,
            grouped=grouped,
            zone=zone,
        )
        if column.summed
        else ""
        for total, column in zip(sums, columns, strict=True)
    ]
    totals[0] = str(_("Total"))
    if report.numbered:
        totals[1] = str(count)
    yield totals


def report_csv(report: Report) -> Iterator[bytes]:
    """The report as CSV in UTF-8 with a byte order mark (Excel then reads Cyrillic), in
    chunks as its rows are read: the headings, the rows, the totals row; in the language
    active now, though a streamed answer's chunks are made after its view returned."""
    language = translation.get_language()

    def chunks() -> Iterator[bytes]:
        with translation.override(language):
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\r\n")
            buffer.write("\ufeff")
            writer.writerow([str(column.heading) for column in report.columns])
            for number, row in enumerate(_texts(report, grouped=False), start=1):
                writer.writerow(row)
                if number % 1000 == 0:
                    yield buffer.getvalue().encode()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue().encode()

    return chunks()


def report_pdf(report: Report) -> bytes:
    """The report as a PDF.

    Raises ReportTooLarge (field "format") beyond TREASURY_REPORT_PDF_MAX_ROWS rows."""
    limit = settings.TREASURY_REPORT_PDF_MAX_ROWS
    texts = _texts(report, grouped=True)
    rows = list(itertools.islice(texts, limit + 2))  # the last is the totals row
    if len(rows) > limit + 1:
        texts.close()
        raise ReportTooLarge(
            _(
                "The report has more than %(limit)d rows, too many for a PDF: download it "
                "as CSV or narrow the filter (a month, a region, a batch)."
            )
            % {"limit": limit},
            field="format",
        )
    return table_pdf(
        title=str(report.title),
        lines=report.lines,
        columns=[
            Column(str(c.heading), c.width, c.kind in ("int", "money")) for c in report.columns
        ],
        rows=rows[:-1],
        totals=rows[-1],
    )


def report_write(report: Report, *, fmt: str) -> Iterable[bytes]:
    """The report in fmt (csv or pdf), as chunks of bytes."""
    if fmt == ReportFormat.PDF:
        return [report_pdf(report)]
    return report_csv(report)
