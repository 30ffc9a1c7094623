"""The texts of notifications: Django templates rendered in the person's language.

A decision's explanation is stored as the rules engine wrote it (measures/rules/evaluate.py):
each condition as its rule text with the value it had, each fact with its value. Here it is
put in plain words: fact names become their labels in the reader's language, operators
become words ("not more than"), and every condition says whether it held.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contact_center.enums import NotificationKind
from measures.enums import DecisionOutcome
from measures.models import Case, Decision
from measures.rules import FACTS
from treasury.models import Payment

TEMPLATES = "contact_center/notifications/"
SUBJECT_MAX = 250
# The rule language's lexemes (measures/rules/syntax.py): texts, numbers, names, operators.
LEXEME = re.compile(r'"[^"\n]*"|[0-9]+(?:\.[0-9]+)?|[a-z_][a-z0-9_]*|==|!=|<=|>=|\S')


@dataclass(frozen=True)
class Texts:
    """One notification's texts: the full one (portal inbox, e-mail) and the SMS."""

    kind: str
    subject: str
    body: str
    sms: str
    link: str


def _words() -> dict[str, str]:
    return {
        "and": _("and"),
        "or": _("or"),
        "not": _("not"),
        "in": _("is one of"),
        "true": _("yes"),
        "false": _("no"),
        "if": _("if"),
        "then": _("then"),
        "else": _("otherwise"),
        "==": _("equals"),
        "!=": _("does not equal"),
        "<": _("is less than"),
        "<=": _("is not more than"),
        ">": _("is more than"),
        ">=": _("is not less than"),
    }


def value_plain(value: Any) -> str:
    """Return a fact's value as a reader would write it (numbers in the active locale)."""
    if value is None:
        return _("no information")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float | Decimal) or (
        isinstance(value, str) and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value)
    ):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        places = 0 if number == number.to_integral_value() else 2
        return number_format(round(number, places), decimal_pos=places, force_grouping=True)
    if isinstance(value, list):
        return ", ".join(value_plain(v) for v in value)
    return str(value)


def _argument_plain(param: Any, value: Any) -> str:
    # A parameter whose default is a choice (a population group) reads as that choice's label.
    if param is not None and isinstance(param.default, models.Choices):
        try:
            return str(type(param.default)(value).label)
        except ValueError:
            pass
    return value_plain(value)


def _fact_label(name: str, args: dict[str, Any]) -> str:
    fact = FACTS.get(name)
    if fact is None:
        return name
    params = {p.name: p for p in fact.params}
    shown = [
        f"{params[arg].help if arg in params else arg}: {_argument_plain(params.get(arg), value)}"
        for arg, value in args.items()
    ]
    return f"{fact.label} ({'; '.join(shown)})" if shown else str(fact.label)


def _arguments(lexemes: list[str]) -> dict[str, str]:
    """The keyword arguments of a call, from the lexemes between its parentheses."""
    found: dict[str, str] = {}
    parts: list[list[str]] = [[]]
    depth = 0
    for lexeme in lexemes:
        if lexeme == "," and depth == 0:
            parts.append([])
            continue
        if lexeme in ("(", "["):
            depth += 1
        elif lexeme in (")", "]"):
            depth -= 1
        parts[-1].append(lexeme)
    for part in parts:
        if len(part) >= 3 and part[1] == "=":
            found[part[0]] = " ".join(t.strip('"') for t in part[2:])
    return found


def condition_plain(text: str) -> str:
    """Return a rule's condition in words: «label» for each fact, words for operators."""
    lexemes = LEXEME.findall(text)
    words = _words()
    pieces: list[str] = []
    i = 0
    while i < len(lexemes):
        lexeme = lexemes[i]
        if lexeme in FACTS:
            args: dict[str, str] = {}
            if i + 1 < len(lexemes) and lexemes[i + 1] == "(":
                depth, end = 0, i + 1
                for end in range(i + 1, len(lexemes)):
                    depth += 1 if lexemes[end] == "(" else (-1 if lexemes[end] == ")" else 0)
                    if depth == 0:
                        break
                args = _arguments(lexemes[i + 2 : end])
                i = end
            pieces.append(f"«{_fact_label(lexeme, args)}»")
        elif lexeme in words:
            pieces.append(words[lexeme])
        elif lexeme.startswith('"'):
            pieces.append(lexeme.strip('"'))
        else:
            pieces.append(lexeme)
        i += 1
    joined = " ".join(pieces)
    return re.sub(r"([(\[]) | ([)\],])", lambda m: m.group(1) or m.group(2), joined)


def _verdict(value: bool | None) -> str:
    if value is None:
        return _("could not be checked: information is missing")
    return _("met") if value else _("not met")


def explanation_plain(explanation: dict[str, Any]) -> dict[str, Any]:
    """Return a decision's explanation as lists of plain sentences for the templates."""
    conditions = [
        {
            "text": condition_plain(c["condition"]),
            "held": c["value"],
            "verdict": _verdict(c["value"]),
        }
        for c in explanation.get("conditions", [])
    ]
    facts, seen = [], set()
    for fact in explanation.get("facts", []):
        key = fact.get("key") or fact.get("fact")
        if key in seen:
            continue
        seen.add(key)
        label = (
            _fact_label(fact["fact"], fact.get("args") or {})
            if fact.get("fact") in FACTS
            else fact.get("label") or key
        )
        facts.append({"label": label, "value": value_plain(fact.get("value"))})
    missing = [
        _fact_label(f["fact"], f.get("args") or {}) if f.get("fact") in FACTS else f.get("label")
        for f in explanation.get("missing", [])
    ]
    return {
        "conditions": conditions,
        "failed": [c for c in conditions if c["held"] is False],
        "facts": facts,
        "missing": missing,
        "rule_version": explanation.get("rule_version"),
        "as_of": date.fromisoformat(explanation["as_of"]) if explanation.get("as_of") else None,
    }


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
