"""Models of integration: external systems, the inbox, inter-agency requests, the federal feed."""

from integration.models.inbox import InboundEvent
from integration.models.interagency import (
    DataComplaint,
    DataExchange,
    DataRequest,
    ExchangeAttempt,
    ProviderCircuit,
)
from integration.models.publication import FederalFact
from integration.models.systems import ExternalSystem, new_secret

__all__ = [
    "DataComplaint",
    "DataExchange",
    "DataRequest",
    "ExchangeAttempt",
    "ExternalSystem",
    "FederalFact",
    "InboundEvent",
    "ProviderCircuit",
    "new_secret",
]
