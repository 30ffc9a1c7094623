from measures.models.catalogue import ChannelPolicy, FunctionTransfer, Measure
from measures.models.rules import Entitlement, RuleVersion

__all__ = ["ChannelPolicy", "Entitlement", "FunctionTransfer", "Measure", "RuleVersion"]
