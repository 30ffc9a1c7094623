"""The pipeline on a real worker killed mid-way: the birth delivered again leaves the same
final state as if nothing had happened, and nothing twice."""

from __future__ import annotations

import signal
import time
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from measures.enums import CaseStatus
from measures.models import Assignment, Case, Decision
from platform_core import bus
from platform_core.calendar import calendar_load_year
from platform_core.enums import DeliveryStatus
from platform_core.models import EventDelivery
from registries.enums import LifeEventKind, RelationBasis, RelationKind
from registries.models import Relation
from registries.services.life_events import life_event_record
from tests.measures.families import person
from tests.platform_core.test_worker import pytestmark as worker_marks
from tests.platform_core.test_worker import running_worker, wait_for, worker  # noqa: F401
from tests.registries.factories import PersonFactory

pytestmark = worker_marks


def _locked(delivery_id: int) -> bool:
    """Whether a worker holds the delivery (its handler is running)."""
    with transaction.atomic():
        return not (
            EventDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery_id)
            .exists()
        )


def test_a_worker_killed_mid_pipeline_leaves_nothing_half_done(loaded_catalogue, worker):  # noqa: F811
    for year in (2025, 2026, 2027):
        calendar_load_year(year=year)
    mother = PersonFactory(
        birth_date=date(1994, 3, 2), sex="F", region_id="27", snils="112-233-445 95"
    )
    child = person(date(2025, 8, 20), "M")
    Relation.objects.create(
        kind=RelationKind.PARENT,
        basis=RelationBasis.BIRTH,
        from_person=mother,
        to_person=child,
        valid_from=child.birth_date,
    )
    life_event_record(
        person=child,
        kind=LifeEventKind.BIRTH,
        occurred_on=child.birth_date,
        learned_at=timezone.now(),
        source_system="test",
        source_event_id="b-1",
    )
    deliveries = EventDelivery.objects.filter(handler="measures.open_cases")
    wait_for(deliveries.exists, worker=worker)
    delivery = deliveries.get()
    deadline = time.monotonic() + 30
    held = False
    while not held and time.monotonic() < deadline:
        held = _locked(delivery.pk)
    assert held, "the worker never started the handler"
    worker.send_signal(signal.SIGKILL)  # mid-handler: the transaction dies with it
    worker.wait(timeout=20)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert not Case.objects.exists()  # nothing half-written

    # A worker comes back; the redelivery job finds the delivery due and runs it again.
    with running_worker() as process:
        bus.deliveries_redeliver_due(now=timezone.now() + timedelta(minutes=5))
        wait_for(
            lambda: EventDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.DONE,
            worker=process,
        )
        bus.deliveries_redeliver_due(now=timezone.now() + timedelta(minutes=5))  # nothing due
        granted = Decision.objects.filter(case__measure__code="federal.birth_allowance")
        assert [d.case.person for d in granted] == [mother]
        assert Assignment.objects.filter(decision__in=granted).count() == 1
        assert Case.objects.filter(status=CaseStatus.OPEN).count() == 0
