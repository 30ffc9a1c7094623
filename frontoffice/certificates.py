"""Certificates on demand (справки): what a person is assigned and how much, what was paid
to them over a period, or what is left of their maternity (family) capital; a real PDF, kept
as issued, with a code anyone can check on the public page (`/portal/check/`), which shows
what the certificate says and nothing else."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Sum
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from frontoffice.models import Certificate, CertificateKind
from measures.enums import AssignmentStatus, MeasureLevel, ProvisionKind
from measures.models import Assignment
from measures.services.cases import local_day
from platform_core.errors import DomainError
from platform_core.pdf import Column, table_pdf
from registries.models import Person
from treasury.enums import PaymentStatus
from treasury.models import Payment

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed


class CertificateInvalid(DomainError):
    code = "invalid_certificate"


def _code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def _money(value: Decimal | None) -> str:
    return "—" if value is None else formats.number_format(value, 2, force_grouping=True)


def _day(value: date | None) -> str:
    return "—" if value is None else formats.date_format(value, "SHORT_DATE_FORMAT")


def _assignments(person: Person) -> dict[str, Any]:
    rows = [
        [
            a.measure.name,
            _money(a.amount),
            _day(a.active_from),
            _day(a.active_to),
            str(AssignmentStatus(a.status).label),
        ]
        for a in person.assignments.select_related("measure").order_by("active_from", "pk")
    ]
    return {
        "headings": [_("Measure"), _("Amount, RUB"), _("From"), _("To"), _("Status")],
        "numeric": [False, True, False, False, False],
        "rows": rows,
        "totals": [_("Total"), str(len(rows)), "", "", ""],
    }


def _payments(person: Person, start: date, end: date) -> dict[str, Any]:
    paid = (
        Payment.objects.filter(
            person=person,
            batch__pay_date__range=(start, end),
            status__in=[PaymentStatus.SENT, PaymentStatus.CREDITED],
        )
        .select_related("measure", "batch")
        .order_by("batch__pay_date", "pk")
    )
    rows = [
        [
            _day(p.batch.pay_date),
            p.measure.name,
            f"{p.period:%m.%Y}",
            _money(p.amount),
            str(p.get_status_display()),
        ]
        for p in paid
    ]
    total = paid.aggregate(s=Sum("amount"))["s"] or Decimal(0)
    return {
        "headings": [
            _("Payment date"),
            _("Measure"),
            _("For the month"),
            _("Amount, RUB"),
            _("Status"),
        ],
        "numeric": [False, False, False, True, False],
        "rows": rows,
        "totals": [_("Total"), str(len(rows)), "", _money(total), ""],
    }


# Federal first, then the region's, then a municipality's: each capital is its own certificate.
LEVEL_ORDER = [MeasureLevel.FEDERAL, MeasureLevel.REGIONAL, MeasureLevel.MUNICIPAL]


def capital_assignments(person: Person, on: date) -> list[Assignment]:
    """The person's maternity (family) capital certificates in force on a day: assignments of
    a measure provided as a certificate with an amount (the federal capital, a region's),
    not terminated, federal first."""
    found = (
        person.assignments.filter(
            measure__provision=ProvisionKind.CERTIFICATE,
            amount__isnull=False,
            active_from__lte=on,
        )
        .exclude(status=AssignmentStatus.TERMINATED)
        .select_related("measure", "decision")
        .order_by("active_from", "pk")
    )
    return sorted(found, key=lambda a: LEVEL_ORDER.index(MeasureLevel(a.measure.level)))


def capital_applies(person: Person, *, now: datetime) -> bool:
    """Whether the person holds a capital certificate on the day of `now` (the portal's local
    date, the day the certificate's "issued at" shows)."""
    return bool(capital_assignments(person, timezone.localdate(now)))


def capital_disposals(assignment: Assignment) -> list[dict[str, str]]:
    """What has been disposed of a capital certificate, as recorded on this platform: nothing.

    The platform keeps no record of disposals (a capital is granted here; the treasury's
    payroll accrues cash provisions only, treasury.services.payroll.SPAN_SQL, and nothing
    else spends a certificate), so the list is empty and the balance is the amount granted.
    Where disposals come to be recorded, they are listed here and the balance follows."""
    return []


def _capital(person: Person, on: date) -> dict[str, Any]:
    rows, disposals = [], []
    for a in capital_assignments(person, on):
        spent = capital_disposals(a)
        disposed = sum((Decimal(d["amount"]) for d in spent), Decimal(0))
        disposals += spent
        rows.append(
            [
                str(MeasureLevel(a.measure.level).label),
                a.measure.name,
                _("No. %(number)s of %(day)s")
                % {
                    "number": a.decision.number,
                    "day": _day(local_day(a.decision.decided_at, person.region)),
                },
                a.decision.legal_basis,
                _money(a.amount),
                _money(disposed),
                _money(a.amount - disposed),
                str(AssignmentStatus(a.status).label),
            ]
        )
    notes = [
        _("Balance as of %(day)s: the amount granted less the disposals recorded.")
        % {"day": _day(on)}
    ]
    if not disposals:
        notes.append(
            _("Disposals recorded: none. This platform does not record disposals of the capital.")
        )
    return {
        "headings": [
            _("Level"),
            _("Certificate"),
            _("Decision"),
            _("Legal basis"),
            _("Granted, RUB"),
            _("Disposed of, RUB"),
            _("Balance, RUB"),
            _("Status"),
        ],
        "numeric": [False, False, False, False, True, True, True, False],
        "widths": [35, 110, 65, 130, 50, 50, 50, 40],
        "rows": rows,
        # Federal and regional capitals are separate funds with their own uses: not summed.
        "totals": None,
        "as_of": on.isoformat(),
        "disposals": disposals,
        "notes": notes,
    }


def certificate_issue(
    *,
    person: Person,
    kind: str,
    user: AbstractBaseUser,
    now: datetime,
    period_from: date | None = None,
    period_to: date | None = None,
) -> Certificate:
    """Issue a certificate of the person (the caller checked the user may act for them).
    Raises CertificateInvalid naming the field."""
    if kind not in CertificateKind.values:
        raise CertificateInvalid(_("Choose the kind of certificate."), field="kind")
    if kind == CertificateKind.PAYMENTS:
        if period_from is None or period_to is None:
            raise CertificateInvalid(
                _("Give the period's first and last day."), field="period_from"
            )
        if period_to < period_from:
            raise CertificateInvalid(_("The period ends before it starts."), field="period_to")
        content = _payments(person, period_from, period_to)
    elif kind == CertificateKind.CAPITAL:
        period_from = period_to = None
        if not capital_applies(person, now=now):
            raise CertificateInvalid(
                _("No maternity (family) capital certificate is recorded for this person."),
                field="kind",
            )
        content = _capital(person, timezone.localdate(now))
    else:
        period_from = period_to = None
        content = _assignments(person)
    return Certificate.objects.create(
        code=_code(),
        kind=kind,
        person=person,
        issued_to=user,
        issued_at=now,
        period_from=period_from,
        period_to=period_to,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        content=content,
    )


def holder_initials(person: Person) -> str:
    """The holder as the check page shows them: the surname and initials only."""
    initials = " ".join(f"{part[0]}." for part in (person.first_name, person.patronymic) if part)
    return f"{person.last_name} {initials}".strip()


def certificate_pdf(certificate: Certificate) -> bytes:
    """The certificate as a PDF, from what it said when issued, in its language."""
    content = certificate.content
    with translation.override(certificate.language):
        lines = [
            _("Issued to: %(person)s, born %(born)s")
            % {"person": certificate.person, "born": _day(certificate.person.birth_date)},
            _("Issued at: %(at)s")
            % {"at": formats.date_format(certificate.issued_at, "DATETIME_FORMAT")},
            _("Check code: %(code)s, at %(url)s")
            % {"code": certificate.code, "url": f"{settings.PORTAL_BASE_URL.rstrip('/')}/check/"},
        ]
        if certificate.period_from:
            lines.insert(
                1,
                _("Period: %(start)s to %(end)s")
                % {"start": _day(certificate.period_from), "end": _day(certificate.period_to)},
            )
        lines += content.get("notes", [])
        widths = content.get("widths") or [60] * len(content["headings"])
        return table_pdf(
            title=str(CertificateKind(certificate.kind).label),
            lines=lines,
            columns=[
                Column(heading, width=width, numeric=numeric)
                for heading, numeric, width in zip(
                    content["headings"], content["numeric"], widths, strict=True
                )
            ],
            rows=content["rows"],
            totals=content["totals"],
        )
