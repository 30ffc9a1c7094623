"""What the contact centre does on other apps' events (subscribed in ContactCenterConfig.ready)."""

from __future__ import annotations

from django.utils import timezone

from contact_center.services import decisions_notify, offer_notify, payment_returned_notify
from measures.services.cases import CASE_DECIDED_EVENT, CASE_OFFERED_EVENT
from platform_core.bus import Event, subscribe
from treasury.services.bank import RETURNED_EVENT


@subscribe(CASE_DECIDED_EVENT, name="contact_center.notify_decision", batch=True)
def notify_decision(events: list[Event]) -> None:
    """Cases were decided: tell each person the outcome and why."""
    decisions_notify(
        decisions=[
            (event.payload["decision"], f"{event.type}:{event.payload['case']}") for event in events
        ],
        now=timezone.now(),
    )


@subscribe(CASE_OFFERED_EVENT, name="contact_center.notify_offer")
def notify_offer(event: Event) -> None:
    """A right was found that needs an application: offer the filled-in application."""
    offer_notify(
        case_id=event.payload["case"],
        source_key=f"{event.type}:{event.payload['case']}",
        now=timezone.now(),
    )


@subscribe(RETURNED_EVENT, name="contact_center.notify_payment_returned")
def notify_payment_returned(event: Event) -> None:
    """The bank returned a payment: tell the person to change their bank details."""
    payment_returned_notify(
        payment_id=event.payload["payment"],
        source_key=f"{event.type}:{event.payload['payment']}",
        now=timezone.now(),
    )
