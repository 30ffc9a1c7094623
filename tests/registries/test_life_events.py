"""Life events: recorded once, corrections and cancellations keep their history."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError

from platform_core.errors import Conflict
from platform_core.models import OutboxEvent
from registries.enums import LifeEventStatus
from registries.models import LifeEvent
from registries.services.life_events import life_event_cancel, life_event_correct, life_event_record
from tests.registries.factories import PersonFactory

pytestmark = pytest.mark.django_db

LEARNED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def person(region_27):
    return PersonFactory(birth_date=date(1950, 1, 1))


def record(person, event_id="zags-1", occurred_on=date(2026, 3, 1)):
    return life_event_record(
        person=person,
        kind="death",
        occurred_on=occurred_on,
        learned_at=LEARNED,
        source_system="zags",
        source_event_id=event_id,
        act={"number": "170269270001", "office_code": "2701"},
    )


def test_repeated_message_records_the_event_once(person):
    first, created = record(person)
    again, created_again = record(person)
    assert (created, created_again) == (True, False)
    assert first.pk == again.pk
    assert LifeEvent.objects.count() == 1
    assert OutboxEvent.objects.filter(event_type="registries.life_event_recorded").count() == 1


def test_correction_supersedes_but_keeps_the_original(person):
    original, _ = record(person)
    correction = life_event_correct(
        original=original,
        occurred_on=date(2026, 2, 27),
        learned_at=LEARNED,
        source_event_id="zags-2",
    )
    original.refresh_from_db()
    assert original.status == LifeEventStatus.CORRECTED
    assert original.occurred_on == date(2026, 3, 1)  # what was believed stays readable
    assert correction.corrects == original
    assert correction.occurred_on == date(2026, 2, 27)
    assert correction.act_number == "170269270001"
    # The same correction delivered twice changes nothing more.
    again = life_event_correct(
        original=original,
        occurred_on=date(2026, 2, 27),
        learned_at=LEARNED,
        source_event_id="zags-2",
    )
    assert again.pk == correction.pk
    assert LifeEvent.objects.count() == 2
    assert OutboxEvent.objects.filter(event_type="registries.life_event_corrected").count() == 1


def test_cancellation_is_recorded_in_history_and_blocks_corrections(person):
    event, _ = record(person)
    life_event_cancel(event=event, reason="act annulled by court")
    life_event_cancel(event=event, reason="repeated")
    event.refresh_from_db()
    assert event.status == LifeEventStatus.CANCELLED
    statuses = [h.status for h in event.history.order_by("history_date")]
    assert statuses == [LifeEventStatus.ACTIVE, LifeEventStatus.CANCELLED]
    assert OutboxEvent.objects.filter(event_type="registries.life_event_cancelled").count() == 1
    with pytest.raises(Conflict):
        life_event_correct(
            original=event,
            occurred_on=date(2026, 3, 1),
            learned_at=LEARNED,
            source_event_id="zags-3",
        )


def test_event_before_birth_is_refused_naming_the_field(person):
    with pytest.raises(ValidationError) as excinfo:
        record(person, occurred_on=date(1949, 12, 31))
    assert "occurred_on" in excinfo.value.message_dict
    assert not LifeEvent.objects.exists()
