"""What measures does on other apps' events (subscribed in MeasuresConfig.ready)."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone

from measures.services.cases import (
    assignments_end_on_moving,
    cases_data_arrived,
    cases_data_failed,
    cases_for_correction,
    cases_for_life_events,
    life_events_consequences,
)
from measures.services.recalculation import (
    recalculations_for_cancellation,
    recalculations_for_correction,
    recalculations_for_incomes,
)
from platform_core.bus import Event, subscribe


def _life_events(events: list[Event]) -> list[int]:
    return [event.payload["life_event_id"] for event in events]


@subscribe("registries.life_event_recorded", name="measures.open_cases", batch=True)
def open_cases(events: list[Event]) -> None:
    """Life events were recorded: open and work the cases of the measures they trigger."""
    cases_for_life_events(life_event_ids=_life_events(events), now=timezone.now())


@subscribe("registries.life_event_recorded", name="measures.end_assignments", batch=True)
def end_assignments(events: list[Event]) -> None:
    """A recorded death ends the person's assignments (paid to the day of death)."""
    life_events_consequences(life_event_ids=_life_events(events), now=timezone.now())


@subscribe("registries.person_changed", name="measures.end_on_moving")
def end_on_moving(event: Event) -> None:
    """A person's region changed: the measures of the region they left end."""
    if "region" in event.payload["fields"]:
        assignments_end_on_moving(person_id=event.payload["person_id"], now=timezone.now())


@subscribe("registries.life_event_corrected", name="measures.recalculate_corrected")
def recalculate_corrected(event: Event) -> None:
    """A life event was corrected: what its original granted is worked out again."""
    recalculations_for_correction(life_event_id=event.payload["life_event_id"], now=timezone.now())


@subscribe("registries.life_event_corrected", name="measures.open_cases_corrected")
def open_cases_corrected(event: Event) -> None:
    """A life event was corrected: what its earlier versions gave nobody is tried again."""
    cases_for_correction(life_event_id=event.payload["life_event_id"], now=timezone.now())


@subscribe("registries.life_event_cancelled", name="measures.recalculate_cancelled")
def recalculate_cancelled(event: Event) -> None:
    """A life event was cancelled: what it granted goes to an officer to revoke."""
    recalculations_for_cancellation(
        life_event_id=event.payload["life_event_id"],
        reason=event.payload.get("reason", ""),
        now=timezone.now(),
    )


@subscribe("registries.data_received", name="measures.data_arrived")
def data_arrived(event: Event) -> None:
    """Data another agency sent is in the registry: the cases that waited for it go on."""
    cases_data_arrived(refs=event.payload["cases"], now=timezone.now())


@subscribe("integration.data_failed", name="measures.data_failed")
def data_failed(event: Event) -> None:
    """An agency refused or did not answer in time: the cases go to an officer."""
    cases_data_failed(
        refs=event.payload["cases"], problem=event.payload.get("problem", ""), now=timezone.now()
    )


@subscribe("registries.incomes_changed", name="measures.recalculate_on_income")
def recalculate_on_income(event: Event) -> None:
    """Incomes of some months were recorded or changed: the means-tested decisions that
    counted them are worked out again."""
    recalculations_for_incomes(
        person_id=event.payload["person_id"],
        months=[date.fromisoformat(m) for m in event.payload["months"]],
        key=event.payload["key"],
        recorded_at=datetime.fromisoformat(event.payload["at"]),
        now=timezone.now(),
    )
