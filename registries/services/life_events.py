"""Services that record life events, with corrections and cancellations kept as history.

A life event is recorded once per (source system, source event id, person): a re-delivered
message returns the row recorded the first time. A correction is a new row that points at
the one it corrects, which stays (marked corrected): a recalculation needs to know both what
happened and what was believed when.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from platform_core.batches import savepoints
from platform_core.bus import publish
from platform_core.errors import Conflict
from registries.enums import LifeEventStatus
from registries.models import LifeEvent, Person


def _payload(event: LifeEvent) -> dict[str, Any]:
    return {
        "life_event_id": event.pk,
        "kind": event.kind,
        "person_id": event.person_id,
        "occurred_on": event.occurred_on,
        "learned_at": event.learned_at,
        "region": event.person.region_id,
        "status": event.status,
        "corrects_id": event.corrects_id,
    }


def life_event_record(
    *,
    person: Person,
    kind: str,
    occurred_on: date,
    learned_at: datetime,
    source_system: str,
    source_event_id: str,
    act: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> tuple[LifeEvent, bool]:
    """Record a life event once; return it and whether it is new. Raises ValidationError."""
    act = act or {}
    with transaction.atomic(savepoint=savepoints()):
        existing = LifeEvent.objects.filter(
            source_system=source_system, source_event_id=source_event_id, person=person
        ).first()
        if existing is not None:
            return existing, False
        event = LifeEvent(
            kind=kind,
            person=person,
            occurred_on=occurred_on,
            learned_at=learned_at,
            source_system=source_system,
            source_event_id=source_event_id,
            act_number=act.get("number", ""),
            act_date=act.get("date"),
            act_office=act.get("office_code", ""),
            details=details or {},
        )
        if occurred_on < person.birth_date and kind != "birth":
            raise ValidationError(
                {"occurred_on": _("The event cannot precede the person's birth.")}
            )
        event.full_clean()
        event.save()
        publish("registries.life_event_recorded", _payload(event))
    return event, True


def life_event_correct(
    *,
    original: LifeEvent,
    occurred_on: date,
    learned_at: datetime,
    source_event_id: str,
    details: dict[str, Any] | None = None,
) -> LifeEvent:
    """Supersede a recorded event with a corrected one. Raises Conflict if it was cancelled."""
    with transaction.atomic():
        locked = LifeEvent.objects.select_for_update().get(pk=original.pk)
        if locked.status == LifeEventStatus.CANCELLED:
            raise Conflict(_("A cancelled life event cannot be corrected."))
        correction, created = life_event_record(
            person=locked.person,
            kind=locked.kind,
            occurred_on=occurred_on,
            learned_at=learned_at,
            source_system=locked.source_system,
            source_event_id=source_event_id,
            act={
                "number": locked.act_number,
                "date": locked.act_date,
                "office_code": locked.act_office,
            },
            details={**locked.details, **(details or {})},
        )
        if created:
            life_event_supersede(original=locked, correction=correction)
    return correction


def life_event_supersede(*, original: LifeEvent, correction: LifeEvent) -> None:
    """Mark a locked event corrected by a recorded one (what depends on it is worked out
    again: `registries.life_event_corrected`)."""
    correction.corrects = original
    correction.save(update_fields=["corrects"])
    original.status = LifeEventStatus.CORRECTED
    original.save(update_fields=["status"])
    publish("registries.life_event_corrected", _payload(correction))


def life_event_cancel(*, event: LifeEvent, reason: str) -> LifeEvent:
    """Cancel a recorded event (the act was annulled); repeated cancels change nothing."""
    with transaction.atomic():
        locked = LifeEvent.objects.select_for_update().get(pk=event.pk)
        if locked.status == LifeEventStatus.CANCELLED:
            return locked
        locked.status = LifeEventStatus.CANCELLED
        locked._change_reason = reason  # type: ignore[attr-defined]
        locked.save(update_fields=["status"])
        publish("registries.life_event_cancelled", {**_payload(locked), "reason": reason})
    return locked
