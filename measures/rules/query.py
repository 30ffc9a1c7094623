"""Evaluate rules in SQL for a set of persons: set-based, each fact computed once.

`stage_values` fills a temporary table with one row per person: the facts the rules use as
columns f0, f1... (fact_sql.py), the rule's value and the amount. The callers read it: count
the outcomes, sample persons, or INSERT entitlements (with `staged_facts_json`).

What keeps a region of a million persons fast (docs/decisions.md §8 and §9):
- the persons are read once, straight from their query, never joined back by id;
- the family facts come from fact tables kept by triggers (registries/models/derived.py) and
  are joined straight to the persons ("lookups");
- to count or sample, a fact whose absence alone makes the rule false (`children(...) >= 1`,
  where a person with no child row has 0 children) drives the query: its rows are joined to
  the persons and grouped, and only those persons are evaluated; the others are false
  ("candidates"). A sweep evaluates everyone, so that every stored entitlement explains itself;
- otherwise the expensive facts are computed last, only for the persons the other facts leave
  undecided ("stages").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from measures.enums import ValueType
from measures.rules.checker import CheckedRule
from measures.rules.evaluate import rule_evaluate
from measures.rules.fact_sql import (
    EXPENSIVE_FACTS,
    FACT_SQL,
    Grouped,
    render_lookup,
    render_rows,
)
from measures.rules.facts import Fact, fact_key
from measures.rules.sql import rule_expression
from registries.models import Person

PERSON_TABLE = Person._meta.db_table
# The person columns facts may read (age, sex, region, municipality, citizen, alive).
PERSON_COLUMNS = (
    "id",
    "birth_date",
    "death_date",
    "sex",
    "region_id",
    "municipality_id",
    "citizenship",
)
# Sorts and hashes of a region's facts (a million rows) fit in memory instead of spilling.
ANALYTIC_WORK_MEM = "128MB"
SQL_TYPES = {ValueType.NUMBER: "numeric", ValueType.BOOL: "boolean", ValueType.TEXT: "text"}


def analytic_session(cursor) -> None:  # type: ignore[no-untyped-def]
    """Give this transaction's set-based statements the memory their hashes need.

    And no JIT compilation: for these statements (a region, a second or two) compiling the
    expressions in every parallel worker cost more than it saved (0.6 s of a 3 s count).
    """
    cursor.execute("SET LOCAL work_mem = %s", [ANALYTIC_WORK_MEM])
    cursor.execute("SET LOCAL jit = off")


@dataclass(frozen=True)
class StagedFact:
    """A fact the rules use, staged as column `column` (f0, f1...)."""

    key: str
    column: str
    definition: Fact
    args: dict[str, Any]
    built: Any  # a Grouped query or an ORM expression over the person row

    @property
    def grouped(self) -> Grouped | None:
        return self.built if isinstance(self.built, Grouped) else None

    @property
    def null(self) -> str:
        return f"NULL::{SQL_TYPES[self.definition.type]}"


def staged_facts(rules: list[CheckedRule], on: date) -> list[StagedFact]:
    """The distinct facts of the rules, in order of first use."""
    found: dict[str, tuple] = {}
    for rule in rules:
        for definition, args in rule.facts.values():
            found.setdefault(fact_key(definition.name, args), (definition, args))
    return [
        StagedFact(key, f"f{index}", definition, args, FACT_SQL[definition.name](on, args))
        for index, (key, (definition, args)) in enumerate(found.items())
    ]


def staged_facts_json(facts: list[StagedFact], alias: str) -> tuple[str, list[Any]]:
    """A jsonb object of the staged facts of a row of `alias`: fact key to value."""
    pairs = ", ".join(f"%s, {alias}.{fact.column}" for fact in facts)
    return f"jsonb_build_object({pairs})", [fact.key for fact in facts]


def _compile(expression: Any) -> tuple[str, list[Any]]:
    query = Person.objects.all().query
    compiler = query.get_compiler(connection=connection)
    sql, params = compiler.compile(expression.resolve_expression(query))
    return sql, list(params)


def _rule_sql(rule: CheckedRule | None, facts: list[StagedFact]) -> tuple[str, list[Any]]:
    """The rule as an SQL expression over the staged columns (alias `s`); NULL if none."""
    if rule is None:
        return "NULL", []
    columns = {fact.key: f"s.{fact.column}" for fact in facts}
    return _compile(rule_expression(rule=rule, columns=columns))


def _candidate_fact(value: CheckedRule, facts: list[StagedFact]) -> StagedFact | None:
    """A per-person grouped fact whose default alone makes the rule false, if any.

    Three-valued logic decides it: the rule with that fact at its default and every other
    fact unknown is false, so it is false for every person the fact's query has no row for.
    """
    for fact in facts:
        grouped = fact.grouped
        if grouped is None or grouped.on != "id" or grouped.absent is None:
            continue
        if fact.definition.name in EXPENSIVE_FACTS:
            continue
        if rule_evaluate(rule=value, known={fact.key: grouped.absent}).value is False:
            return fact
    return None


def _persons_sql(
    persons: QuerySet[Person] | str, columns: list[str]
) -> tuple[str, list[Any], str, list[Any]]:
    """The persons as rows with those columns, and as a query of their ids."""
    if isinstance(persons, str):
        rows = f'SELECT {", ".join(columns)} FROM "{PERSON_TABLE}" WHERE id IN ({persons})'
        return rows, [], persons, []
    persons = persons.order_by()
    rows, row_params = persons.values(*columns).query.sql_with_params()
    ids, id_params = persons.values("id").query.sql_with_params()
    return rows, list(row_params), ids, list(id_params)


_PERSON_COLUMN = re.compile(rf'"{PERSON_TABLE}"\."?(\w+)"?')


def _columns_read(sql: str) -> list[str]:
    """The person columns an SQL text reads from the persons' rows (id always)."""
    used = set(_PERSON_COLUMN.findall(sql))
    return [c for c in PERSON_COLUMNS if c == "id" or c in used]


@dataclass
class _Select:
    """The SELECT list and joins of a stage, with their parameters in statement order.

    `required`: the persons all have a family row (the candidate fact is a lookup), so the
    lookups join it as an inner join. Joins the lookups share are joined once.
    """

    items: list[str]
    item_params: list[Any]
    joins: list[str]
    join_params: list[Any]
    required: bool = False

    def grouped(
        self, fact: StagedFact, base: str, ids: tuple[str, list[Any]], kind: str = "LEFT"
    ) -> None:
        """A grouped fact of the persons `base`: a lookup joined straight to them, or its
        grouped query over the persons of `ids` joined on its key."""
        grouped = fact.grouped
        assert grouped is not None
        if grouped.lookup is not None:
            value, value_params, joins = render_lookup(grouped, base, required=self.required)
            for join, params in joins:
                if join not in self.joins:
                    self.joins.append(join)
                    self.join_params += params
        else:
            sql, join_params = grouped.render(ids[0], tuple(ids[1]))
            alias = f"g_{fact.column}"
            self.joins.append(f"{kind} JOIN ({sql}) {alias} ON {alias}.key = {base}.{grouped.on}")
            self.join_params += join_params
            value, value_params = grouped.column.format(v=f"{alias}.value"), []
        self.items.append(f"{value} AS {fact.column}")
        self.item_params += value_params


def _values_sql(
    facts: list[StagedFact], value: CheckedRule, amount: CheckedRule | None, inner: str
) -> tuple[str, list[Any]]:
    value_sql, value_params = _rule_sql(value, facts)
    amount_sql, amount_params = _rule_sql(amount, facts)
    return (
        f"SELECT s.*, {value_sql} AS value, {amount_sql} AS amount FROM ({inner}) s",
        [*value_params, *amount_params],
    )


def _candidates_sql(
    candidate: StagedFact, rows_sql: str, rows_params: list[Any], read: list[str]
) -> tuple[str, list[Any]]:
    """The persons with a row of the candidate fact, its value as column `candidate`.

    Joined and grouped by person, so that the persons are read once.
    """
    grouped = candidate.grouped
    assert grouped is not None and grouped.rows is not None
    where, where_params = render_rows(grouped)
    rows = grouped.rows
    # Grouped by id alone: a narrower hash key than every column.
    columns = ", ".join(f"MIN(p.{column}) AS {column}" for column in read if column != "id")
    sql = (
        f"SELECT p.id, {columns + ', ' if columns else ''}{rows.aggregate} AS candidate "
        f"FROM ({rows_sql}) p JOIN {rows.table} ON {rows.key} = p.id AND {where} GROUP BY p.id"
    )
    return sql, [*rows_params, *where_params]


def _first_stage(
    facts: list[StagedFact], persons: QuerySet[Person] | str, skip: set[str], candidate
) -> tuple[str, list[Any]]:
    """SELECT id and every fact column for the persons (or only the candidates).

    The persons' rows carry only the columns the facts read.
    """
    base = f'"{PERSON_TABLE}"'
    _, _, ids_sql, ids_params = _persons_sql(persons, ["id"])
    required = candidate is not None and candidate.grouped.lookup is not None
    stage = _Select([f"{base}.id AS id"], [], [], [], required=required)
    for fact in facts:
        if fact.key in skip:
            stage.items.append(f"{fact.null} AS {fact.column}")
        elif fact.grouped is None:
            sql, params = _compile(fact.built)
            stage.items.append(f"{sql} AS {fact.column}")
            stage.item_params += params
        elif fact is candidate and fact.grouped.rows is not None:
            value = fact.grouped.column.format(v=f"{base}.candidate")
            stage.items.append(f"{value} AS {fact.column}")
        else:
            kind = "INNER" if fact is candidate else "LEFT"
            stage.grouped(fact, base, (ids_sql, ids_params), kind)
    read = _columns_read(" ".join([*stage.items, *stage.joins]))
    rows_sql, rows_params, _, _ = _persons_sql(persons, read)
    if candidate is not None and candidate.grouped.rows is not None:
        rows_sql, rows_params = _candidates_sql(candidate, rows_sql, rows_params, read)
    sql = f"SELECT {', '.join(stage.items)} FROM ({rows_sql}) {base} {' '.join(stage.joins)}"
    return sql, [*stage.item_params, *rows_params, *stage.join_params]


def _second_stage(facts: list[StagedFact], rest: str, expensive: set[str]) -> tuple[str, list]:
    """SELECT the staged rows of `rest` with their expensive facts computed."""
    stage = _Select(["r.id AS id"], [], [], [])
    for fact in facts:
        if fact.key in expensive:
            stage.grouped(fact, "r", (f"SELECT id FROM {rest}", []))
        else:
            stage.items.append(f"r.{fact.column}")
    sql = f"SELECT {', '.join(stage.items)} FROM {rest} r {' '.join(stage.joins)}"
    return sql, [*stage.item_params, *stage.join_params]


@dataclass(frozen=True)
class _Plan:
    facts: list[StagedFact]
    expensive: set[str]  # fact keys left for a second stage
    sql: str  # the first stage: id, the fact columns, value, amount
    params: list[Any]


def _plan(
    *,
    value: CheckedRule,
    amount: CheckedRule | None,
    on: date,
    persons: QuerySet[Person] | str,
    complete: bool,
) -> _Plan:
    rules = [r for r in (value, amount) if r is not None]
    facts = staged_facts(rules, on)
    candidate = None if complete else _candidate_fact(value, facts)
    # The candidates are few enough to get every fact at once.
    expensive = (
        set() if candidate else {f.key for f in facts if f.definition.name in EXPENSIVE_FACTS}
    )
    inner, params = _first_stage(facts, persons, expensive, candidate)
    sql, rule_params = _values_sql(facts, value, amount, inner)
    return _Plan(facts, expensive, sql, [*rule_params, *params])


def stage_values(
    cursor,  # type: ignore[no-untyped-def]
    *,
    table: str,
    value: CheckedRule,
    on: date,
    persons: QuerySet[Person] | str,
    amount: CheckedRule | None = None,
    complete: bool = True,
    plan: _Plan | None = None,
    shared: bool = False,
) -> list[StagedFact]:
    """Fill a temporary table (id, f0.., value, amount) with a rule's value for each person.

    Staged: the expensive facts are first taken as unknown. In the rule language, as in
    SQL's three-valued logic, a value that is definite with some facts unknown stays the same
    whatever they turn out to be; so only the persons still undecided (and those eligible
    whose amount needs such a fact) get them computed, and a person decided early keeps the
    facts the outcome rested on. Without `complete`, for a caller that counts or samples,
    persons a candidate fact (see _candidate_fact) rules out are left out of the table: they
    are false. With `shared`, the table is an unlogged table other sessions can read (the
    caller drops it), not a temporary one. Returns the staged facts.
    """
    plan = plan or _plan(value=value, amount=amount, on=on, persons=persons, complete=complete)
    facts, expensive = plan.facts, plan.expensive
    cursor.execute(f"DROP TABLE IF EXISTS {table}, {table}_rest")
    kind = "UNLOGGED" if shared else "TEMPORARY"
    cursor.execute(f"CREATE {kind} TABLE {table} AS {plan.sql}", plan.params)
    if expensive:
        amount_needs = amount is not None and any(
            fact_key(d.name, a) in expensive for d, a in amount.facts.values()
        )
        undecided = "value IS NOT FALSE" if amount_needs else "value IS NULL"
        cursor.execute(
            f"CREATE TEMPORARY TABLE {table}_rest AS SELECT * FROM {table} WHERE {undecided}"
        )
        cursor.execute(f"DELETE FROM {table} WHERE {undecided}")
        cursor.execute(f"ANALYZE {table}_rest")
        inner, params = _second_stage(facts, f"{table}_rest", expensive)
        sql, rule_params = _values_sql(facts, value, amount, inner)
        columns = ", ".join(["id", *(f.column for f in facts), "value", "amount"])
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM ({sql}) v",
            [*rule_params, *params],
        )
        cursor.execute(f"DROP TABLE {table}_rest")
    return facts


def staged_counts(
    cursor,  # type: ignore[no-untyped-def]
    *,
    table: str,
    params: list[Any] | tuple = (),
) -> dict[str, int]:
    """How many rows of `table` (a staged table or a subquery) are true, false and unknown."""
    cursor.execute(
        f"""SELECT COUNT(*) FILTER (WHERE value), COUNT(*) FILTER (WHERE NOT value),
            COUNT(*) FILTER (WHERE value IS NULL) FROM {table}""",
        params,
    )
    return dict(zip(("true", "false", "unknown"), cursor.fetchone(), strict=True))


STAGE_TABLE = "measures_rule_values"


def rule_values(*, rule: CheckedRule, on: date, persons: QuerySet[Person]) -> dict[int, Any]:
    """The rule's value for each person of a (small) queryset, computed in SQL."""
    with transaction.atomic(), connection.cursor() as cursor:
        stage_values(cursor, table=STAGE_TABLE, value=rule, on=on, persons=persons)
        cursor.execute(f"SELECT id, value FROM {STAGE_TABLE}")
        values = dict(cursor.fetchall())
        cursor.execute(f"DROP TABLE {STAGE_TABLE}")
    return values


def rule_counts(*, rule: CheckedRule, on: date, persons: QuerySet[Person]) -> dict[str, int]:
    """How many persons the rule finds true, false and unknown."""
    with transaction.atomic(), connection.cursor() as cursor:
        analytic_session(cursor)
        plan = _plan(value=rule, amount=None, on=on, persons=persons, complete=False)
        if plan.expensive:
            stage_values(cursor, table=STAGE_TABLE, value=rule, on=on, persons=persons, plan=plan)
            counts = staged_counts(cursor, table=STAGE_TABLE)
            cursor.execute(f"DROP TABLE {STAGE_TABLE}")
        else:
            # One statement, nothing staged.
            counts = staged_counts(cursor, table=f"({plan.sql}) v", params=plan.params)
    # Persons left out as not candidates are false (see stage_values).
    counts["false"] = persons.order_by().count() - counts["true"] - counts["unknown"]
    return counts


def rule_sample(*, rule: CheckedRule, on: date, persons: QuerySet[Person], size: int) -> list[int]:
    """The first `size` persons by id for whom the rule is true or unknown."""
    with transaction.atomic(), connection.cursor() as cursor:
        analytic_session(cursor)
        stage_values(cursor, table=STAGE_TABLE, value=rule, on=on, persons=persons, complete=False)
        cursor.execute(
            f"SELECT id FROM {STAGE_TABLE} WHERE value IS NOT FALSE ORDER BY id LIMIT %s", [size]
        )
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"DROP TABLE {STAGE_TABLE}")
    return ids
