"""Type-check a parsed rule against the facts library, collecting every problem with its place."""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from measures.enums import ValueType
from measures.rules.facts import FACTS, Fact
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
    Problem,
    RuleSyntaxError,
    parse,
)
from platform_core.errors import DomainError

FUNCTIONS = {"min", "max", "round"}
ROUND_PLACES_MAX = 10


class RuleInvalid(DomainError):
    """A rule that cannot be saved: every problem with its line and column."""

    code = "rule_invalid"

    def __init__(self, problems: list[Problem], *, field: str | None = None):
        super().__init__("; ".join(str(p) for p in problems), field=field)
        self.problems = problems


@dataclass
class CheckedRule:
    """A rule that parsed and type-checked, with each fact reference resolved."""

    text: str
    tree: Node
    type: str
    facts: dict[int, tuple[Fact, dict[str, Any]]] = field(default_factory=dict)

    def fact_names(self) -> list[str]:
        return sorted({f.name for f, _args in self.facts.values()})


def _type_name(value_type: str | None) -> str:
    return str(ValueType(value_type).label) if value_type else "?"


class _Checker:
    def __init__(self, text: str):
        self.text = text
        self.problems: list[Problem] = []
        self.facts: dict[int, tuple[Fact, dict[str, Any]]] = {}

    def problem(self, node: Node, message: str) -> None:
        self.problems.append(Problem(node.span.line, node.span.column, message))

    def expect(self, node: Node, wanted: str, what: str) -> None:
        actual = self.type(node)
        if actual is not None and actual != wanted:
            self.problem(
                node,
                _("%(what)s needs %(wanted)s, but this is %(actual)s.")
                % {"what": what, "wanted": _type_name(wanted), "actual": _type_name(actual)},
            )

    def type(self, node: Node) -> str | None:
        """The type of a node, or None when a problem below it was already reported."""
        if isinstance(node, Literal):
            if isinstance(node.value, bool):
                return ValueType.BOOL
            return ValueType.NUMBER if isinstance(node.value, Decimal) else ValueType.TEXT
        if isinstance(node, Name):
            return self.fact(node, node.name, (), ())
        if isinstance(node, Call):
            if node.name in FUNCTIONS:
                return self.function(node)
            return self.fact(node, node.name, node.args, node.kwargs)
        if isinstance(node, (And, Or)):
            word = "and" if isinstance(node, And) else "or"
            for side in (node.left, node.right):
                self.expect(side, ValueType.BOOL, _("'%(op)s'") % {"op": word})
            return ValueType.BOOL
        if isinstance(node, Not):
            self.expect(node.operand, ValueType.BOOL, "'not'")
            return ValueType.BOOL
        if isinstance(node, Compare):
            left, right = self.type(node.left), self.type(node.right)
            if node.op in ("==", "!="):
                if left and right and left != right:
                    self.problem(
                        node,
                        _("Cannot compare %(left)s with %(right)s.")
                        % {"left": _type_name(left), "right": _type_name(right)},
                    )
            else:
                for side, side_type in ((node.left, left), (node.right, right)):
                    if side_type and side_type != ValueType.NUMBER:
                        self.problem(
                            side,
                            _("'%(op)s' compares numbers, but this is %(actual)s.")
                            % {"op": node.op, "actual": _type_name(side_type)},
                        )
            return ValueType.BOOL
        if isinstance(node, In):
            item = self.type(node.item)
            if not node.options:
                self.problem(node, _("The list after 'in' is empty."))
            for option in node.options:
                if not isinstance(option, Literal):
                    self.problem(option, _("The list after 'in' may hold only literal values."))
                    continue
                option_type = self.type(option)
                if item and option_type != item:
                    self.problem(
                        option,
                        _("The list holds %(option)s, but the value is %(item)s.")
                        % {"option": _type_name(option_type), "item": _type_name(item)},
                    )
            return ValueType.BOOL
        if isinstance(node, Arith):
            for side in (node.left, node.right):
                self.expect(side, ValueType.NUMBER, f"'{node.op}'")
            return ValueType.NUMBER
        if isinstance(node, Neg):
            self.expect(node.operand, ValueType.NUMBER, "'-'")
            return ValueType.NUMBER
        if isinstance(node, If):
            self.expect(node.condition, ValueType.BOOL, "'if'")
            then, otherwise = self.type(node.then), self.type(node.otherwise)
            if then and otherwise and then != otherwise:
                self.problem(
                    node.otherwise,
                    _("'then' gives %(then)s but 'else' gives %(otherwise)s.")
                    % {"then": _type_name(then), "otherwise": _type_name(otherwise)},
                )
                return None
            return then or otherwise
        raise TypeError(node)  # pragma: no cover - the parser makes no other nodes

    def function(self, node: Call) -> str | None:
        if node.kwargs:
            self.problem(node, _("'%(name)s' takes no named arguments.") % {"name": node.name})
        if node.name == "round":
            if len(node.args) not in (1, 2):
                self.problem(node, _("'round' takes a number and optionally decimal places."))
                return ValueType.NUMBER
            self.expect(node.args[0], ValueType.NUMBER, "'round'")
            if len(node.args) == 2:
                self.integer_literal(node.args[1], 0, ROUND_PLACES_MAX)
            return ValueType.NUMBER
        if len(node.args) < 2:
            self.problem(node, _("'%(name)s' takes two or more numbers.") % {"name": node.name})
        for arg in node.args:
            self.expect(arg, ValueType.NUMBER, f"'{node.name}'")
        return ValueType.NUMBER

    def integer_literal(self, node: Node, low: int | None, high: int | None) -> int | None:
        value = node.value if isinstance(node, Literal) else None
        if not isinstance(value, Decimal) or value != value.to_integral_value():
            self.problem(node, _("Enter a whole number here."))
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.problem(
                node,
                _("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high},
            )
            return None
        return int(value)

    def fact(self, node: Node, name: str, args: tuple, kwargs: tuple) -> str | None:
        definition = FACTS.get(name)
        if definition is None:
            # Not the name itself: `min` without parentheses is unknown as a fact.
            known = [n for n in (*FACTS, *FUNCTIONS) if n != name]
            close = difflib.get_close_matches(name, known, n=1)
            message = _("Unknown fact '%(name)s'.") % {"name": name}
            if close:
                message += " " + _("Did you mean '%(close)s'?") % {"close": close[0]}
            self.problem(node, message)
            return None
        params = {p.name: p for p in definition.params}
        given: dict[str, Node] = {}
        if len(args) > len(definition.params):
            self.problem(
                node,
                ngettext(
                    "'%(name)s' takes at most %(count)d argument.",
                    "'%(name)s' takes at most %(count)d arguments.",
                    len(definition.params),
                )
                % {"name": name, "count": len(definition.params)},
            )
        for param, arg in zip(definition.params, args, strict=False):
            given[param.name] = arg
        for key, arg in kwargs:
            if key not in params:
                known = ", ".join(params) or _("none")
                self.problem(
                    arg,
                    _("'%(name)s' has no argument '%(key)s' (it has: %(known)s).")
                    % {"name": name, "key": key, "known": known},
                )
            elif key in given:
                self.problem(arg, _("The argument '%(key)s' is given twice.") % {"key": key})
            else:
                given[key] = arg
        resolved: dict[str, Any] = {}
        for param in definition.params:
            arg = given.get(param.name)
            if arg is None:
                resolved[param.name] = param.default
            elif param.type == ValueType.NUMBER:
                resolved[param.name] = self.integer_literal(arg, param.minimum, param.maximum)
            elif not isinstance(arg, Literal) or not isinstance(arg.value, str):
                self.problem(arg, _("Enter a text in double quotes here."))
            elif param.choices and arg.value not in param.choices:
                self.problem(
                    arg,
                    _("'%(value)s' is not one of: %(choices)s.")
                    % {"value": arg.value, "choices": ", ".join(param.choices)},
                )
            else:
                resolved[param.name] = arg.value
        if "min_age" in resolved and "max_age" in resolved:
            low, high = resolved["min_age"], resolved["max_age"]
            if low is not None and high is not None and low >= high:
                self.problem(node, _("max_age must be greater than min_age."))
        self.facts[id(node)] = (definition, resolved)
        return definition.type


def rule_check(text: str, *, expect: str = ValueType.BOOL) -> CheckedRule:
    """Parse and type-check a rule; raise RuleInvalid listing every problem with its place.

    A valid rule is checked once per process (the rules in force are few and their texts
    never change: a change is a new version); evaluating reads a checked rule, never alters it.
    """
    return _rule_check(text, expect)


@functools.lru_cache(maxsize=2048)
def _rule_check(text: str, expect: str) -> CheckedRule:
    try:
        tree = parse(text)
    except RuleSyntaxError as error:
        raise RuleInvalid([error.problem]) from None
    checker = _Checker(text)
    result = checker.type(tree)
    if not checker.problems and result != expect:
        checker.problem(
            tree,
            _("The rule must give %(wanted)s, but it gives %(actual)s.")
            % {"wanted": _type_name(expect), "actual": _type_name(result)},
        )
    if checker.problems:
        raise RuleInvalid(checker.problems)
    return CheckedRule(text=text, tree=tree, type=result or expect, facts=checker.facts)
