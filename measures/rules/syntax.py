"""The rule language: grammar, syntax tree and parser.

A rule is one expression over named facts, for example

    alive and children(max_age=3) >= 1
    and family_income_per_capita(months=12) <= subsistence_minimum(group="per_capita")

Numbers are decimals, texts are in double quotes, `true`/`false` are booleans. Operators:
`or`, `and`, `not`; `== != < <= > >=`; `+ - * /`; `x in [a, b]`; `if c then a else b`;
the functions `min`, `max` and `round`. `#` starts a comment. Nothing is ever passed to
`eval`: the text is parsed by Lark into the nodes below, which the checker types and the two
evaluators (Python and SQL) walk.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

GRAMMAR = r"""
?start: expr

?expr: or_test
     | "if" expr "then" expr "else" expr         -> if_

?or_test: and_test
        | or_test "or" and_test                   -> or_
?and_test: not_test
         | and_test "and" not_test                -> and_
?not_test: "not" not_test                         -> not_
         | comparison
?comparison: sum
           | sum COMPARE sum                      -> compare
           | sum "in" "[" [expr ("," expr)*] "]"  -> in_
?sum: product
    | sum ADD product                             -> arith
?product: unary
        | product MUL unary                       -> arith
?unary: "-" unary                                 -> neg
      | atom
?atom: NUMBER                                     -> number
     | STRING                                     -> text
     | "true"                                     -> true
     | "false"                                    -> false
     | NAME                                       -> name
     | NAME "(" [argument ("," argument)*] ")"    -> call
     | "(" expr ")"

?argument: expr
         | NAME "=" expr                          -> keyword

COMPARE: "==" | "!=" | "<=" | ">=" | "<" | ">"
ADD: "+" | "-"
MUL: "*" | "/"
NAME: /(?!(if|then|else|and|or|not|in|true|false)\b)[a-z_][a-z0-9_]*/
NUMBER: /[0-9]+(\.[0-9]+)?/
STRING: /"[^"\n]*"/
COMMENT: /#[^\n]*/
%ignore COMMENT
%ignore /[ \t\r\n]+/
"""

TOKEN_NAMES = {
    "COMPARE": gettext_lazy("a comparison"),
    "ADD": "+ -",
    "MUL": "* /",
    "NAME": gettext_lazy("a name"),
    "NUMBER": gettext_lazy("a number"),
    "STRING": gettext_lazy("a text in double quotes"),
    "LPAR": "(",
    "RPAR": ")",
    "LSQB": "[",
    "RSQB": "]",
    "COMMA": ",",
    "EQUAL": "=",
    "MINUS": "-",
    "IF": "if",
    "THEN": "then",
    "ELSE": "else",
    "OR": "or",
    "AND": "and",
    "NOT": "not",
    "IN": "in",
    "TRUE": "true",
    "FALSE": "false",
    "$END": gettext_lazy("the end of the rule"),
}


@dataclass(frozen=True)
class Span:
    """Where a node is in the rule text: 1-based line and column, 0-based offsets."""

    line: int
    column: int
    start: int
    end: int


@dataclass(frozen=True)
class Node:
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class Literal(Node):
    value: Decimal | str | bool


@dataclass(frozen=True)
class Name(Node):
    """A fact without arguments, or a keyword argument's value that names nothing."""

    name: str


@dataclass(frozen=True)
class Call(Node):
    """A fact with arguments (`children(max_age=3)`) or a function (`min(a, b)`)."""

    name: str
    args: tuple[Node, ...]
    kwargs: tuple[tuple[str, Node], ...]


@dataclass(frozen=True)
class Compare(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Arith(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Neg(Node):
    operand: Node


@dataclass(frozen=True)
class And(Node):
    left: Node
    right: Node


@dataclass(frozen=True)
class Or(Node):
    left: Node
    right: Node


@dataclass(frozen=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True)
class In(Node):
    item: Node
    options: tuple[Node, ...]


@dataclass(frozen=True)
class If(Node):
    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a rule, with where it is."""

    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return _("line %(line)d, column %(column)d: %(message)s") % {
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


class _Build(Transformer):
    """Turn Lark's tree into our frozen nodes, each with its span."""

    @staticmethod
    def _span(meta) -> Span:  # type: ignore[no-untyped-def]
        return Span(meta.line, meta.column, meta.start_pos, meta.end_pos)

    @v_args(meta=True)
    def number(self, meta, children):  # type: ignore[no-untyped-def]
        return Literal(self._span(meta), Decimal(str(children[0])))

    @v_args(meta=True)
    def text(self, meta, children):  # type: ignore[no-untyped-def]
        return Literal(self._span(meta), str(children[0])[1:-1])

    @v_args(meta=True)
    def true(self, meta, children):  # type: ignore[no-untyped-def]
        return Literal(self._span(meta), True)

    @v_args(meta=True)
    def false(self, meta, children):  # type: ignore[no-untyped-def]
        return Literal(self._span(meta), False)

    @v_args(meta=True)
    def name(self, meta, children):  # type: ignore[no-untyped-def]
        return Name(self._span(meta), str(children[0]))

    @v_args(meta=True)
    def call(self, meta, children):  # type: ignore[no-untyped-def]
        name, *arguments = children
        args = tuple(a for a in arguments if a is not None and not isinstance(a, tuple))
        kwargs = tuple(a for a in arguments if isinstance(a, tuple))
        return Call(self._span(meta), str(name), args, kwargs)

    def keyword(self, children):  # type: ignore[no-untyped-def]
        return (str(children[0]), children[1])

    @v_args(meta=True)
    def compare(self, meta, children):  # type: ignore[no-untyped-def]
        left, op, right = children
        return Compare(self._span(meta), str(op), left, right)

    @v_args(meta=True)
    def arith(self, meta, children):  # type: ignore[no-untyped-def]
        left, op, right = children
        return Arith(self._span(meta), str(op), left, right)

    @v_args(meta=True)
    def neg(self, meta, children):  # type: ignore[no-untyped-def]
        return Neg(self._span(meta), children[0])

    @v_args(meta=True)
    def and_(self, meta, children):  # type: ignore[no-untyped-def]
        return And(self._span(meta), *children)

    @v_args(meta=True)
    def or_(self, meta, children):  # type: ignore[no-untyped-def]
        return Or(self._span(meta), *children)

    @v_args(meta=True)
    def not_(self, meta, children):  # type: ignore[no-untyped-def]
        return Not(self._span(meta), children[0])

    @v_args(meta=True)
    def in_(self, meta, children):  # type: ignore[no-untyped-def]
        item, *options = children
        return In(self._span(meta), item, tuple(o for o in options if o is not None))

    @v_args(meta=True)
    def if_(self, meta, children):  # type: ignore[no-untyped-def]
        return If(self._span(meta), *children)


_PARSER = Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=True)


class RuleSyntaxError(Exception):
    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def _expected(names: set[str]) -> str:
    shown = sorted({str(TOKEN_NAMES.get(n, n.strip('"').lower())) for n in names})
    return ", ".join(shown)


def _describe(error: UnexpectedInput, text: str) -> Problem:
    if isinstance(error, UnexpectedCharacters):
        return Problem(
            error.line,
            error.column,
            _("Unexpected character %(char)s.") % {"char": repr(text[error.pos_in_stream])},
        )
    if isinstance(error, UnexpectedEOF) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END"
    ):
        lines = text.splitlines() or [""]
        expected = getattr(error, "expected", None) or getattr(error, "accepts", set())
        return Problem(
            len(lines),
            len(lines[-1]) + 1,
            _("The rule ends too early; expected %(expected)s.")
            % {"expected": _expected(set(expected))},
        )
    assert isinstance(error, UnexpectedToken)
    token: Token = error.token
    return Problem(
        token.line or 1,
        token.column or 1,
        _("Unexpected %(token)s; expected %(expected)s.")
        % {"token": repr(str(token)), "expected": _expected(set(error.accepts or error.expected))},
    )


# Every later stage (transform, checker, evaluator, SQL compiler, PostgreSQL's planner) recurses
# over the tree; a bound far above any real rule keeps them all within their stack.
MAX_DEPTH = 200


def _depth(root: Node) -> int:
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        for f in fields(node):
            value = getattr(node, f.name)
            items = value if isinstance(value, tuple) else (value,)
            for item in items:
                child = item[1] if isinstance(item, tuple) else item
                if isinstance(child, Node):
                    stack.append((child, depth + 1))
    return deepest


def parse(text: str) -> Node:
    """Parse rule text into a syntax tree; raise RuleSyntaxError naming line and column."""
    if not text.strip():
        raise RuleSyntaxError(Problem(1, 1, _("The rule is empty.")))
    too_deep = Problem(
        1, 1, _("The rule is nested too deeply (more than %(n)d levels).") % {"n": MAX_DEPTH}
    )
    try:
        node = _Build().transform(_PARSER.parse(text))
    except UnexpectedInput as error:
        raise RuleSyntaxError(_describe(error, text)) from None
    except RecursionError:
        raise RuleSyntaxError(too_deep) from None
    if _depth(node) > MAX_DEPTH:
        raise RuleSyntaxError(too_deep)
    return node


def source_of(node: Node, text: str) -> str:
    """The rule text a node was parsed from."""
    return text[node.span.start : node.span.end]
