"""What integration does on other apps' events (subscribed in IntegrationConfig.ready)."""

from __future__ import annotations

from django.utils import timezone

from integration.services.interagency import data_release_many
from integration.services.publication import ASSIGNMENT_EVENT, facts_publish
from platform_core.bus import Event, subscribe

CASE_CLOSED_EVENT = "measures.case_closed"


@subscribe(ASSIGNMENT_EVENT, name="integration.publish_assignment", batch=True)
def publish_assignment(events: list[Event]) -> None:
    """Assignments were made or changed: their facts go to the federal register.

    The payload's `fact` is the register's fact without `version` and `kind`
    (integration/contracts/federal-register-fact.schema.json).
    """
    facts_publish(facts=[event.payload["fact"] for event in events], now=timezone.now())


@subscribe(CASE_CLOSED_EVENT, name="integration.release_case_data", batch=True)
def release_case_data(events: list[Event]) -> None:
    """Cases are closed: the data they asked other agencies for may be erased sooner."""
    data_release_many(case_refs=[event.payload["case_ref"] for event in events], now=timezone.now())
