from measures.models.cases import Application, Assignment, Case, CaseEntry, Decision
from measures.models.catalogue import ChannelPolicy, FunctionTransfer, Measure
from measures.models.rules import Entitlement, RuleVersion

__all__ = [
    "Application",
    "Assignment",
    "Case",
    "CaseEntry",
    "ChannelPolicy",
    "Decision",
    "Entitlement",
    "FunctionTransfer",
    "Measure",
    "RuleVersion",
]
