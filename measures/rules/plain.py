"""A decision's explanation in plain words, for whoever reads it (the notifications, the
citizen portal).

The explanation is stored as the rules engine wrote it (measures/rules/evaluate.py): each
condition as its rule text with the value it had, each fact with its value. Here fact names
become their labels in the reader's language, operators become words ("not more than"), and
every condition says whether it held.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from measures.rules import FACTS

# The rule language's lexemes (measures/rules/syntax.py): texts, numbers, names, operators.
LEXEME = re.compile(r'"[^"\n]*"|[0-9]+(?:\.[0-9]+)?|[a-z_][a-z0-9_]*|==|!=|<=|>=|\S')


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
