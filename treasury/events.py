"""What the treasury does on other apps' events (subscribed in TreasuryConfig.ready)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from platform_core.bus import Event, subscribe
from registries.enums import LifeEventKind
from treasury.services.bank import payments_withdraw


@subscribe("registries.life_event_recorded", name="treasury.pull_payments_of_deceased")
def pull_payments_of_deceased(event: Event) -> None:
    """A death: the person's payments in batches not sent yet are pulled from them."""
    if event.payload.get("kind") == LifeEventKind.DEATH:
        payments_withdraw(person_id=event.payload["person_id"], reason=_("Death."))
