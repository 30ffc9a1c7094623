"""The rules engine: one definition of a rule, two evaluators (Python and SQL)."""

from measures.rules.checker import CheckedRule, RuleInvalid, rule_check
from measures.rules.evaluate import Evaluation, FactValue, rule_evaluate
from measures.rules.facts import FACTS, Fact
from measures.rules.sources import FactSource, HypotheticalFactSource, PersonFactSource
from measures.rules.sql import rule_expression

__all__ = [
    "FACTS",
    "CheckedRule",
    "Evaluation",
    "Fact",
    "FactSource",
    "FactValue",
    "HypotheticalFactSource",
    "PersonFactSource",
    "RuleInvalid",
    "rule_check",
    "rule_evaluate",
    "rule_expression",
]
