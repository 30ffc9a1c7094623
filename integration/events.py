"""What integration does on other apps' events (subscribed in IntegrationConfig.ready)."""

from __future__ import annotations

from django.utils import timezone

from integration.services.interagency import data_release
from integration.services.publication import ASSIGNMENT_EVENT, fact_publish
from platform_core.bus import Event, subscribe

CASE_CLOSED_EVENT = "measures.case_closed"


@subscribe(ASSIGNMENT_EVENT, name="integration.publish_assignment")
def publish_assignment(event: Event) -> None:
    """An assignment was made or changed: its fact goes to the federal register.

    The payload's `fact` is the register's fact without `version` and `kind`
    (integration/contracts/federal-register-fact.schema.json).
    """
    fact_publish(fact=event.payload["fact"], now=timezone.now())


@subscribe(CASE_CLOSED_EVENT, name="integration.release_case_data")
def release_case_data(event: Event) -> None:
    """A case is closed: the data it asked other agencies for may be erased sooner."""
    data_release(case_ref=event.payload["case_ref"], now=timezone.now())
