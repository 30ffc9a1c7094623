"""The proactive pipeline end to end: births in, decisions and assignments out.

Births of the synthetic region's mothers are stored in the inbox as the civil registry's API
stores them (in batches), and a real Celery worker and beat on the local Redis do everything
else: beat's outbox poller dispatches them, the worker applies each birth to the registry,
and the cases of every measure the birth triggers: evaluated, decided, signed, assigned. No
inter-agency data is pending: no provider answers incomes here, so a measure that needs them
goes to an officer at once. The clock stops when every birth is applied and every case it
opened has left its first status.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import redis
from django.db import connection
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone

from bench.benchmarks import Context, Metric, benchmark, database_url
from bench.benchmarks.ingest import REDIS_DB_URL, _births, _mothers, _redis_up
from integration.enums import Contract, InboxStatus, Scope, SystemKind
from integration.models import ExternalSystem, InboundEvent
from integration.services.inbox import inbound_receive
from measures.enums import CaseStatus
from measures.models import Case
from measures.services.catalogue import catalogue_load
from platform_core.calendar import calendar_load_year
from platform_core.enums import DeliveryStatus
from platform_core.models import EventDelivery, OutboxEvent

ROOT = Path(__file__).resolve().parents[2]
ON = date(2026, 11, 1)
BATCH = 500
CONCURRENCY = int(os.environ.get("BENCH_PIPELINE_CONCURRENCY", "2"))
TIMEOUT_S = 3600


@contextmanager
def _celery(ctx: Context, **settings: str):  # type: ignore[no-untyped-def]
    """A real worker and beat (its outbox poller dispatches what the inbox published) on the
    local Redis, against the benchmark's database, with these settings' environment."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": REDIS_DB_URL,
        "LOG_LEVEL": "WARNING",
        **settings,
    }
    celery = str(Path(sys.executable).parent / "celery")
    # Tasks an earlier run left queued would run against this run's database (same ids).
    redis.Redis.from_url(REDIS_DB_URL).flushdb()
    worker = subprocess.Popen(
        [
            celery,
            "-A",
            "config",
            "worker",
            "-Q",
            "default,events,measures,integration,notifications",
            "--concurrency",
            str(CONCURRENCY),
            "--loglevel",
            "WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
    )
    beat = subprocess.Popen(
        [celery, "-A", "config", "beat", "--loglevel", "WARNING", "-s", "/tmp/bench-beat"],
        cwd=ROOT,
        env=env,
    )
    try:
        yield
    finally:
        for process in (beat, worker):
            process.terminate()
        for process in (beat, worker):
            process.wait(timeout=60)


def _settled() -> tuple[int, int]:
    """(births applied, work still under way: events not dispatched, deliveries not done,
    cases in their first status)."""
    applied = InboundEvent.objects.filter(
        contract=Contract.CIVIL_REGISTRY_EVENT, status=InboxStatus.APPLIED
    ).count()
    unsettled = (
        OutboxEvent.objects.filter(dispatched_at=None).count()
        + EventDelivery.objects.exclude(
            status__in=[DeliveryStatus.DONE, DeliveryStatus.DEAD]
        ).count()
        + Case.objects.filter(status=CaseStatus.OPEN).count()
    )
    return applied, unsettled


@benchmark(
    Metric(
        "pipeline_births_per_s",
        "births/s",
        "Births processed end to end by a real Celery worker on Redis (applied to the "
        "registry, every triggered measure's case evaluated and decided or sent on, decisions "
        "signed, assignments made), on the synthetic region; no inter-agency data pending.",
        target=200,
        baseline="pipeline_one_event_a_batch_births_per_s",
    ),
    Metric(
        "pipeline_event_to_decision_p95_s",
        "s",
        "From a birth stored in the inbox to the last of its cases leaving its first status, "
        "95th percentile.",
        target=2,
        higher_is_better=False,
    ),
    Metric(
        "pipeline_one_event_a_batch_births_per_s",
        "births/s",
        "The baseline, in the same run: a tenth of the births, every handler given one event "
        "at a time (EVENTS_BATCH_SIZE=1), as before batch handlers.",
    ),
)
def pipeline(ctx: Context) -> dict[str, float]:
    if not _redis_up():
        ctx.log("   Redis is not reachable on 127.0.0.1:6379: the pipeline benchmark needs it.")
        return {}
    births = ctx.size(full=10_000, quick=300)
    seconds, lags = _run(ctx, births)
    # The baseline, in the same run: fewer births, each handler given one event at a time.
    few = ctx.size(full=1_000, quick=100)
    baseline, _lags_unused = _run(ctx, few, EVENTS_BATCH_SIZE="1")
    return {
        "pipeline_births_per_s": births / seconds,
        "pipeline_event_to_decision_p95_s": statistics.quantiles(lags, n=20)[-1],
        "pipeline_one_event_a_batch_births_per_s": few / baseline,
    }


def _run(ctx: Context, births: int, **settings: str) -> tuple[float, list[float]]:
    """Births stored at once and worked by a real worker with these settings, on a fresh
    copy of the populated region: the seconds until all settled, and each birth's lag."""
    assert ctx.populated_database is not None
    with ctx.populated_database():
        catalogue_load(as_of=ON)
        for year in (ON.year - 1, ON.year, ON.year + 1):
            calendar_load_year(year=year)
        system = ExternalSystem.objects.create(
            code="bench-zags",
            name="Bench civil registry",
            kind=SystemKind.CIVIL_REGISTRY,
            scopes=[Scope.CIVIL_REGISTRY_EVENTS],
        )
        documents = _births(_mothers(births), ON, "pipe")
        with _celery(ctx, **settings):
            time.sleep(5)  # the worker and beat connect
            started = time.perf_counter()
            # Stored as the API stores them: published for beat's poller, not dispatched here.
            with override_settings(CELERY_TASK_ALWAYS_EAGER=False):
                for i in range(0, len(documents), BATCH):
                    inbound_receive(
                        system=system,
                        contract=Contract.CIVIL_REGISTRY_EVENT,
                        documents=documents[i : i + BATCH],
                        now=timezone.now(),
                    )
            deadline = time.monotonic() + ctx.size(full=TIMEOUT_S, quick=600)
            shown = 0.0
            while time.monotonic() < deadline:
                applied, unsettled = _settled()
                if applied >= births and unsettled == 0:
                    break
                if time.perf_counter() - started >= shown + 5:  # how it goes, every 5 s
                    shown = time.perf_counter() - started
                    ctx.log(f"   {shown:5.0f} s: {applied} applied, {unsettled} unsettled")
                time.sleep(0.5)
            else:
                raise RuntimeError(f"not settled in {TIMEOUT_S} s: {applied} applied")
            seconds = time.perf_counter() - started
        ctx.log(f"   {births} births settled in {seconds:.1f} s {settings or ''}")
        outcomes = dict(
            Case.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n")
        )
        ctx.log(f"   cases by status: {outcomes}")
        return seconds, _lags()


def _lags() -> list[float]:
    """Seconds from each birth's inbox row to the last status change of its cases."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT EXTRACT(EPOCH FROM MAX(e.at) - MIN(i.received_at))
            FROM integration_inboundevent i
            JOIN registries_lifeevent l
                ON l.source_event_id = i.event_id AND l.kind = 'birth'
            JOIN measures_case c ON c.life_event_id = l.id
            JOIN measures_caseentry e ON e.case_id = c.id AND e.kind = 'status'
            GROUP BY i.id
            """
        )
        return [float(row[0]) for row in cursor.fetchall()]
