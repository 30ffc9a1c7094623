"""Loading a synthetic region: generate_population against a raw COPY of its person rows."""

from __future__ import annotations

import io
import resource
import time
from datetime import date

from django.core.management import call_command
from django.db import connection, transaction

from bench.benchmarks import Context, Metric, benchmark
from platform_core.models import Municipality, Region
from registries.models import Person
from registries.services.population import PERSON_COLUMNS, population_person_rows

REGION = "27"
SEED = 27
AS_OF = date(2025, 11, 1)
TARGET_PERSONS_PER_S = 8_000


def _region() -> None:
    """Region 27 and two of its municipalities, where the reference data did not load."""
    region, _ = Region.objects.get_or_create(
        code=REGION,
        defaults={"name": "Хабаровский край", "timezone": "Asia/Vladivostok", "okato": "08"},
    )
    for oktmo, name in (("08701000", "г. Хабаровск"), ("08709000", "г. Комсомольск-на-Амуре")):
        Municipality.objects.get_or_create(oktmo=oktmo, defaults={"region": region, "name": name})


def _reset_peak_rss() -> None:
    """Start the process's peak RSS afresh where Linux allows it (clear_refs 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass


@benchmark(
    Metric(
        "population_load_persons_per_s",
        "persons/s",
        "manage.py generate_population into an empty region 27: persons per second, with "
        "their relations, statuses and twelve months of incomes (about 11 rows a person).",
        target=TARGET_PERSONS_PER_S,
        baseline="population_copy_baseline_rows_per_s",
    ),
    Metric(
        "population_copy_baseline_rows_per_s",
        "rows/s",
        "The physical limit: one raw COPY of the same person rows, pre-generated, into an "
        "empty person table of another fresh database; only the COPY is timed.",
    ),
    Metric(
        "population_load_vs_copy_ratio",
        "",
        "Load persons/s divided by the baseline's rows/s (the rest of the rows and the "
        "generation cost the difference).",
    ),
    Metric(
        "population_load_seconds",
        "s",
        "Wall time of the load.",
        higher_is_better=False,
    ),
    Metric(
        "population_load_peak_rss_mb",
        "MB",
        "Peak resident memory of the loading process during the load.",
        higher_is_better=False,
    ),
    Metric(
        "population_load_worker_peak_rss_mb",
        "MB",
        "Peak resident memory of the worker process that generates the rows.",
        higher_is_better=False,
    ),
)
def population(ctx: Context) -> dict[str, float]:
    persons = ctx.size(full=1_000_000, quick=50_000)
    _region()
    out = io.StringIO()
    _reset_peak_rss()
    started = time.perf_counter()
    call_command(
        "generate_population",
        region=REGION,
        persons=persons,
        seed=SEED,
        as_of=AS_OF,
        stdout=out,
    )
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    ctx.log(out.getvalue().rstrip())
    loaded = Person.objects.filter(region_id=REGION).count()
    if loaded != persons:
        raise RuntimeError(f"{loaded} persons in the database, {persons} expected.")

    with ctx.fresh_database():
        _region()
        rows = list(
            population_person_rows(region_code=REGION, persons=persons, seed=SEED, as_of=AS_OF)
        )
        with transaction.atomic(), connection.cursor() as cursor:
            copy_started = time.perf_counter()
            with cursor.copy(f"COPY {Person._meta.db_table} ({PERSON_COLUMNS}) FROM STDIN") as copy:
                for chunk in rows:
                    copy.write(chunk)
            copy_seconds = time.perf_counter() - copy_started
        del rows
        ctx.log(f"raw COPY of {persons:,} person rows: {copy_seconds:.1f} s")

    load_rate, copy_rate = persons / seconds, persons / copy_seconds
    return {
        "population_load_persons_per_s": load_rate,
        "population_copy_baseline_rows_per_s": copy_rate,
        "population_load_vs_copy_ratio": load_rate / copy_rate,
        "population_load_seconds": seconds,
        "population_load_peak_rss_mb": peak_mb,
        "population_load_worker_peak_rss_mb": worker_mb,
    }
