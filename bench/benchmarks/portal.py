"""The citizen portal under load: the "my rights" page of logged-in citizens of the synthetic
region, through a real gunicorn server (production settings), 50 concurrent users.

Two hundred parents of the region get a portal login and the case of the unified allowance
their child's birth would open (offered, decided or sent on, as the rules say), so that the
page has offers, assignments and explanations to draw. Sessions are made in the database
before the clock starts, as a login would. The server says how long it took for each answer
(`Server-Timing`, config.middleware): that is the server-side time; the clients' own
latency, with the queue in front of the workers, is reported beside it.
"""

from __future__ import annotations

import re
import secrets
import statistics
import subprocess
import sys
from pathlib import Path

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.test import override_settings
from django.utils import timezone

from bench.benchmarks import Context, Metric, benchmark
from bench.benchmarks.ingest import _free_port, _redis_up, _send_all, _server, production_env
from frontoffice.services import citizen_account_for
from measures.enums import TriggerKind
from measures.models import Measure
from measures.services.cases import case_open, case_work
from measures.services.catalogue import catalogue_load
from platform_core.calendar import calendar_load_year
from registries.enums import RelationKind
from registries.models import Person, Relation

ROOT = Path(__file__).resolve().parents[2]
USERS = 50
CITIZENS = 200
PATH = "/portal/my/"
API = "/api/v1/portal/my/rights/"
TIMING = re.compile(rb"Server-Timing: app;dur=([0-9.]+)", re.IGNORECASE)


def _citizens(count: int) -> list[tuple[Person, str]]:
    """Parents of the region with a portal login, a session and the case of their child."""
    today = timezone.localdate()
    unified = Measure.objects.get(code="federal.unified_allowance")
    parents = (
        Relation.objects.filter(
            kind=RelationKind.PARENT, valid_to=None, from_person__region_id="27"
        )
        .select_related("from_person", "to_person")
        .order_by("from_person_id")
        .distinct("from_person_id")[:count]
    )
    found = []
    for relation in parents:
        parent, child = relation.from_person, relation.to_person
        case, _ = case_open(
            person=parent,
            measure=unified,
            trigger_kind=TriggerKind.LIFE_EVENT,
            trigger_key=f"bench:{child.pk}",
            as_of=today,
            now=timezone.now(),
        )
        case_work(case_id=case.pk, now=timezone.now())
        user = citizen_account_for(parent).user
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        found.append((parent, session.session_key))
    return found


def _get(session_key: str, path: str = PATH) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: sessionid={session_key}\r\n"
        "Accept-Language: ru\r\nConnection: close\r\n\r\n"
    ).encode()


def _server_times(heads: list[bytes], statuses: dict[int, int], total: int) -> list[float]:
    if set(statuses) != {200}:
        raise RuntimeError(f"the answers were not all served: {statuses}")
    times = [float(m.group(1)) for head in heads if (m := TIMING.search(head))]
    if len(times) != total:
        raise RuntimeError(f"{total - len(times)} answers had no Server-Timing")
    return times


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


@benchmark(
    Metric(
        "portal_my_rights_p95_ms",
        "ms",
        f"The citizen's 'my rights' page, server-side (Server-Timing), p95, {USERS} concurrent "
        "users on gunicorn (production settings) over the synthetic region.",
        target=150,
        higher_is_better=False,
    ),
    Metric(
        "portal_my_rights_client_p95_ms",
        "ms",
        "The same requests as the clients saw them: the queue in front of the workers included.",
        higher_is_better=False,
    ),
    Metric("portal_my_rights_per_s", "1/s", "Pages served a second under that load."),
    Metric(
        "portal_my_rights_api_p95_ms",
        "ms",
        f"The same rights through the portal's API ({API}), server-side, p95, same load.",
        target=150,
        higher_is_better=False,
    ),
)
def portal(ctx: Context) -> dict[str, float]:
    if not _redis_up():
        ctx.log("   Redis is not reachable on 127.0.0.1:6379: the portal benchmark needs it.")
        return {}
    assert ctx.populated_database is not None
    total = ctx.size(full=5000, quick=1000)
    with ctx.populated_database():
        today = timezone.localdate()
        catalogue_load(as_of=today)
        for year in (today.year - 1, today.year, today.year + 1):
            calendar_load_year(year=year)
        # The server's secret key: the sessions made here must be its sessions.
        secret = secrets.token_urlsafe(48)
        with override_settings(SECRET_KEY=secret):
            citizens = _citizens(ctx.size(full=CITIZENS, quick=CITIZENS // 2))
        ctx.log(f"   {len(citizens)} citizens logged in")
        # The production settings serve static files from the collected manifest.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env=production_env(secret),
            check=True,
        )
        port = _free_port()
        with _server(port, ctx, secret):
            warm = [_get(key) for _, key in citizens]
            _send_all(port, warm, connections=USERS)
            requests = [_get(citizens[i % len(citizens)][1]) for i in range(total)]
            heads: list[bytes] = []
            seconds, latencies, statuses = _send_all(port, requests, connections=USERS, heads=heads)
            server = _server_times(heads, statuses, total)
            ctx.log(f"   {total} pages in {seconds:.1f} s, answers {statuses}")
            api_requests = [_get(citizens[i % len(citizens)][1], API) for i in range(total)]
            api_heads: list[bytes] = []
            api_seconds, _latencies, api_statuses = _send_all(
                port, api_requests, connections=USERS, heads=api_heads
            )
            api = _server_times(api_heads, api_statuses, total)
            ctx.log(f"   {total} API answers in {api_seconds:.1f} s, answers {api_statuses}")
    return {
        "portal_my_rights_p95_ms": _p95(server),
        "portal_my_rights_client_p95_ms": _p95(latencies) * 1000,
        "portal_my_rights_per_s": total / seconds,
        "portal_my_rights_api_p95_ms": _p95(api),
    }
