"""The rules engine on the synthetic region: count, sweep, one person's check, Python vs SQL."""

from __future__ import annotations

import random
import statistics
import time

from django.db.models import Count, Max

from bench.benchmarks import Context, Metric, benchmark
from bench.benchmarks.population import AS_OF, REGION
from measures.models import Entitlement, Measure
from measures.rules import PersonFactSource
from measures.selectors import rule_version_in_force
from measures.services.catalogue import catalogue_load
from measures.services.entitlements import (
    CompiledRules,
    entitlement_count,
    entitlement_sweep,
    entitlements_for_person,
    measure_evaluate,
)
from registries.models import Person

MEASURE = "federal.unified_allowance"
CHECKS = 300
PYTHON_SAMPLE = 2_000


@benchmark(
    Metric(
        "eligibility_count_1m_s",
        "s",
        "Count the persons of the region eligible for the means-tested unified allowance "
        "(children under 17, family income per person against the regional subsistence "
        "minimum): one set-based statement, median of 3.",
        target=2,
        higher_is_better=False,
    ),
    Metric(
        "eligibility_count_scan_baseline_s",
        "s",
        "Baseline in the same run: one plain read of the region's person rows (a count and "
        "the latest birth date), median of 3.",
        higher_is_better=False,
    ),
    Metric(
        "eligibility_count_vs_scan_ratio",
        "",
        "eligibility_count_1m_s divided by that baseline: what the rule costs over a read.",
        higher_is_better=False,
    ),
    Metric(
        "eligibility_sweep_1m_s",
        "s",
        "sweep_entitlements of that measure over the whole region, writing an entitlement "
        "(outcome, amount, facts) for every person.",
        target=20,
        higher_is_better=False,
    ),
    Metric(
        "eligibility_sweep_again_1m_s",
        "s",
        "The same sweep repeated: idempotent, nothing rewritten.",
        higher_is_better=False,
    ),
    Metric(
        "entitlement_check_p95_ms",
        "ms",
        "One person against the whole catalogue in force for the region (every measure's "
        "rules with explanations, in Python), 95th percentile over 300 random persons.",
        target=50,
        higher_is_better=False,
    ),
    Metric(
        "python_sweep_extrapolated_1m_s",
        "s",
        "The same measure evaluated person by person with the Python evaluator on 2,000 "
        "random persons, extrapolated to the region.",
        higher_is_better=False,
    ),
    Metric(
        "python_vs_sql_sweep_ratio",
        "",
        "python_sweep_extrapolated_1m_s divided by eligibility_sweep_1m_s: why rules are "
        "compiled to SQL.",
    ),
)
def rules(ctx: Context) -> dict[str, float]:
    assert ctx.populated_database is not None
    with ctx.populated_database():
        catalogue_load(as_of=AS_OF)
        measure = Measure.objects.get(code=MEASURE)
        persons = Person.objects.filter(region_id=REGION).count()

        count_times = []
        for _ in range(3):
            started = time.perf_counter()
            counts = entitlement_count(measure=measure, region_code=REGION, on=AS_OF)
            count_times.append(time.perf_counter() - started)
        ctx.log(f"   counts {counts} in {[round(t, 2) for t in count_times]} s")
        scan_times = []
        for _ in range(3):
            started = time.perf_counter()
            Person.objects.filter(region_id=REGION).aggregate(
                n=Count("pk"), latest=Max("birth_date")
            )
            scan_times.append(time.perf_counter() - started)

        summary = entitlement_sweep(measure=measure, region_code=REGION, on=AS_OF)
        ctx.log(f"   sweep: {summary.outcomes}, {summary.written:,} written")
        if Entitlement.objects.count() != persons:
            raise RuntimeError("The sweep did not write one entitlement per person.")
        again = entitlement_sweep(measure=measure, region_code=REGION, on=AS_OF)
        if again.written:
            raise RuntimeError(f"A repeated sweep rewrote {again.written} entitlements.")

        ids = list(Person.objects.filter(region_id=REGION).values_list("pk", flat=True))
        rng = random.Random(27)
        check_times = []
        for pk in rng.sample(ids, min(CHECKS, len(ids))):
            person = Person.objects.get(pk=pk)
            started = time.perf_counter()
            entitlements_for_person(person=person, on=AS_OF)
            check_times.append((time.perf_counter() - started) * 1000)
        p95 = statistics.quantiles(check_times, n=20)[-1]

        compiled = CompiledRules.of(rule_version_in_force(measure=measure, on=AS_OF))
        sample = list(Person.objects.filter(pk__in=rng.sample(ids, min(PYTHON_SAMPLE, len(ids)))))
        started = time.perf_counter()
        for person in sample:
            measure_evaluate(compiled, PersonFactSource(person=person, as_of=AS_OF), measure)
        per_person = (time.perf_counter() - started) / len(sample)
        python_seconds = per_person * persons

    return {
        "eligibility_count_1m_s": statistics.median(count_times),
        "eligibility_count_scan_baseline_s": statistics.median(scan_times),
        "eligibility_count_vs_scan_ratio": statistics.median(count_times)
        / statistics.median(scan_times),
        "eligibility_sweep_1m_s": summary.seconds,
        "eligibility_sweep_again_1m_s": again.seconds,
        "entitlement_check_p95_ms": p95,
        "python_sweep_extrapolated_1m_s": python_seconds,
        "python_vs_sql_sweep_ratio": python_seconds / summary.seconds,
    }
