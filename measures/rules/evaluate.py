"""Evaluate a checked rule for one person in Python, with an explanation of every condition.

Unknown values (None) follow SQL's three-valued logic exactly, so this evaluator and the SQL
compiler give the same outcome: `false and unknown` is false, `true or unknown` is true, any
comparison or arithmetic with unknown is unknown, and `if unknown ...` is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from measures.rules.checker import CheckedRule
from measures.rules.facts import Fact, fact_from_json, fact_key
from measures.rules.sources import FactSource
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
    source_of,
)

DIVISION_PLACES = 10
# PostgreSQL's numeric adds, subtracts and multiplies exactly; Python's default 28 digits
# would round (and fail to quantize a large quotient), so rules are evaluated with room to spare.
ARITHMETIC_PRECISION = 100


@dataclass(frozen=True)
class FactValue:
    """One fact as used: its name and arguments, value (None: unknown) and owner."""

    name: str
    args: dict[str, Any]
    value: Any
    owner: str
    label: str

    @property
    def key(self) -> str:
        return fact_key(self.name, self.args)

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "fact": self.name,
            "args": self.args,
            "value": _json_value(self.value),
            "owner": self.owner,
            "label": self.label,
        }


@dataclass(frozen=True)
class Condition:
    """One leaf condition of the rule (a comparison, a list test or a yes/no fact)."""

    text: str
    value: bool | None

    def as_json(self) -> dict[str, Any]:
        return {"condition": self.text, "value": self.value}


@dataclass
class Evaluation:
    value: Any
    facts: list[FactValue] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)

    @property
    def missing(self) -> list[FactValue]:
        """The facts whose absence left the outcome unknown (empty when it is known)."""
        return [f for f in self.facts if f.value is None] if self.value is None else []

    def as_json(self) -> dict[str, Any]:
        """Every condition with its value, every fact with its value and owner, what is missing."""
        return {
            "conditions": [c.as_json() for c in self.conditions],
            "facts": [f.as_json() for f in self.facts],
            "missing": [f.as_json() for f in self.missing],
        }


def _json_value(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def _compare(op: str, left: Any, right: Any) -> bool | None:
    if left is None or right is None:
        return None
    return {
        "==": left == right,
        "!=": left != right,
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[op]


def _arith(op: str, left: Any, right: Any) -> Decimal | None:
    if left is None or right is None:
        return None
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if right == 0:
        return None
    return (left / right).quantize(Decimal(1).scaleb(-DIVISION_PLACES), rounding=ROUND_HALF_UP)


def _and(left: bool | None, right: bool | None) -> bool | None:
    if left is False or right is False:
        return False
    return None if left is None or right is None else True


def _or(left: bool | None, right: bool | None) -> bool | None:
    if left is True or right is True:
        return True
    return None if left is None or right is None else False


class _Evaluator:
    def __init__(
        self, rule: CheckedRule, source: FactSource | None, known: Mapping[str, Any] | None
    ):
        self.rule = rule
        self.source = source
        self.known = known
        self.values: dict[tuple, FactValue] = {}
        self.conditions: list[Condition] = []
        # Under an odd number of `not`s a condition is recorded as required: `not employed`
        # is met when the person does not work (and `not (a and b)` needs `not a` or `not b`).
        self.negated = False
        # Inside a comparison's operands a yes/no fact is a value, not a condition of its own.
        self.operand = False

    def condition(self, node: Node, value: bool | None) -> bool | None:
        text = source_of(node, self.rule.text)
        if self.negated:
            self.conditions.append(Condition(f"not ({text})", None if value is None else not value))
        else:
            self.conditions.append(Condition(text, value))
        return value

    def inside(self, nodes: tuple[Node, ...], *, operand: bool) -> list[Any]:
        """Evaluate nodes a `not` outside does not reach: a comparison's operands (the `not`
        negates the comparison) or an `if`'s condition (it negates the branch taken)."""
        outer = self.operand, self.negated
        self.operand, self.negated = operand, False
        try:
            return [self.eval(n) for n in nodes]
        finally:
            self.operand, self.negated = outer

    def fact(self, node: Node) -> Any:
        definition, args = self.rule.facts[id(node)]
        key = (definition.name, tuple(sorted(args.items())))
        if key not in self.values:
            self.values[key] = self._value(definition, args)
        return self.values[key].value

    def _value(self, definition: Fact, args: dict[str, Any]) -> FactValue:
        if self.known is not None:
            value = fact_from_json(definition, self.known.get(fact_key(definition.name, args)))
        else:
            value = definition.python(self.source, args)
        return FactValue(
            name=definition.name,
            args=args,
            value=value,
            owner=definition.owner,
            label=str(definition.label),
        )

    def eval(self, node: Node) -> Any:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Name) or (isinstance(node, Call) and id(node) in self.rule.facts):
            value = self.fact(node)
            if isinstance(value, bool) and not self.operand:
                return self.condition(node, value)
            return value
        if isinstance(node, Call):
            args = [self.eval(a) for a in node.args]
            if any(a is None for a in args):
                return None
            if node.name == "min":
                return min(args)
            if node.name == "max":
                return max(args)
            places = int(args[1]) if len(args) == 2 else 0
            return args[0].quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if isinstance(node, And):
            return _and(self.eval(node.left), self.eval(node.right))
        if isinstance(node, Or):
            return _or(self.eval(node.left), self.eval(node.right))
        if isinstance(node, Not):
            self.negated = not self.negated
            try:
                value = self.eval(node.operand)
            finally:
                self.negated = not self.negated
            return None if value is None else not value
        if isinstance(node, Compare):
            left, right = self.inside((node.left, node.right), operand=True)
            return self.condition(node, _compare(node.op, left, right))
        if isinstance(node, In):
            item, *options = self.inside((node.item, *node.options), operand=True)
            result: bool | None = False
            for option in options:
                result = _or(result, _compare("==", item, option))
            return self.condition(node, result)
        if isinstance(node, Arith):
            return _arith(node.op, self.eval(node.left), self.eval(node.right))
        if isinstance(node, Neg):
            value = self.eval(node.operand)
            return None if value is None else -value
        if isinstance(node, If):
            [condition] = self.inside((node.condition,), operand=False)
            then, otherwise = self.eval(node.then), self.eval(node.otherwise)
            if condition is None:
                return None
            return then if condition else otherwise
        raise TypeError(node)  # pragma: no cover


def rule_evaluate(
    *,
    rule: CheckedRule,
    source: FactSource | None = None,
    known: Mapping[str, Any] | None = None,
) -> Evaluation:
    """Evaluate a rule for the person behind `source`; unknown facts give an unknown outcome.

    With `known` (fact key to value, as an entitlement stores them) the facts are taken from
    there instead, to explain an outcome computed in SQL without reading the registries again.
    """
    evaluator = _Evaluator(rule, source, known)
    with localcontext(prec=ARITHMETIC_PRECISION):
        value = evaluator.eval(rule.tree)
    return Evaluation(
        value=value, facts=list(evaluator.values.values()), conditions=evaluator.conditions
    )
