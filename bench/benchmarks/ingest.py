"""Inbound events through a real gunicorn server: signed single posts, batches, applying.

The server runs the production settings against the benchmark's database, with Celery's
broker on the local Redis and no worker: a request stores, publishes and acknowledges, as in
production; applying is measured separately, in process. The load comes from a small client
on the same machine (it takes part of the two cores, as a real neighbour would): plain
non-blocking sockets in one thread, a new connection per request (gunicorn's sync workers close
each one), so that it takes as little of those cores as it can. It used asyncio's streams
before, which took 0.7 ms of CPU per request against 0.3 now: events per second measured
with the old client are not quite comparable with today's. The requests are
signed before the clock starts, with the time they are sent in the same five minutes: the
server checks the signature and its timestamp on every one of them.
"""

from __future__ import annotations

import json
import os
import secrets
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.benchmarks import Context, Metric, benchmark, database_url
from integration.enums import Contract, InboxStatus, Scope, SystemKind
from integration.models import ExternalSystem, InboundEvent
from integration.signing import signature
from registries.models import Person

ROOT = Path(__file__).resolve().parents[2]
PATH = "/api/v1/integration/civil-registry/events"
REDIS_DB_URL = "redis://127.0.0.1:6379/14"
REDIS_CACHE_URL = "redis://127.0.0.1:6379/13"
# Three workers on this 2-core machine, beside the load generator and PostgreSQL: four ran
# 412 posts/s where three ran 558 in the same session (too many processes for two cores).
WORKERS = int(os.environ.get("BENCH_INGEST_WORKERS", "3"))
CONNECTIONS = 16
BATCH = 500
WARM = 50
# The single posts are sent in rounds and the median round is the figure: one build measured
# 442-588 posts/s over five runs on an idle machine, so one round alone says little.
ROUNDS = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def production_env(secret: str | None = None) -> dict[str, str]:
    """The environment of the production settings against the benchmark's database (with
    the secret key given: sessions made in this process are read by the server)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secret or secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": REDIS_DB_URL,
        "CACHE_URL": REDIS_CACHE_URL,
        "LOG_LEVEL": "WARNING",
    }


@contextmanager
def _server(port: int, ctx: Context, secret: str | None = None):  # type: ignore[no-untyped-def]
    env = production_env(secret)
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start")
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _request(port: int, path: str, body: bytes, system: ExternalSystem, stamp: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-System: {system.code}\r\nX-Timestamp: {stamp}\r\n"
        f"X-Signature: {signature(system.secret, stamp, body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def _send_all(
    port: int,
    requests: list[bytes],
    *,
    connections: int = CONNECTIONS,
    heads: list[bytes] | None = None,
) -> tuple[float, list[float], dict[int, int]]:
    """Send every request over `connections` concurrent clients; wall time, latencies,
    statuses (and each answer's first bytes into `heads`, when given).

    Each client opens a connection, sends one request, reads the answer to the server's close
    and starts the next request: a plain non-blocking socket loop (selectors), so that the
    load generator, which shares the machine's two cores with the server, spends a third of
    the CPU per request asyncio's streams did (0.3 ms against 0.7).
    """
    queue = list(reversed(requests))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    selector = selectors.DefaultSelector()

    def start() -> None:
        raw = queue.pop()
        client = socket.socket()
        client.setblocking(False)
        client.connect_ex(("127.0.0.1", port))
        # what is left to send, the answer's first bytes, when the request started
        state = [memoryview(raw), b"", time.perf_counter()]
        selector.register(client, selectors.EVENT_WRITE, state)

    started = time.perf_counter()
    for _ in range(min(connections, len(queue))):
        start()
    while selector.get_map():
        for key, events in selector.select():
            client, state = key.fileobj, key.data
            if events & selectors.EVENT_WRITE:
                state[0] = state[0][client.send(state[0]) :]
                if not state[0]:
                    selector.modify(client, selectors.EVENT_READ, state)
                continue
            chunk = client.recv(65536)
            if chunk:
                state[1] = state[1] or chunk
                continue
            selector.unregister(client)
            client.close()
            latencies.append(time.perf_counter() - state[2])
            status = int(state[1][9:12])
            if heads is not None:
                heads.append(state[1])
            statuses[status] = statuses.get(status, 0) + 1
            if queue:
                start()
    return time.perf_counter() - started, latencies, statuses


def _births(mothers: list[Person], on: date, prefix: str) -> list[dict[str, Any]]:
    found = []
    for number, mother in enumerate(mothers):
        found.append(
            {
                "event_id": f"{prefix}-{number}-{uuid.uuid4().hex[:8]}",
                "type": "birth",
                "act": {
                    "number": f"{number:08d}",
                    "date": on.isoformat(),
                    "office_code": "2700",
                    "region_code": "27",
                },
                "occurred_on": on.isoformat(),
                "subjects": {
                    "child": {
                        "name": {"last": mother.last_name, "first": "Тест"},
                        "birth_date": on.isoformat(),
                        "sex": "F",
                    },
                    "mother": {
                        "name": {"last": mother.last_name, "first": mother.first_name},
                        "birth_date": mother.birth_date.isoformat(),
                        "snils": mother.snils,
                        "sex": "F",
                    },
                },
            }
        )
    return found


def _mothers(count: int) -> list[Person]:
    from platform_core.validators import snils_from_number

    Person.objects.bulk_create(
        Person(
            snils=snils_from_number(300_000_000 + n),
            last_name="Мамина",
            first_name=f"Мать{n}",
            birth_date=date(1990, 1, 1) + timedelta(days=n % 3000),
            sex="F",
            region_id="27",
        )
        for n in range(count)
    )
    return list(Person.objects.filter(last_name="Мамина").order_by("pk"))


@benchmark(
    Metric(
        "ingest_events_per_s",
        "1/s",
        "Signed, validated civil registry events posted one per request to gunicorn "
        f"({WORKERS} workers), stored once and acknowledged; {CONNECTIONS} concurrent clients; "
        f"the median of {ROUNDS} rounds.",
        target=500,
    ),
    Metric(
        "ingest_ack_p99_ms",
        "ms",
        "p99 of the acknowledgement latency of those single posts (all rounds), as the "
        "clients saw it.",
        higher_is_better=False,
    ),
    Metric(
        "ingest_batch_events_per_s",
        "1/s",
        f"The same events through the batch endpoint, {BATCH} per request.",
        target=5000,
    ),
    Metric(
        "inbound_apply_events_per_s",
        "1/s",
        "Received births applied to the registry (child registered, parent linked, life "
        "event recorded, fact tables refreshed by their triggers), in process.",
    ),
)
def ingest(ctx: Context) -> dict[str, float]:
    if not _redis_up():
        ctx.log("   Redis is not reachable on 127.0.0.1:6379: the ingest benchmark needs it.")
        return {}
    singles = ctx.size(full=6000, quick=600)
    batched = ctx.size(full=20_000, quick=2_000)
    on = date(2026, 11, 1)
    with ctx.fresh_database():
        system = ExternalSystem.objects.create(
            code="bench-zags",
            name="Bench civil registry",
            kind=SystemKind.CIVIL_REGISTRY,
            scopes=[Scope.CIVIL_REGISTRY_EVENTS],
        )
        mothers = _mothers(singles * ROUNDS + batched + WARM)
        port = _free_port()
        with _server(port, ctx):
            stamp = str(int(time.time()))
            # Mothers of their own: a second birth of the same child would go to review.
            warm = _births(mothers[-WARM:], on, "warm")
            _send_all(
                port, [_request(port, PATH, json.dumps(d).encode(), system, stamp) for d in warm]
            )
            rates: list[float] = []
            latencies: list[float] = []
            for round_ in range(ROUNDS):
                documents = _births(
                    mothers[singles * round_ : singles * (round_ + 1)], on, f"one{round_}"
                )
                requests = [
                    _request(port, PATH, json.dumps(d, ensure_ascii=False).encode(), system, stamp)
                    for d in documents
                ]
                seconds, round_latencies, statuses = _send_all(port, requests)
                ctx.log(f"   {singles} single posts in {seconds:.1f} s, answers {statuses}")
                rates.append(singles / seconds)
                latencies += round_latencies
            latencies.sort()
            p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
            batch_documents = _births(mothers[singles * ROUNDS : -WARM], on, "many")
            batches = [
                _request(
                    port,
                    f"{PATH}/batch",
                    json.dumps({"events": batch_documents[i : i + BATCH]}).encode(),
                    system,
                    stamp,
                )
                for i in range(0, len(batch_documents), BATCH)
            ]
            batch_seconds, _latencies, batch_statuses = _send_all(port, batches)
            ctx.log(f"   {batched} events in batches in {batch_seconds:.1f} s, {batch_statuses}")
        stored = InboundEvent.objects.filter(status=InboxStatus.RECEIVED).count()
        expected = singles * ROUNDS + batched + len(warm)
        if stored != expected:
            raise RuntimeError(f"{stored} events stored, {expected} sent")
        from registries.services.inbound import inbound_apply

        sample = list(
            InboundEvent.objects.filter(contract=Contract.CIVIL_REGISTRY_EVENT)
            .order_by("pk")
            .values_list("pk", flat=True)[: ctx.size(full=600, quick=100)]
        )
        started = time.perf_counter()
        for pk in sample:
            inbound_apply(pk)
        apply_seconds = time.perf_counter() - started
        applied = InboundEvent.objects.filter(pk__in=sample, status=InboxStatus.APPLIED).count()
        if applied != len(sample):
            raise RuntimeError(f"only {applied} of {len(sample)} events applied")
    _flush_redis()
    return {
        "ingest_events_per_s": statistics.median(rates),
        "ingest_ack_p99_ms": p99,
        "ingest_batch_events_per_s": batched / batch_seconds,
        "inbound_apply_events_per_s": len(sample) / apply_seconds,
    }


def _flush_redis() -> None:
    """Drop the dispatch tasks the server queued (no worker ran them)."""
    import redis

    redis.Redis.from_url(REDIS_DB_URL).flushdb()
