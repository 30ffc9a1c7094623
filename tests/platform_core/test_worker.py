"""The real path: Redis broker, a Celery worker process, the outbox and the database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, transaction

from config.celery import app as celery_app
from platform_core import bus
from platform_core.enums import DeliveryStatus
from platform_core.models import EventDelivery, OutboxEvent
from platform_core.tasks import deliver_event

ROOT = Path(__file__).resolve().parents[2]


def _redis_url() -> str:
    """The test broker; each xdist worker gets its own Redis database (15, 14, ...), since a
    worker fixture flushes its database and must not drop another process's queued tasks."""
    if url := os.environ.get("TEST_REDIS_URL"):
        return url
    index = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    return f"redis://127.0.0.1:6379/{15 - index % 16}"


REDIS_URL = _redis_url()


def redis_reachable() -> bool:
    host_port = REDIS_URL.split("//", 1)[1].split("/", 1)[0]
    host, _, port = host_port.rpartition("@")[2].partition(":")
    try:
        socket.create_connection((host, int(port or 6379)), timeout=1).close()
    except OSError:
        return False
    return True


pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not redis_reachable(), reason=f"no Redis broker at {REDIS_URL}"),
]


def database_url() -> str:
    db = connection.settings_dict
    host = quote(db["HOST"] or "127.0.0.1", safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{db['USER']}@{host}{port}/{db['NAME']}"


def reset_connections() -> None:
    """Drop connection and producer pools made earlier for another broker URL. Not
    `celery_app.close()`: it deregisters the app, and a task module imported later (a
    lazily imported one, such as integration.tasks) would then never register with it."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def running_worker():
    """A Celery worker process (solo pool) on the test Redis and this test's database."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "EVENTS_EXTRA_HANDLER_MODULES": "tests.platform_core.handlers",
        "EVENTS_BACKOFF_BASE_SECONDS": "0.2",
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            "default,events",
            "--pool=solo",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    previous = {
        "task_always_eager": celery_app.conf.task_always_eager,
        "broker_url": celery_app.conf.broker_url,
    }
    celery_app.conf.update(task_always_eager=False, broker_url=REDIS_URL)
    reset_connections()
    try:
        yield process
    finally:
        celery_app.conf.update(**previous)
        reset_connections()
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def worker():
    with running_worker() as process:
        yield process


def wait_for(predicate, *, seconds: float = 60.0, worker=None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        if worker is not None and worker.poll() is not None:
            output = worker.stdout.read().decode(errors="replace")
            raise AssertionError(f"the worker exited early:\n{output[-3000:]}")
        time.sleep(0.2)
    detail = ""
    if worker is not None:
        worker.terminate()
        detail = worker.communicate(timeout=20)[0].decode(errors="replace")[-3000:]
    raise AssertionError(f"the worker did not finish in time:\n{detail}")


def seen(event: OutboxEvent) -> int:
    return OutboxEvent.objects.filter(event_type="tests.seen", payload__of=str(event.id)).count()


def test_worker_delivers_published_events_once_even_if_the_message_is_repeated(worker):
    with transaction.atomic():
        event = bus.publish("tests.ping", {"n": 1})
    wait_for(
        lambda: EventDelivery.objects.filter(event=event, status=DeliveryStatus.DONE).exists(),
        worker=worker,
    )
    delivery = EventDelivery.objects.get(event=event)
    # The broker redelivers the same message twice more (as after a lost ack).
    deliver_event.delay(delivery_id=delivery.pk)
    deliver_event.delay(delivery_id=delivery.pk)
    marker = bus.publish("tests.ping", {"n": 2})  # runs after the repeats on the solo worker
    wait_for(lambda: seen(marker) == 1, worker=worker)
    assert seen(event) == 1


def test_worker_retries_a_failing_handler_with_backoff_until_it_succeeds(worker):
    event = bus.publish("tests.flaky", {"fail_times": 2})
    wait_for(
        lambda: EventDelivery.objects.filter(event=event, status=DeliveryStatus.DONE).exists(),
        worker=worker,
    )
    delivery = EventDelivery.objects.get(event=event)
    assert delivery.attempts == 3
    assert seen(event) == 1
