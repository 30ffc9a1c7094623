"""What registries does on other apps' events (subscribed in RegistriesConfig.ready)."""

from __future__ import annotations

from platform_core.bus import Event, subscribe
from registries.services.agency_data import answered_data_apply


@subscribe("integration.data_answered", name="registries.keep_agency_data")
def keep_agency_data(event: Event) -> None:
    """Another agency answered: keep its data where the rules read it, tell the cases."""
    answered_data_apply(exchange_id=event.payload["exchange"], cases=event.payload["cases"])
