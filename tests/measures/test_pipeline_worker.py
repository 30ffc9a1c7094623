"""The pipeline on a real worker killed mid-way: the birth delivered again leaves the same
final state as if nothing had happened, and nothing twice."""

from __future__ import annotations

import signal
from datetime import date, timedelta

import psycopg
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
from tests.platform_core.test_worker import (  # noqa: F401
    database_url,
    running_worker,
    wait_for,
    worker,
)
from tests.platform_core.test_worker import pytestmark as worker_marks
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


def _waiting_on_lock(blocker: psycopg.Connection) -> bool:
    """Whether another session waits for a lock the blocker holds."""
    row = blocker.execute(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'measures_case'::regclass"
    ).fetchone()
    return row[0] > 0


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
    deliveries = EventDelivery.objects.filter(handler="measures.open_cases")
    # Another session holds the case table, so the handler stops at its first case, inside
    # its transaction: killed there, it dies mid-way whatever the machine's speed.
    with psycopg.connect(database_url()) as blocker:
        blocker.execute("LOCK TABLE measures_case IN EXCLUSIVE MODE")
        life_event_record(
            person=child,
            kind=LifeEventKind.BIRTH,
            occurred_on=child.birth_date,
            learned_at=timezone.now(),
            source_system="test",
            source_event_id="b-1",
        )
        wait_for(deliveries.exists, worker=worker)
        delivery = deliveries.get()
        wait_for(lambda: _locked(delivery.pk), worker=worker)  # the handler is running
        wait_for(lambda: _waiting_on_lock(blocker), worker=worker)  # and stuck at the case
        worker.send_signal(signal.SIGKILL)  # mid-handler: the transaction dies with it
        worker.wait(timeout=20)
        blocker.rollback()
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
