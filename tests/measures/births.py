"""A mother of region 27 and her child's birth posted by the civil registry, as the pipeline
tests use them."""

from __future__ import annotations

from platform_core.validators import snils_from_number
from registries.enums import LifeEventKind
from registries.models import LifeEvent
from tests.integration.helpers import CIVIL, birth, make_system, person, post

MOTHER_SNILS = snils_from_number(200_000_777)


def born(client, mother, event_id: str = "b-1", on: str = "2026-11-01"):  # type: ignore[no-untyped-def]
    zags = make_system()
    document = birth(
        event_id,
        person("Иванова", "Мария", "1994-03-02", snils=MOTHER_SNILS, sex="F"),
        person("Иванов", "Пётр", on, sex="M"),
    )
    response = post(client, CIVIL, document, zags)
    assert response.status_code == 202, response.content
    return LifeEvent.objects.get(kind=LifeEventKind.BIRTH, source_event_id=event_id)
