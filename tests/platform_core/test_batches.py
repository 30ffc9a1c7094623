"""Deferred inserts: a batch's rows written together at its end, never those of a savepoint
that rolled back."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from platform_core import bus
from platform_core.batches import inserts_deferred, optimistic, savepoints
from platform_core.models import OutboxEvent
from tests.platform_core.test_bus import seen_for

pytestmark = pytest.mark.django_db(transaction=True)


def kinds() -> list[int]:
    return sorted(e.payload["n"] for e in OutboxEvent.objects.filter(event_type="tests.unheard"))


def test_rows_are_written_in_one_insert_at_the_end_of_the_block():
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries, inserts_deferred():
            for n in range(5):
                bus.publish("tests.unheard", {"n": n})
            assert kinds() == []  # not yet
        assert kinds() == [0, 1, 2, 3, 4]
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1


def test_a_row_of_a_rolled_back_savepoint_is_not_written():
    with transaction.atomic(), inserts_deferred():
        bus.publish("tests.unheard", {"n": 1})
        with pytest.raises(RuntimeError), transaction.atomic():
            bus.publish("tests.unheard", {"n": 2})
            with transaction.atomic():
                bus.publish("tests.unheard", {"n": 3})
            raise RuntimeError("this part failed")
        with transaction.atomic():
            bus.publish("tests.unheard", {"n": 4})
    assert kinds() == [1, 4]


def test_a_failed_block_writes_nothing():
    with pytest.raises(RuntimeError), transaction.atomic(), inserts_deferred():
        bus.publish("tests.unheard", {"n": 1})
        raise RuntimeError("the batch failed")
    assert kinds() == []


def test_deferred_events_are_dispatched_after_commit():
    with transaction.atomic(), inserts_deferred():
        event = bus.publish("tests.ping", {"n": 1})
    assert seen_for(event) == 1


def test_deferring_needs_a_transaction():
    with pytest.raises(RuntimeError), inserts_deferred():
        pass


def test_an_optimistic_block_takes_no_savepoints_and_fails_whole():
    assert savepoints()
    with pytest.raises(RuntimeError), transaction.atomic(), optimistic():
        assert not savepoints()
        with optimistic(False):
            assert savepoints()  # a batch of one handles its failures itself
        with transaction.atomic(savepoint=savepoints()):
            bus.publish("tests.unheard", {"n": 1})
        raise RuntimeError("a failure fails the batch")
    assert savepoints()
    assert kinds() == []
