"""The texts of notifications: Django templates rendered in the person's language, with a
decision's explanation in plain words (measures/rules/plain.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contact_center.enums import NotificationKind
from measures.enums import DecisionOutcome
from measures.models import Case, Decision
from measures.rules.plain import explanation_plain
from treasury.models import Payment

TEMPLATES = "contact_center/notifications/"
SUBJECT_MAX = 250


@dataclass(frozen=True)
class Texts:
    """One notification's texts: the full one (portal inbox, e-mail) and the SMS."""

    kind: str
    subject: str
    body: str
    sms: str
    link: str


def portal_link(path: str) -> str:
    """Return the citizen portal's URL of path (PORTAL_BASE_URL is the portal's root)."""
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}/{path.lstrip('/')}"


def _tidy(text: str) -> str:
    """Plain text from a template: no trailing spaces, at most one empty line in a row."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _render(name: str, context: dict[str, Any]) -> str:
    return _tidy(render_to_string(f"{TEMPLATES}{name}", context))


def _addressed(case: Case) -> str:
    person = case.person
    return " ".join(p for p in (person.first_name, person.patronymic) if p)


def decision_texts(*, decision: Decision, language: str) -> Texts:
    """Return the texts telling a person of a decision and why, in language."""
    case = decision.case
    measure = case.measure
    with translation.override(language):
        granted = decision.outcome == DecisionOutcome.GRANT
        zone = ZoneInfo(case.region.timezone)
        context = {
            "name": _addressed(case),
            "granted": granted,
            "measure": measure.name,
            "number": decision.number,
            "decided_on": timezone.localtime(decision.decided_at, zone).date(),
            "amount": decision.amount if granted else None,
            "period_from": decision.period_from if granted else None,
            "period_to": decision.period_to if granted else None,
            "one_day": granted and decision.period_from == decision.period_to,
            "legal_basis": decision.legal_basis,
            "reason": decision.reason,
            "link": portal_link(f"my/cases/{case.pk}/"),
            **explanation_plain(decision.explanation),
        }
        subject = (
            _("Decision No. %(number)s: “%(measure)s” is granted")
            if granted
            else _("Decision No. %(number)s: “%(measure)s” is refused")
        ) % {"number": decision.number, "measure": measure.name}
        return Texts(
            kind=NotificationKind.DECISION,
            subject=Truncator(subject).chars(SUBJECT_MAX),
            body=_render("decision.txt", context),
            sms=_render("decision_sms.txt", context),
            link=context["link"],
        )


def offer_texts(*, case: Case, language: str) -> Texts:
    """Return the texts offering a person a measure they have a right to, in language."""
    with translation.override(language):
        context = {
            "name": _addressed(case),
            "measure": case.measure.name,
            "as_of": case.as_of,
            "link": portal_link(f"my/offers/{case.pk}/"),
        }
        subject = _("You are entitled to “%(measure)s”: apply in one click") % {
            "measure": case.measure.name
        }
        return Texts(
            kind=NotificationKind.OFFER,
            subject=Truncator(subject).chars(SUBJECT_MAX),
            body=_render("offer.txt", context),
            sms=_render("offer_sms.txt", context),
            link=context["link"],
        )


RETURN_REASONS = {
    "account_closed": gettext_lazy("the account is closed"),
    "wrong_details": gettext_lazy("the bank details are wrong"),
}


def payment_returned_texts(*, payment: Payment, language: str) -> Texts:
    """Return the texts telling a person a payment came back and how to get it, in language."""
    with translation.override(language):
        person = payment.person
        context = {
            "name": " ".join(p for p in (person.first_name, person.patronymic) if p),
            "measure": payment.measure.name,
            "amount": payment.amount,
            "reason": str(RETURN_REASONS.get(payment.return_reason, payment.return_reason)),
            "link": portal_link("my/details/"),
        }
        subject = _("The payment of “%(measure)s” was not credited") % {
            "measure": payment.measure.name
        }
        return Texts(
            kind=NotificationKind.PAYMENT_RETURNED,
            subject=Truncator(subject).chars(SUBJECT_MAX),
            body=_render("payment_returned.txt", context),
            sms=_render("payment_returned_sms.txt", context),
            link=context["link"],
        )
