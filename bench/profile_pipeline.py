"""Where a birth's time goes in the proactive pipeline: a profile, not a benchmark.

    DATABASE_URL=postgres://... .venv/bin/python bench/profile_pipeline.py [--births N]

On a fresh database (dropped at the end) with a small synthetic region, births are stored
in the inbox as the civil registry's API stores them, each applied at once in this process by
the event bus delivering eagerly, so everything a birth sets off runs here: the registry,
the cases of every measure it triggers, decisions, assignments, notifications, federal
facts. N births are timed with their SQL statements counted, then N more are profiled with
cProfile and the time attributed to the bus's handlers and the cases' steps. The benchmark
(`bench/run.py --only pipeline`) gives the figure; this says what makes it.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
os.environ["CELERY_BROKER_URL"] = ""  # the bus delivers in this process

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

# Where nested work is read off: the bus runs every handler from deliveries_run; the cases'
# own steps run inside the measures' handlers.
BUS = "platform_core/bus.py"
CASE_STEPS = {
    "open the cases": "case_open",
    "evaluate the rules": "case_evaluate",
    "decide, sign, assign": "decision_take",
}


def _cumulative(stats: pstats.Stats, path: str, name: str) -> float:
    return sum(
        entry[3]
        for (file, _line, function), entry in stats.stats.items()  # type: ignore[attr-defined]
        if file.endswith(path) and function == name
    )


def _handlers(stats: pstats.Stats) -> dict[str, float]:
    """Seconds spent in the handlers the bus called, by the module that holds them."""
    found: dict[str, float] = {}
    for (file, _line, function), entry in stats.stats.items():  # type: ignore[attr-defined]
        for caller, timing in entry[4].items():
            if (
                caller[0].endswith(BUS)
                and caller[2] == "deliveries_run"
                and "/site-packages/" not in file
            ):
                module = str(Path(file).relative_to(ROOT)) if file.startswith(str(ROOT)) else file
                key = f"{module}:{function}"
                found[key] = found.get(key, 0.0) + timing[3]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--births", type=int, default=50, help="births timed, and as many profiled")
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument(
        "--sql", default="", help="show the first statements of handlers whose name has this"
    )
    parser.add_argument(
        "--batch", type=int, default=1, help="births a request of the civil registry carries"
    )
    parser.add_argument(
        "--callees", default="", help="also list what this function (a name) spends its time on"
    )
    args = parser.parse_args()

    from bench.benchmarks.ingest import _births, _mothers
    from bench.benchmarks.population import AS_OF, REGION, SEED
    from integration.enums import Contract, InboxStatus, Scope, SystemKind
    from integration.models import ExternalSystem, InboundEvent
    from integration.services.inbox import inbound_receive
    from measures.models import Case
    from measures.services.catalogue import catalogue_load
    from platform_core import bus
    from platform_core.calendar import calendar_load_year
    from registries.services.population import population_generate

    on = date(2026, 11, 1)
    original = connection.settings_dict["NAME"]
    name = f"profile_pipeline_{os.getpid()}"
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    connection.settings_dict["NAME"] = name
    try:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_reference_data", verbosity=0, stdout=io.StringIO())
        population_generate(region_code=REGION, persons=args.persons, seed=SEED, as_of=AS_OF)
        catalogue_load(as_of=on)
        for year in (on.year - 1, on.year, on.year + 1):
            calendar_load_year(year=year)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
        system = ExternalSystem.objects.create(
            code="profile-zags",
            name="Profile civil registry",
            kind=SystemKind.CIVIL_REGISTRY,
            scopes=[Scope.CIVIL_REGISTRY_EVENTS],
        )
        documents = _births(_mothers(2 * args.births + 5), on, "profile")

        def receive(births: list[dict]) -> None:
            # Stored as the API stores them; the eager bus then applies them here and now.
            for start in range(0, len(births), args.batch):
                inbound_receive(
                    system=system,
                    contract=Contract.CIVIL_REGISTRY_EVENT,
                    documents=births[start : start + args.batch],
                    now=timezone.now(),
                )

        receive(documents[:5])  # warm: caches, compiled rules, prepared plans
        plain, profiled = documents[5 : 5 + args.births], documents[5 + args.births :]
        statements = 0
        by_handler: dict[str, int] = {}
        shown: list[str] = []
        handler_names = {
            h.__code__: f"{h.__module__}.{h.__name__}"
            for subscribed in bus._subscribers.values()
            for h in subscribed.values()
        }

        def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
            nonlocal statements
            statements += 1
            frame = sys._getframe(1)
            while frame is not None and frame.f_code not in handler_names:
                frame = frame.f_back
            where = handler_names[frame.f_code] if frame is not None else "the inbox and the bus"
            by_handler[where] = by_handler.get(where, 0) + 1
            if args.sql and args.sql in where and by_handler[where] <= 200:
                shown.append(f"  {where}: {' '.join(sql.split())[:160]}")
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            started = time.perf_counter()
            receive(plain)
            seconds = time.perf_counter() - started
        n = len(plain)
        print(
            f"{n} births: {seconds / n * 1000:.0f} ms and {statements / n:.0f} SQL statements"
            f" per birth, {n / seconds:.1f} births/s in one process"
        )
        for where, counted in sorted(by_handler.items(), key=lambda kv: -kv[1]):
            print(f"  SQL per birth in {where}: {counted / n:.0f}")
        print("\n".join(shown))
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        receive(profiled)
        profile.disable()
        seconds = time.perf_counter() - started
        applied = InboundEvent.objects.filter(status=InboxStatus.APPLIED).count()
        if applied != len(documents):
            raise RuntimeError(f"{applied} of {len(documents)} births applied")
        print(f"cases: {dict(Case.objects.values_list('status').annotate(n=Count('id')))}")
        from platform_core.models import EventDelivery, OutboxEvent

        births = len(documents)
        published = OutboxEvent.objects.values_list("event_type").annotate(n=Count("id"))
        print("events per birth:", {t: round(c / births, 1) for t, c in published})
        print(f"deliveries per birth: {EventDelivery.objects.count() / births:.1f}")
        stats = pstats.Stats(profile)
        n = len(profiled)

        def share(value: float) -> str:
            return f"{value / n * 1000:6.1f} ms  {value / seconds:4.0%}"

        print(f"\nProfiled ({n} more births, {seconds / n * 1000:.0f} ms each under cProfile):")
        handlers = _handlers(stats)
        for key, value in sorted(handlers.items(), key=lambda kv: -kv[1]):
            if value / seconds >= 0.005:
                print(f"  handler {key:50s} {share(value)}")
        steps = 0.0
        for step, function in CASE_STEPS.items():
            spent = _cumulative(stats, "measures/services/cases.py", function)
            steps += spent
            print(f"    of which {step:48s} {share(spent)}")
        opened = handlers.get("measures/events.py:open_cases", 0.0)
        print(
            f"    of which the rest (triggers, persons, locks, timeline)  {share(opened - steps)}"
        )
        rest = seconds - sum(handlers.values())
        print(f"  the inbox and the bus (dispatch, deliveries, eager tasks)  {share(rest)}")
        if args.callees:
            stats.sort_stats("cumulative").print_callees(args.callees)
        print("\nTop functions by own time:")
        stats.sort_stats("tottime").print_stats(15)
    finally:
        connection.close()
        connection.settings_dict["NAME"] = original
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


if __name__ == "__main__":
    main()
