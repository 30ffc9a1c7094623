"""Certificates on demand (справки): what a person is assigned and how much, or what was paid
to them over a period; a real PDF, kept as issued, with a code anyone can check on the public
page (`/portal/check/`), which shows what the certificate says and nothing else."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Sum
from django.utils import formats, translation
from django.utils.translation import gettext as _

from frontoffice.models import Certificate, CertificateKind
from measures.enums import AssignmentStatus
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
        return table_pdf(
            title=str(CertificateKind(certificate.kind).label),
            lines=lines,
            columns=[
                Column(heading, numeric=numeric)
                for heading, numeric in zip(content["headings"], content["numeric"], strict=True)
            ],
            rows=content["rows"],
            totals=content["totals"],
        )
