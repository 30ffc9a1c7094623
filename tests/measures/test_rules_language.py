"""The rule language: what parses, what type-checks, and every problem with its place."""

from __future__ import annotations

from decimal import Decimal

import pytest

from measures.enums import ValueType
from measures.rules import RuleInvalid, rule_check
from measures.rules.syntax import And, Call, Compare, If, In, Literal, Name, Neg, Not, Or, parse

pytestmark = pytest.mark.usefixtures("english_messages")

STARTS_AN_EXPRESSION = "(, -, a name, a number, a text in double quotes, false, if, not, true"
STARTS_AN_OPERAND = "(, -, a name, a number, a text in double quotes, false, true"


def problems(text: str, expect: str = ValueType.BOOL) -> list[tuple[int, int, str]]:
    with pytest.raises(RuleInvalid) as caught:
        rule_check(text, expect=expect)
    return [(p.line, p.column, p.message) for p in caught.value.problems]


def test_a_rule_parses_into_nodes_with_precedence_of_not_and_or():
    tree = parse('not alive or age >= 18 and sex in ["F"]')

    assert tree == Or(
        None,
        Not(None, Name(None, "alive")),
        And(
            None,
            Compare(None, ">=", Name(None, "age"), Literal(None, Decimal(18))),
            In(None, Name(None, "sex"), (Literal(None, "F"),)),
        ),
    )


def test_nodes_record_their_line_and_column():
    tree = parse("alive\n  and children(max_age=3) >= 1")

    assert (tree.span.line, tree.span.column) == (1, 1)
    assert (tree.right.span.line, tree.right.span.column) == (2, 7)
    assert tree.right.left == Call(None, "children", (), (("max_age", Literal(None, Decimal(3))),))


def test_arguments_functions_negation_and_if_parse():
    tree = parse("if -age < 0 then round(1.5, 0) else min(1, 2)")

    assert isinstance(tree, If)
    assert tree.condition.left == Neg(None, Name(None, "age"))
    assert tree.then == Call(None, "round", (Literal(None, Decimal("1.5")), Literal(None, 0)), ())


def test_comments_are_ignored():
    checked = rule_check("# children under three\nalive # the person\n  and age < 3 # young")

    assert checked.tree == parse("alive and age < 3")
    assert checked.fact_names() == ["age", "alive"]


def test_a_valid_rule_resolves_each_fact_with_its_defaults():
    checked = rule_check("children(max_age=3) >= 1 and subsistence_minimum() > 0")

    resolved = sorted((f.name, sorted(args.items())) for f, args in checked.facts.values())
    assert resolved == [
        ("children", [("max_age", 3), ("min_age", 0)]),
        ("subsistence_minimum", [("group", "per_capita")]),
    ]
    assert checked.type == ValueType.BOOL


def test_a_rule_may_be_asked_to_give_a_number_or_a_text():
    assert rule_check("age * 2", expect=ValueType.NUMBER).type == ValueType.NUMBER
    assert rule_check("region", expect=ValueType.TEXT).type == ValueType.TEXT


def test_unexpected_character():
    assert problems("age @ 3") == [(1, 5, "Unexpected character '@'.")]


def test_unclosed_text_is_an_unexpected_character():
    assert problems('sex == "F') == [(1, 8, "Unexpected character '\"'.")]


def test_unexpected_token():
    assert problems("age > 3 4") == [
        (1, 9, "Unexpected '4'; expected * /, + -, and, or, the end of the rule.")
    ]


def test_a_single_equals_sign_is_an_unexpected_token():
    assert problems("age = 3") == [
        (
            1,
            5,
            "Unexpected '='; expected (, * /, + -, a comparison, and, in, or, the end of the rule.",
        )
    ]


def test_the_rule_ends_too_early():
    assert problems("age >") == [(1, 6, f"The rule ends too early; expected {STARTS_AN_OPERAND}.")]


def test_an_unclosed_parenthesis_ends_the_rule_too_early():
    assert problems("children(max_age=3 > 1") == [
        (1, 23, "The rule ends too early; expected ), ,.")
    ]


def test_a_rule_of_only_a_comment_ends_too_early():
    assert problems("# nothing") == [
        (1, 10, f"The rule ends too early; expected {STARTS_AN_EXPRESSION}.")
    ]


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_empty_rule(text):
    assert problems(text) == [(1, 1, "The rule is empty.")]


@pytest.mark.parametrize(
    ("keyword", "column"),
    # `if` and `not` start an expression, so the `>` after them is what is unexpected.
    [("and", 1), ("or", 1), ("in", 1), ("then", 1), ("else", 1), ("if", 4), ("not", 5)],
)
def test_keywords_cannot_be_fact_names(keyword, column):
    [(line, at, message)] = problems(f"{keyword} > 3")

    assert (line, at) == (1, column)
    assert message.startswith("Unexpected ")


def test_keywords_cannot_be_argument_names():
    assert problems("children(in=3) > 1") == [
        (1, 10, f"Unexpected 'in'; expected (, ), {STARTS_AN_EXPRESSION[3:]}.")
    ]


def test_true_and_false_are_values_not_facts():
    assert problems("true(1)")[0][:2] == (1, 5)


def test_names_that_only_begin_with_a_keyword_are_names():
    assert problems("not_alive") == [(1, 1, "Unknown fact 'not_alive'. Did you mean 'alive'?")]
    assert problems("iffy > 1") == [(1, 1, "Unknown fact 'iffy'.")]


def test_unknown_fact_suggests_the_closest():
    assert problems("agee > 3") == [(1, 1, "Unknown fact 'agee'. Did you mean 'age'?")]
    assert problems("alive and childrn(max_age=3) > 1") == [
        (1, 11, "Unknown fact 'childrn'. Did you mean 'children'?")
    ]


def test_unknown_fact_without_anything_close_has_no_suggestion():
    assert problems("alive and salary > 3") == [(1, 11, "Unknown fact 'salary'.")]


def test_a_function_without_parentheses_does_not_suggest_itself():
    assert problems("min > 3") == [(1, 1, "Unknown fact 'min'.")]


def test_unknown_argument_of_a_fact():
    assert problems("children(foo=3) > 1") == [
        (1, 14, "'children' has no argument 'foo' (it has: min_age, max_age).")
    ]


def test_unknown_argument_of_a_fact_without_arguments():
    assert problems("employed(x=1)") == [(1, 12, "'employed' has no argument 'x' (it has: none).")]


def test_argument_given_twice():
    assert problems("children(1, min_age=2) > 1") == [
        (1, 21, "The argument 'min_age' is given twice.")
    ]


def test_too_many_positional_arguments():
    assert problems("children(1, 2, 3) > 1") == [(1, 1, "'children' takes at most 2 arguments.")]


def test_positional_arguments_fill_parameters_in_order():
    checked = rule_check("children(1, 5) > 0")

    [(_fact, args)] = checked.facts.values()
    assert args == {"min_age": 1, "max_age": 5}


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("children(max_age=age) > 1", 18, "Enter a whole number here."),
        ("children(max_age=2.5) > 1", 18, "Enter a whole number here."),
        ('children(max_age="3") > 1', 18, "Enter a whole number here."),
        ("children(max_age=200) > 1", 18, "Enter a whole number from 1 to 150."),
        ("children(max_age=0) > 1", 18, "Enter a whole number from 1 to 150."),
        ("family_income_per_capita(months=37) > 1", 33, "Enter a whole number from 1 to 36."),
    ],
)
def test_numeric_argument_must_be_a_whole_literal_in_range(text, column, message):
    assert problems(text) == [(1, column, message)]


def test_text_argument_must_be_one_of_the_choices():
    assert problems('subsistence_minimum(group="adult") > 1') == [
        (1, 27, "'adult' is not one of: per_capita, working_age, pensioner, child.")
    ]


def test_text_argument_must_be_a_text():
    assert problems("subsistence_minimum(group=3) > 1") == [
        (1, 27, "Enter a text in double quotes here.")
    ]


@pytest.mark.parametrize("band", ["min_age=5, max_age=3", "min_age=3, max_age=3", "18, 18"])
def test_max_age_must_be_greater_than_min_age(band):
    assert problems(f"children({band}) > 1") == [(1, 1, "max_age must be greater than min_age.")]


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("age and true", 1, "'and' needs yes or no, but this is number."),
        ("true or 1", 9, "'or' needs yes or no, but this is number."),
        ("not age", 5, "'not' needs yes or no, but this is number."),
        ('alive and "yes"', 11, "'and' needs yes or no, but this is text."),
    ],
)
def test_logic_needs_yes_or_no(text, column, message):
    assert problems(text) == [(1, column, message)]


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("sex > 1", 1, "'>' compares numbers, but this is text."),
        ("1 < sex", 5, "'<' compares numbers, but this is text."),
        ("alive >= 1", 1, "'>=' compares numbers, but this is yes or no."),
        ("sex == 1", 1, "Cannot compare text with number."),
        ("alive != region", 1, "Cannot compare yes or no with text."),
    ],
)
def test_comparisons_need_matching_types(text, column, message):
    assert problems(text) == [(1, column, message)]


def test_equality_of_same_types_is_allowed():
    assert rule_check('alive == true and sex != "M" and age == 3').type == ValueType.BOOL


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("sex + 1 > 2", 1, "'+' needs number, but this is text."),
        ("1 * alive > 2", 5, "'*' needs number, but this is yes or no."),
        ("age / sex > 2", 7, "'/' needs number, but this is text."),
        ("-sex > 1", 2, "'-' needs number, but this is text."),
    ],
)
def test_arithmetic_needs_numbers(text, column, message):
    assert problems(text) == [(1, column, message)]


def test_if_branches_must_give_the_same_type():
    assert problems('(if alive then 1 else "x") == 1') == [
        (1, 23, "'then' gives number but 'else' gives text.")
    ]


def test_if_condition_must_be_yes_or_no():
    assert problems("if age then true else false") == [
        (1, 4, "'if' needs yes or no, but this is number.")
    ]


def test_in_list_must_hold_the_type_of_the_value():
    assert problems('sex in [1, "F"]') == [(1, 9, "The list holds number, but the value is text.")]


def test_in_list_must_not_be_empty():
    assert problems("age in []") == [(1, 1, "The list after 'in' is empty.")]


def test_in_list_holds_only_literals():
    assert problems('sex in ["F", region]') == [
        (1, 14, "The list after 'in' may hold only literal values.")
    ]


def test_a_number_where_yes_or_no_is_expected():
    assert problems("age") == [(1, 1, "The rule must give yes or no, but it gives number.")]
    assert problems("if alive then 1 else 2") == [
        (1, 1, "The rule must give yes or no, but it gives number.")
    ]


def test_a_text_where_a_number_is_expected():
    assert problems("sex", expect=ValueType.NUMBER) == [
        (1, 1, "The rule must give number, but it gives text.")
    ]


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("round() > 1", 1, "'round' takes a number and optionally decimal places."),
        ("round(1, 2, 3) > 1", 1, "'round' takes a number and optionally decimal places."),
        ("round(1, 11) > 0", 10, "Enter a whole number from 0 to 10."),
        ("round(1, 1.5) > 0", 10, "Enter a whole number here."),
        ("round(1, age) > 0", 10, "Enter a whole number here."),
        ("round(sex) > 1", 7, "'round' needs number, but this is text."),
        ("min(1) > 0", 1, "'min' takes two or more numbers."),
        ("max() > 0", 1, "'max' takes two or more numbers."),
        ("max(1, sex) > 1", 8, "'max' needs number, but this is text."),
    ],
)
def test_function_arity_and_types(text, column, message):
    assert problems(text) == [(1, column, message)]


def test_functions_take_no_named_arguments():
    assert problems("min(x=1, 2) > 0") == [
        (1, 1, "'min' takes no named arguments."),
        (1, 1, "'min' takes two or more numbers."),
    ]


def test_every_problem_is_reported_at_once():
    assert problems("agee > 1 and sex > 2 and children(max_age=0) > 1") == [
        (1, 1, "Unknown fact 'agee'. Did you mean 'age'?"),
        (1, 14, "'>' compares numbers, but this is text."),
        (1, 43, "Enter a whole number from 1 to 150."),
    ]


def test_a_type_error_below_an_unknown_fact_is_not_reported_twice():
    assert problems("not agee") == [(1, 5, "Unknown fact 'agee'. Did you mean 'age'?")]


def test_an_error_on_line_three_names_line_three():
    rule = "alive\nand children(max_age=3) >= 1\nand  famly_size > 2"

    assert problems(rule) == [(3, 6, "Unknown fact 'famly_size'. Did you mean 'family_size'?")]


def test_a_syntax_error_on_line_three_names_line_three():
    assert problems("alive\n# the income test\nand age > > 3") == [
        (3, 11, f"Unexpected '>'; expected {STARTS_AN_OPERAND}.")
    ]


def test_a_rule_ending_too_early_on_line_three_points_past_its_end():
    assert problems("alive and\n# comment\n  age >") == [
        (3, 8, f"The rule ends too early; expected {STARTS_AN_OPERAND}.")
    ]


def test_rule_invalid_message_lists_every_problem_with_its_place():
    with pytest.raises(RuleInvalid) as caught:
        rule_check("sex > 1 and\nagee")

    assert str(caught.value) == (
        "line 1, column 1: '>' compares numbers, but this is text.; "
        "line 2, column 1: Unknown fact 'agee'. Did you mean 'age'?"
    )
