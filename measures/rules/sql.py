"""Compile a checked rule to one Django expression over the person table.

`Person.objects.annotate(outcome=rule_expression(rule=..., as_of=...))` evaluates the rule
for every person in one statement; NULL is "unknown", as None is in evaluate.py. Logic is
written out as plain SQL operators (not Django lookups, which add their own NULL handling),
so PostgreSQL's three-valued logic is exactly the one the Python evaluator implements.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db.models import BooleanField, CharField, DecimalField, Expression, Func, Value
from django.db.models.expressions import RawSQL

from measures.enums import ValueType
from measures.rules.checker import CheckedRule
from measures.rules.evaluate import DIVISION_PLACES
from measures.rules.facts import fact_key
from measures.rules.syntax import (
    And,
    Arith,
    Call,
    Compare,
    If,
    In,
    Literal,
    Name,
    Neg,
    Node,
    Not,
    Or,
)

OUTPUT = {
    ValueType.BOOL: BooleanField,
    ValueType.NUMBER: DecimalField,
    ValueType.TEXT: CharField,
}


class Operator(Func):
    """`(a <op> b <op> c ...)` with the operator given as `op`."""

    template = "(%(expressions)s)"

    def __init__(self, op: str, *expressions: Any, output_field: Any):
        super().__init__(*expressions, output_field=output_field)
        self.arg_joiner = f" {op} "


class Template(Func):
    """A fixed SQL template over its argument expressions, each compiled once per use."""

    def __init__(self, template: str, *expressions: Any, output_field: Any):
        super().__init__(*expressions, output_field=output_field)
        self.sql_template = template

    def as_sql(self, compiler, connection, **extra):  # type: ignore[no-untyped-def]
        compiled = [compiler.compile(e) for e in self.source_expressions]
        sql_parts, params = [], []
        for piece in self.sql_template.split("{"):
            if "}" in piece:
                index, rest = piece.split("}", 1)
                sql, sub_params = compiled[int(index)]
                sql_parts.append(f"({sql})")
                params.extend(sub_params)
                sql_parts.append(rest)
            else:
                sql_parts.append(piece)
        return "".join(sql_parts), params


class _Compiler:
    def __init__(self, rule: CheckedRule, as_of: date, columns: Mapping[str, str] | None):
        self.rule = rule
        self.as_of = as_of
        self.columns = columns

    def compile(self, node: Node) -> Any:
        if isinstance(node, Literal):
            if isinstance(node.value, bool):
                return Template("TRUE" if node.value else "FALSE", output_field=BooleanField())
            if isinstance(node.value, str):
                return Value(node.value, output_field=CharField())
            return Value(node.value, output_field=DecimalField())
        if isinstance(node, Name) or (isinstance(node, Call) and id(node) in self.rule.facts):
            definition, args = self.rule.facts[id(node)]
            if self.columns is not None:
                column = self.columns[fact_key(definition.name, args)]
                return RawSQL(column, (), output_field=OUTPUT[definition.type]())
            return definition.sql(self.as_of, args)
        if isinstance(node, Call):
            args = [self.compile(a) for a in node.args]
            if node.name == "round":
                if len(args) == 1:
                    return Template("ROUND({0})", *args, output_field=DecimalField())
                return Template("ROUND({0}, ({1})::integer)", *args, output_field=DecimalField())
            function = "LEAST" if node.name == "min" else "GREATEST"
            # LEAST and GREATEST skip NULLs; the language says unknown in, unknown out.
            nulls = " OR ".join(f"{{{i}}} IS NULL" for i in range(len(args)))
            listed = ", ".join(f"{{{i}}}" for i in range(len(args)))
            return Template(
                f"CASE WHEN {nulls} THEN NULL ELSE {function}({listed}) END",
                *args,
                output_field=DecimalField(),
            )
        if isinstance(node, (And, Or)):
            op = "AND" if isinstance(node, And) else "OR"
            return Operator(
                op, self.compile(node.left), self.compile(node.right), output_field=BooleanField()
            )
        if isinstance(node, Not):
            return Template("NOT {0}", self.compile(node.operand), output_field=BooleanField())
        if isinstance(node, Compare):
            op = "<>" if node.op == "!=" else "=" if node.op == "==" else node.op
            return Operator(
                op, self.compile(node.left), self.compile(node.right), output_field=BooleanField()
            )
        if isinstance(node, In):
            item = self.compile(node.item)
            options = [self.compile(o) for o in node.options]
            return Template(
                "{0} IN (" + ", ".join(f"{{{i + 1}}}" for i in range(len(options))) + ")",
                item,
                *options,
                output_field=BooleanField(),
            )
        if isinstance(node, Arith):
            left, right = self.compile(node.left), self.compile(node.right)
            if node.op == "/":
                return Template(
                    f"ROUND({{0}} / NULLIF({{1}}, 0), {DIVISION_PLACES})",
                    left,
                    right,
                    output_field=DecimalField(),
                )
            return Operator(node.op, left, right, output_field=DecimalField())
        if isinstance(node, Neg):
            return Template("- {0}", self.compile(node.operand), output_field=DecimalField())
        if isinstance(node, If):
            result_type = OUTPUT[self._type(node)]
            return Template(
                "CASE WHEN {0} THEN {1} WHEN NOT {0} THEN {2} END",
                self.compile(node.condition),
                self.compile(node.then),
                self.compile(node.otherwise),
                output_field=result_type(),
            )
        raise TypeError(node)  # pragma: no cover

    def _type(self, node: Node) -> str:
        if isinstance(node, Literal):
            if isinstance(node.value, bool):
                return ValueType.BOOL
            return ValueType.TEXT if isinstance(node.value, str) else ValueType.NUMBER
        if id(node) in self.rule.facts:
            return self.rule.facts[id(node)][0].type
        if isinstance(node, (And, Or, Not, Compare, In)):
            return ValueType.BOOL
        if isinstance(node, If):
            return self._type(node.then)
        return ValueType.NUMBER


def rule_expression(
    *, rule: CheckedRule, as_of: date, columns: Mapping[str, str] | None = None
) -> Expression:
    """The rule as one SQL expression over the person table, evaluated as of a date.

    With `columns` (fact key to an SQL column name) the facts are read from those columns of
    an inner query instead, so a sweep computes each fact once however often rules use it.
    """
    return _Compiler(rule, as_of, columns).compile(rule.tree)
