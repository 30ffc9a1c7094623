"""Handlers the event-bus tests subscribe; also loaded by a real worker in the Redis test.

They record what they saw in the outbox itself (a "tests.seen" event) so the test can observe
a worker's work through the database alone.
"""

from __future__ import annotations

from platform_core.bus import Event, publish, subscribe

FAIL_TIMES: dict[str, int] = {}


@subscribe("tests.ping")
def record_ping(event: Event) -> None:
    publish("tests.seen", {"of": event.id, "n": event.payload.get("n")})


@subscribe("tests.flaky")
def flaky(event: Event) -> None:
    remaining = FAIL_TIMES.get(event.id, int(event.payload.get("fail_times", 0)))
    if remaining > 0:
        FAIL_TIMES[event.id] = remaining - 1
        raise RuntimeError(f"refusing {event.id}, {remaining} more failures planned")
    publish("tests.seen", {"of": event.id})


@subscribe("tests.batch", batch=True)
def record_batch(events: list[Event]) -> None:
    """Takes events in batches; a poisoned event fails the whole call."""
    if any(event.payload.get("poison") for event in events):
        raise RuntimeError("a poisoned event in the batch")
    for event in events:
        publish("tests.seen", {"of": event.id, "batch": len(events)})
