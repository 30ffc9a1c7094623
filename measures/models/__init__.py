from measures.models.cases import (
    Application,
    Assignment,
    Case,
    CaseEntry,
    Decision,
    Recalculation,
)
from measures.models.catalogue import ChannelPolicy, FunctionTransfer, Measure
from measures.models.contracts import ContractAssistance, ContractStep, SocialContract
from measures.models.rules import Entitlement, RuleVersion

__all__ = [
    "Application",
    "Assignment",
    "Case",
    "CaseEntry",
    "ChannelPolicy",
    "ContractAssistance",
    "ContractStep",
    "Decision",
    "Entitlement",
    "FunctionTransfer",
    "Measure",
    "Recalculation",
    "RuleVersion",
    "SocialContract",
]
