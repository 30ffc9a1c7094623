"""Entitlement: who is entitled to what, for one person, for a whole region, or hypothetically."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Min, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from measures.enums import Outcome, ValueType
from measures.models import Entitlement, Measure, RuleVersion
from measures.rules import (
    CheckedRule,
    Evaluation,
    FactSource,
    HypotheticalFactSource,
    PersonFactSource,
    rule_check,
    rule_evaluate,
)
from measures.rules.query import (
    StagedFact,
    analytic_session,
    rule_counts,
    stage_values,
    staged_counts,
    staged_facts_json,
)
from measures.rules.sources import (
    INCOME_MONTHS_MAX,
    Member,
    Status,
    months_before,
    years_before,
)
from measures.selectors import measures_in_force, rule_version_in_force, rule_versions_in_force
from platform_core.errors import DomainError
from platform_core.models import Region
from registries.models import Person
from registries.selectors import subsistence_minimums

SWEEP_CHUNK = 100_000
# Sessions writing a sweep's entitlements at once (the machine's cores).
SWEEP_WRITERS = max(1, min(4, os.cpu_count() or 1))


class NoRuleInForce(DomainError):
    code = "no_rule_in_force"


class MeasureNotInRegion(DomainError):
    code = "measure_not_in_region"


def measure_ensure_in_region(*, measure: Measure, region_code: str) -> None:
    """Raise MeasureNotInRegion unless the measure is federal or the region's own."""
    # Another region's rules over these persons would store entitlements nobody can have.
    if measure.region_id is not None and measure.region_id != region_code:
        raise MeasureNotInRegion(
            _("Measure %(code)s is not given in region %(region)s.")
            % {"code": measure.code, "region": region_code},
            field="region",
        )


@dataclass(frozen=True)
class CompiledRules:
    """A rule version's three rules, checked."""

    version: RuleVersion
    eligibility: CheckedRule
    amount: CheckedRule | None
    period: CheckedRule | None

    @classmethod
    def of(cls, version: RuleVersion) -> CompiledRules:
        def optional(text: str) -> CheckedRule | None:
            return rule_check(text, expect=ValueType.NUMBER) if text.strip() else None

        return cls(
            version=version,
            eligibility=rule_check(version.eligibility),
            amount=optional(version.amount),
            period=optional(version.period_months),
        )

    def rules(self) -> list[CheckedRule]:
        return [r for r in (self.eligibility, self.amount, self.period) if r is not None]


def outcome_of(value: bool | None) -> str:
    if value is None:
        return Outcome.UNKNOWN
    return Outcome.ELIGIBLE if value else Outcome.INELIGIBLE


def money(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class MeasureOutcome:
    """One measure's answer for one person: outcome, amount, period and why."""

    measure: Measure
    rule_version: RuleVersion | None
    outcome: str
    evaluation: Evaluation | None = None
    amount: Decimal | None = None
    period_months: int | None = None
    person: Person | None = None


def measure_evaluate(
    compiled: CompiledRules, source: FactSource, measure: Measure
) -> MeasureOutcome:
    """One measure's rules for the person behind a source: outcome, amount, period, why."""
    evaluation = rule_evaluate(rule=compiled.eligibility, source=source)
    result = MeasureOutcome(
        measure=measure,
        rule_version=compiled.version,
        outcome=outcome_of(evaluation.value),
        evaluation=evaluation,
    )
    if evaluation.value is True:
        if compiled.amount:
            amount = rule_evaluate(rule=compiled.amount, source=source)
            result.amount = money(amount.value)
            evaluation.facts.extend(f for f in amount.facts if f not in evaluation.facts)
        if compiled.period:
            period = rule_evaluate(rule=compiled.period, source=source).value
            result.period_months = None if period is None else int(period)
    return result


_ORDER = {Outcome.ELIGIBLE: 0, Outcome.UNKNOWN: 1, Outcome.INELIGIBLE: 2}


def _evaluate_catalogue(
    *, source: FactSource, region_code: str | None, on: date
) -> list[MeasureOutcome]:
    results = []
    measures = list(measures_in_force(on=on, region_code=region_code))
    versions = rule_versions_in_force(measures=measures, on=on)
    for measure in measures:
        version = versions.get(measure.pk)
        if version is None:
            continue
        results.append(measure_evaluate(CompiledRules.of(version), source, measure))
    return sorted(results, key=lambda r: (_ORDER[r.outcome], r.measure.code))


def entitlements_for_person(*, person: Person, on: date) -> list[MeasureOutcome]:
    """Every measure in force for the person's region: eligible first, then unknown, then not.

    Nothing is written; each outcome carries its explanation (conditions and facts used).
    """
    source = PersonFactSource(person=person, as_of=on)
    return _evaluate_catalogue(source=source, region_code=person.region_id, on=on)


def entitlements_calculate(
    *,
    region_code: str,
    on: date,
    age: int,
    sex: str,
    spouse_age: int | None = None,
    children_ages: Sequence[int] = (),
    monthly_family_income: Decimal | None = None,
    statuses: Sequence[Status] = (),
    employed: bool = False,
    pregnancy_week: int | None = None,
) -> list[MeasureOutcome]:
    """The production rules applied to a hypothetical family; no person's data is read.

    Ages are whole years on `on`; the income is the family's total a month, the same for
    every month counted. Raises DomainError for an unknown region.
    """
    if not Region.objects.filter(pk=region_code).exists():
        raise DomainError(_("Unknown region %(code)s.") % {"code": region_code}, field="region")
    subsistence = subsistence_minimums(region_code=region_code, on=on)
    months = [months_before(on, n) for n in range(1, INCOME_MONTHS_MAX + 1)]
    source = HypotheticalFactSource(
        as_of=on,
        birth_date=years_before(on, age),
        sex=sex,
        death_date=None,
        region=region_code,
        municipality=None,
        citizenship="RUS",
        given_children=[
            Member(f"child-{i}", years_before(on, a)) for i, a in enumerate(children_ages)
        ],
        given_spouses=[]
        if spouse_age is None
        else [Member("spouse", years_before(on, spouse_age))],
        given_statuses=list(statuses),
        given_employed=employed,
        given_pregnancy_week=pregnancy_week,
        incomes={}
        if monthly_family_income is None
        else {"self": dict.fromkeys(months, monthly_family_income)},
        subsistence=subsistence,
    )
    return _evaluate_catalogue(source=source, region_code=region_code, on=on)


def _region_persons(region_code: str) -> QuerySet[Person]:
    return Person.objects.filter(region_id=region_code)


def entitlement_count(*, measure: Measure, region_code: str, on: date) -> dict[str, int]:
    """How many persons of a region the rule in force finds eligible, not, and unknown.

    Raises NoRuleInForce, MeasureNotInRegion.
    """
    measure_ensure_in_region(measure=measure, region_code=region_code)
    compiled = _compiled(measure, on)
    counts = rule_counts(rule=compiled.eligibility, on=on, persons=_region_persons(region_code))
    return _outcomes(counts)


def _outcomes(counts: dict[str, int]) -> dict[str, int]:
    """Counts of a rule's values true, false and unknown as outcomes."""
    return {
        Outcome.ELIGIBLE: counts["true"],
        Outcome.INELIGIBLE: counts["false"],
        Outcome.UNKNOWN: counts["unknown"],
    }


def _compiled(measure: Measure, on: date) -> CompiledRules:
    version = rule_version_in_force(measure=measure, on=on)
    if version is None:
        raise NoRuleInForce(
            _("Measure %(code)s has no published rule in force on %(date)s.")
            % {"code": measure.code, "date": on.isoformat()}
        )
    return CompiledRules.of(version)


@dataclass
class SweepSummary:
    measure: str
    region: str
    as_of: date
    rule_version: int
    persons: int = 0
    written: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


STAGED_FACTS = "measures_sweep_facts"


@dataclass(frozen=True)
class _Chunk:
    """The staged outcomes of one range of person ids, to write as entitlements."""

    table: str  # the staged rows
    select: str  # the new entitlement rows, as columns of ENTITLEMENT_COLUMNS (alias n)
    params: list
    version: RuleVersion
    on: date
    low: int
    high: int

    def write(self, cursor) -> int:  # type: ignore[no-untyped-def]
        """INSERT the rows; rows already stored and unchanged stay untouched.

        A range none of whose persons has an entitlement of this version and date yet (the
        first sweep) is a plain INSERT; otherwise the rows are compared first, so that an
        unchanged row is neither written nor locked (ON CONFLICT DO UPDATE locks every row
        it meets), and ON CONFLICT covers a sweep racing this one.
        """
        target = Entitlement._meta.db_table
        key = [self.version.measure_id, self.on, self.version.pk]
        cursor.execute(
            f"""SELECT EXISTS (SELECT 1 FROM {target} WHERE person_id >= %s AND person_id < %s
                AND measure_id = %s AND as_of = %s AND rule_version_id = %s)""",  # noqa: S608
            [self.low, self.high, *key],
        )
        insert = f"INSERT INTO {target} ({ENTITLEMENT_COLUMNS})"
        if not cursor.fetchone()[0]:
            try:
                with transaction.atomic():
                    plain = f"{insert} SELECT * FROM ({self.select}) n"  # noqa: S608
                    cursor.execute(plain, self.params)
                    return cursor.rowcount
            except IntegrityError:
                pass  # another sweep wrote some of them meanwhile
        cursor.execute(
            f"""{insert} SELECT n.* FROM ({self.select}) n
            LEFT JOIN {target} e ON e.person_id = n.person_id AND e.measure_id = %s
                AND e.as_of = %s AND e.rule_version_id = %s
            WHERE e.id IS NULL
                OR (e.outcome, e.amount, e.facts) IS DISTINCT FROM (n.outcome, n.amount, n.facts)
            ON CONFLICT (person_id, measure_id, as_of, rule_version_id) DO UPDATE
                SET outcome = EXCLUDED.outcome, amount = EXCLUDED.amount,
                    facts = EXCLUDED.facts, evaluated_at = EXCLUDED.evaluated_at
                WHERE ({target}.outcome, {target}.amount, {target}.facts)
                    IS DISTINCT FROM (EXCLUDED.outcome, EXCLUDED.amount, EXCLUDED.facts)
            """,  # noqa: S608 (table names are ours; values are parameters)
            [*self.params, *key],
        )
        return cursor.rowcount


ENTITLEMENT_COLUMNS = (
    "person_id, measure_id, rule_version_id, as_of, outcome, amount, facts, evaluated_at"
)


def _write_chunks(chunks: list[_Chunk], *, concurrent: bool) -> Iterator[int]:
    """Write each chunk in its own short transaction; rows written by each, in order.

    Concurrent: SWEEP_WRITERS sessions at once (an INSERT ... SELECT runs in one process;
    the writes are most of a sweep), each on its own connection.
    """
    if not concurrent:
        for chunk in chunks:
            yield _write_chunk(chunk, close=False)
        return
    with ThreadPoolExecutor(max_workers=SWEEP_WRITERS) as pool:
        yield from pool.map(lambda chunk: _write_chunk(chunk, close=True), chunks)


def _write_chunk(chunk: _Chunk, *, close: bool) -> int:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            return chunk.write(cursor)
    finally:
        if close:  # a writer thread's own connection
            connection.close()


def _sweep_chunk(
    compiled: CompiledRules,
    *,
    table: str,
    facts: list[StagedFact],
    on: date,
    low: int,
    high: int,
) -> _Chunk:
    """The entitlements of the staged persons with ids in [low, high)."""
    facts_sql, facts_params = staged_facts_json(facts, "t")
    select = f"""
        SELECT t.id AS person_id, %s AS measure_id, %s AS rule_version_id, %s::date AS as_of,
            CASE WHEN t.value THEN %s WHEN NOT t.value THEN %s ELSE %s END AS outcome,
            CASE WHEN t.value THEN ROUND(t.amount, 2) END AS amount,
            {facts_sql} AS facts, %s::timestamptz AS evaluated_at
        FROM {table} t
        WHERE t.id >= %s AND t.id < %s
    """  # noqa: S608 (table names are ours; values are parameters)
    version = compiled.version
    params = [
        version.measure_id,
        version.pk,
        on,
        Outcome.ELIGIBLE,
        Outcome.INELIGIBLE,
        Outcome.UNKNOWN,
        *facts_params,
        timezone.now(),
        low,
        high,
    ]
    return _Chunk(table, select, params, version, on, low, high)


def entitlement_sweep(
    *,
    measure: Measure,
    region_code: str,
    on: date,
    progress: Callable[[int], object] | None = None,
    chunk_size: int = SWEEP_CHUNK,
) -> SweepSummary:
    """Evaluate one measure for every person of a region and store an Entitlement for each.

    Set-based: the facts and outcomes of the whole region in one statement into a temporary
    table, then one INSERT ... SELECT per range of person ids, each in its own short
    transaction. Idempotent: a repeated sweep with the same rule version and date rewrites
    nothing unless an outcome, amount or fact changed. Raises NoRuleInForce, MeasureNotInRegion.
    """
    started = time.perf_counter()
    measure_ensure_in_region(measure=measure, region_code=region_code)
    compiled = _compiled(measure, on)
    summary = SweepSummary(
        measure=measure.code, region=region_code, as_of=on, rule_version=compiled.version.version
    )
    bounds = _region_persons(region_code).aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is not None:
        # Other sessions write the entitlements beside this one, reading the staged rows
        # from an unlogged table; inside a caller's transaction (tests) they could not see
        # it, so this session writes alone from a temporary table.
        concurrent = not connection.in_atomic_block and SWEEP_WRITERS > 1
        table = f"{STAGED_FACTS}_{uuid.uuid4().hex[:12]}" if concurrent else STAGED_FACTS
        with connection.cursor() as cursor:
            try:
                with transaction.atomic():
                    analytic_session(cursor)
                    facts = stage_values(
                        cursor,
                        table=table,
                        value=compiled.eligibility,
                        amount=compiled.amount,
                        on=on,
                        persons=_region_persons(region_code),
                        shared=concurrent,
                    )
                outcomes = _outcomes(staged_counts(cursor, table=table))
                summary.outcomes = {outcome: n for outcome, n in outcomes.items() if n}
                chunks = [
                    _sweep_chunk(
                        compiled,
                        table=table,
                        facts=facts,
                        on=on,
                        low=low,
                        high=min(low + chunk_size, bounds["high"] + 1),
                    )
                    for low in range(bounds["low"], bounds["high"] + 1, chunk_size)
                ]
                for chunk, written in zip(
                    chunks, _write_chunks(chunks, concurrent=concurrent), strict=True
                ):
                    summary.written += written
                    if progress:
                        progress(chunk.high - chunk.low)
            finally:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
    summary.persons = sum(summary.outcomes.values())
    summary.seconds = time.perf_counter() - started
    return summary
