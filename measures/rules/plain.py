"""A decision's explanation in plain words, for whoever reads it (the notifications, the
citizen portal and its API, the contact centre): one path for all.

The explanation is stored as the rules engine wrote it (measures/rules/evaluate.py): each
condition as its rule text with the value it had, each fact with its value. Here each
condition becomes a sentence a citizen understands, from the phrasing table of
measures/rules/phrases.py: what the rule requires, with the values that decided it ("Children
under 17 years: 2 (at least one is needed)", "The family's average monthly income per person
(14 250 RUB) is not above the subsistence minimum (17 733 RUB)"); the verdict beside it says
whether it held. Numbers are grouped and money is in roubles, in the active language. A
condition the table does not cover keeps the generic wording: fact names become their labels,
operators become words ("is not more than").
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from measures.enums import Outcome
from measures.rules.checker import RuleInvalid, rule_check
from measures.rules.facts import FACTS, fact_from_json, fact_key
from measures.rules.phrases import (
    CHOICE,
    MIRRORED,
    MONEY,
    NEEDS,
    OPPOSITE,
    PAIRS,
    PHRASES,
    WEEKS,
    YEARS,
    YES_NO,
    Phrase,
)
from measures.rules.syntax import Call, Compare, In, Literal, Name, Node, Not
from platform_core.texts import number_grouped

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


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def value_plain(value: Any) -> str:
    """Return a fact's value as a reader would write it (numbers in the active locale)."""
    if value is None:
        return _("no information")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float | Decimal) or (
        isinstance(value, str) and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value)
    ):
        number = _number(value)
        return str(value) if number is None else number_grouped(number)
    if isinstance(value, list):
        return ", ".join(value_plain(v) for v in value)
    return str(value)


def money_plain(amount: Any) -> str:
    """Return an amount of money as written: grouped, in roubles ("14 250 ₽")."""
    number = _number(amount)
    return (
        value_plain(amount)
        if number is None
        else _("%(amount)s RUB") % {"amount": number_grouped(number)}
    )


def _argument_plain(param: Any, value: Any) -> str:
    # A parameter whose default is a choice (a population group) reads as that choice's label.
    if param is not None and isinstance(param.default, models.Choices):
        try:
            return str(type(param.default)(value).label)
        except ValueError:
            pass
    return value_plain(value)


def _fact_label(name: str, args: dict[str, Any]) -> str:
    """The library's label of a fact with its arguments (the generic wording)."""
    fact = FACTS.get(name)
    if fact is None:
        return name
    params = {p.name: p for p in fact.params}
    shown = [
        f"{params[arg].help if arg in params else arg}: {_argument_plain(params.get(arg), value)}"
        for arg, value in args.items()
    ]
    return f"{fact.label} ({'; '.join(shown)})" if shown else str(fact.label)


def _plain_args(args: dict[str, Any]) -> dict[str, Any]:
    """Arguments as JSON keeps them: a default that is a choice becomes its value."""
    return {k: v.value if isinstance(v, Enum) else v for k, v in args.items()}


def fact_subject(name: str, args: dict[str, Any]) -> str:
    """Return the words naming a fact with its arguments ("Children under 17 years")."""
    phrase = PHRASES.get(name)
    if phrase is None:
        return _fact_label(name, args)
    defaults = {p.name: p.default for p in FACTS[name].params} if name in FACTS else {}
    full = _plain_args({**defaults, **args})
    if isinstance(phrase.subject, Promise):
        return str(phrase.subject % full)
    return str(phrase.subject(full))


def _in_unit(phrase: Phrase | None, value: Any) -> str:
    """A value (or a limit) written in its fact's unit."""
    if value is None or phrase is None:
        return value_plain(value)
    if phrase.unit == MONEY:
        return money_plain(value)
    if phrase.unit in (YEARS, WEEKS) and (number := _number(value)) is not None:
        words = (
            ngettext("%(n)s year", "%(n)s years", int(number))
            if phrase.unit == YEARS
            else ngettext("%(n)s week", "%(n)s weeks", int(number))
        )
        return words % {"n": number_grouped(number)}
    if phrase.unit == CHOICE and str(value) in phrase.choices:
        return str(phrase.choices[str(value)])
    return value_plain(value)


def fact_value(name: str, value: Any) -> str:
    """Return a fact's value as a citizen reads it: "14 250 ₽", "5 years", "group II", or for
    a yes/no fact its sentence ("No death is recorded")."""
    phrase = PHRASES.get(name)
    if phrase is not None and phrase.unit == YES_NO and isinstance(value, bool):
        return str(phrase.yes if value else phrase.no)
    return _in_unit(phrase, value)


class _Uncovered(Exception):
    """A condition the phrasing table has no sentence for: the generic wording reads it."""


class _Reader:
    """Reads one condition's syntax tree into a sentence, with the facts' values known."""

    def __init__(self, text: str, known: dict[str, Any]):
        self.checked = rule_check(text)
        self.known = known

    def fact(self, node: Node) -> tuple[str, dict[str, Any], Any] | None:
        """The fact a node names, its arguments and its value; None for anything else."""
        if not isinstance(node, Name | Call) or id(node) not in self.checked.facts:
            return None
        definition, args = self.checked.facts[id(node)]
        args = _plain_args(args)
        value = self.known.get(fact_key(definition.name, args))
        return definition.name, args, fact_from_json(definition, value)

    def sentence(self) -> str:
        node, negated = self.checked.tree, False
        if isinstance(node, Not):
            node, negated = node.operand, True
        if (fact := self.fact(node)) is not None:
            return self.yes_no(fact[0], negated=negated)
        if isinstance(node, Compare):
            return self.compare(node, negated=negated)
        if isinstance(node, In):
            return self.listed(node, negated=negated)
        raise _Uncovered

    @staticmethod
    def yes_no(name: str, *, negated: bool) -> str:
        """What is required ("Does not work"); the verdict beside it says whether it holds."""
        phrase = PHRASES.get(name)
        if phrase is None or phrase.yes is None or phrase.no is None:
            raise _Uncovered
        return str(phrase.no if negated else phrase.yes)

    @staticmethod
    def _needs(name: str, op: str, limit: Any, shown: str) -> str:
        phrase = PHRASES.get(name)
        number = _number(limit) if not isinstance(limit, bool) else None
        if phrase is not None and number is not None and (op, number) in phrase.needs:
            return str(phrase.needs[(op, number)])
        return str(NEEDS[op]) % {"limit": shown}

    def _stated(self, name: str, args: dict[str, Any], value: Any, needs: str) -> str:
        return _("%(subject)s: %(value)s (%(needs)s)") % {
            "subject": fact_subject(name, args),
            "value": fact_value(name, value),
            "needs": needs,
        }

    def compare(self, node: Compare, *, negated: bool) -> str:
        op = OPPOSITE[node.op] if negated else node.op
        left, right = self.fact(node.left), self.fact(node.right)
        if left is None and right is not None and isinstance(node.left, Literal):
            left, right, op = right, None, MIRRORED[op]
            literal: Node = node.left
        else:
            literal = node.right
        if left is None:
            raise _Uncovered
        name, args, value = left
        if right is None:
            if not isinstance(literal, Literal):
                raise _Uncovered
            shown = _in_unit(PHRASES.get(name), literal.value)
            return self._stated(name, args, value, self._needs(name, op, literal.value, shown))
        other, other_args, other_value = right
        pair = PAIRS.get((name, op, other))
        if pair is not None and value is not None and other_value is not None:
            return str(pair) % {
                "left": fact_value(name, value),
                "right": fact_value(other, other_value),
            }
        subject = fact_subject(other, other_args)
        limit = _("%(subject)s, %(value)s") % {
            "subject": subject[:1].lower() + subject[1:],
            "value": fact_value(other, other_value),
        }
        return self._stated(name, args, value, str(NEEDS[op]) % {"limit": limit})

    def listed(self, node: In, *, negated: bool) -> str:
        fact = self.fact(node.item)
        if fact is None or not all(isinstance(o, Literal) for o in node.options):
            raise _Uncovered
        name, args, value = fact
        phrase = PHRASES.get(name)
        options = [_in_unit(phrase, o.value) for o in node.options if isinstance(o, Literal)]
        shown = (f" {_('or')} ").join(options)
        needs = str(NEEDS["not in" if negated else "in"]) % {"limit": shown}
        return self._stated(name, args, value, needs)


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
    """Return a rule's condition in generic words: «label» for each fact, words for operators."""
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


def condition_sentence(text: str, known: dict[str, Any]) -> str:
    """Return a condition as a citizen's sentence with the facts' values (`known`: fact key
    to value as the explanation stores them); the generic wording where the table has none."""
    try:
        return _Reader(text, known).sentence()
    except (_Uncovered, RuleInvalid, KeyError, TypeError, InvalidOperation):
        return condition_plain(text)


def _verdict(value: bool | None) -> str:
    if value is None:
        return _("could not be checked: information is missing")
    return _("met") if value else _("not met")


def _known(explanation: dict[str, Any]) -> dict[str, Any]:
    return {
        fact_key(f["fact"], _plain_args(f.get("args") or {})): f.get("value")
        for f in explanation.get("facts", [])
        if f.get("fact")
    }


def _subject_of(fact: dict[str, Any]) -> str:
    """A stored fact's subject; its label as stored where the phrase cannot read it."""
    stored = str(fact.get("label") or fact.get("key") or "")
    if fact.get("fact") not in FACTS:
        return stored
    try:
        return fact_subject(fact["fact"], fact.get("args") or {})
    except (KeyError, TypeError, ValueError):
        return stored


def _value_of(fact: dict[str, Any]) -> str:
    """A stored fact's value in its unit; as a plain value where the unit cannot read it."""
    try:
        return fact_value(fact.get("fact") or "", fact.get("value"))
    except (InvalidOperation, TypeError, ValueError):
        return value_plain(fact.get("value"))


def explanation_plain(explanation: dict[str, Any]) -> dict[str, Any]:
    """Return a decision's explanation as lists of plain sentences for the templates and the
    API: each condition as a sentence with its mark (met, not met, not known), the facts
    used with their values, what is missing. `failed` lists the conditions that did not hold
    when the outcome is not a right (a condition of an alternative that was not needed is no
    reason)."""
    known = _known(explanation)
    conditions = [
        {
            "text": condition_sentence(c["condition"], known),
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
        facts.append({"label": _subject_of(fact), "value": _value_of(fact)})
    # Only a refusal has reasons (an explanation stored before outcomes were is read as one):
    # an alternative that did not hold is no reason for a right, nor for data still missing.
    refused = explanation.get("outcome", Outcome.INELIGIBLE) == Outcome.INELIGIBLE
    return {
        "conditions": conditions,
        "failed": [c for c in conditions if c["held"] is False] if refused else [],
        "facts": facts,
        "missing": [_subject_of(f) for f in explanation.get("missing", [])],
        "rule_version": explanation.get("rule_version"),
        "as_of": date.fromisoformat(explanation["as_of"]) if explanation.get("as_of") else None,
    }
