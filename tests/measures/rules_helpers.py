"""Evaluate a rule both ways for one person and insist the evaluators agree."""

from __future__ import annotations

from datetime import date
from typing import Any

from measures.enums import ValueType
from measures.rules.checker import rule_check
from measures.rules.evaluate import rule_evaluate
from measures.rules.query import rule_values
from measures.rules.sources import PersonFactSource
from registries.models import Person


def python_value(text: str, person: Person, as_of: date, expect: str = ValueType.BOOL) -> Any:
    rule = rule_check(text, expect=expect)
    return rule_evaluate(rule=rule, source=PersonFactSource(person=person, as_of=as_of)).value


def sql_value(text: str, person: Person, as_of: date, expect: str = ValueType.BOOL) -> Any:
    """The value from the set-based SQL that sweeps use, over the whole registry.

    Every person is evaluated (not only this one), so a fact query that mixed persons up
    would show here too.
    """
    rule = rule_check(text, expect=expect)
    return rule_values(rule=rule, on=as_of, persons=Person.objects.all())[person.pk]


def both(text: str, person: Person, as_of: date, expect: str = ValueType.BOOL) -> Any:
    """The rule's value for the person, the same from Python and from SQL."""
    in_python = python_value(text, person, as_of, expect)
    in_sql = sql_value(text, person, as_of, expect)
    assert in_python == in_sql, f"{text!r}: Python {in_python!r}, SQL {in_sql!r}"
    return in_python


def number(text: str, person: Person, as_of: date) -> Any:
    return both(text, person, as_of, expect=ValueType.NUMBER)


def text(text_: str, person: Person, as_of: date) -> Any:
    return both(text_, person, as_of, expect=ValueType.TEXT)
