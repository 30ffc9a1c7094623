"""Evaluate rules in SQL for a set of persons: one statement, each fact computed once.

`facts_query` builds `SELECT id, f0, f1 ... FROM person LEFT JOIN <grouped fact> ...` for
the facts the rules use (fact_sql.py); `rule_sql` compiles a rule over those columns. The
callers wrap both: count the eligible, read values for some persons, or INSERT entitlements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from measures.enums import ValueType
from measures.rules.checker import CheckedRule
from measures.rules.fact_sql import EXPENSIVE_FACTS, FACT_SQL, Grouped
from measures.rules.facts import fact_key
from measures.rules.sql import rule_expression
from registries.models import Person

PERSON_TABLE = Person._meta.db_table
# Sorts and hashes of a region's facts (a million rows) fit in memory instead of spilling.
ANALYTIC_WORK_MEM = "128MB"


def analytic_session(cursor) -> None:  # type: ignore[no-untyped-def]
    """Give this transaction's set-based statements the memory their hashes need."""
    cursor.execute("SET LOCAL work_mem = %s", [ANALYTIC_WORK_MEM])


@dataclass(frozen=True)
class FactsQuery:
    """The facts of some persons as columns: `sql` selects `id` and one column per fact."""

    sql: str
    params: list[Any]
    columns: dict[str, str]


def _compile(expression: Any) -> tuple[str, list[Any]]:
    query = Person.objects.all().query
    compiler = query.get_compiler(connection=connection)
    sql, params = compiler.compile(expression.resolve_expression(query))
    return sql, list(params)


SQL_TYPES = {ValueType.NUMBER: "numeric", ValueType.BOOL: "boolean", ValueType.TEXT: "text"}


def facts_query(
    *,
    rules: list[CheckedRule],
    on: date,
    persons: QuerySet[Person] | str,
    unknown: frozenset[str] = frozenset(),
) -> FactsQuery:
    """The facts the rules use, for the persons of a queryset, as of a date.

    `persons` may also be an SQL query of ids (a staging table). Facts named in `unknown`
    are not computed: their columns are NULL (see stage_values).
    """
    facts: dict[str, tuple] = {}
    for rule in rules:
        for definition, args in rule.facts.values():
            facts.setdefault(fact_key(definition.name, args), (definition, args))
    if isinstance(persons, str):
        persons_sql, persons_params = persons, ()
    else:
        persons_sql, persons_params = persons.order_by().values("pk").query.sql_with_params()
    select, select_params = [f'"{PERSON_TABLE}"."id" AS id'], []
    joins, join_params = [], []
    columns = {}
    for index, (key, (definition, args)) in enumerate(facts.items()):
        built = FACT_SQL[definition.name](on, args)
        if definition.name in unknown:
            select.append(f"NULL::{SQL_TYPES[definition.type]} AS f{index}")
        elif isinstance(built, Grouped):
            sql, params = built.render(persons_sql, tuple(persons_params))
            joins.append(
                f'LEFT JOIN ({sql}) g{index} ON g{index}.key = "{PERSON_TABLE}"."{built.on}"'
            )
            join_params += params
            select.append(f"{built.column.format(v=f'g{index}.value')} AS f{index}")
        else:
            sql, params = _compile(built)
            select.append(f"{sql} AS f{index}")
            select_params += params
        columns[key] = f"s.f{index}"
    sql = (
        f'SELECT {", ".join(select)} FROM "{PERSON_TABLE}" {" ".join(joins)} '
        f'WHERE "{PERSON_TABLE}"."id" IN ({persons_sql})'
    )
    return FactsQuery(sql, [*select_params, *join_params, *persons_params], columns)


def rule_sql(*, rule: CheckedRule | None, facts: FactsQuery) -> tuple[str, list[Any]]:
    """The rule as an SQL expression over the columns of `facts` (aliased `s`); NULL if none."""
    if rule is None:
        return "NULL", []
    return _compile(rule_expression(rule=rule, columns=facts.columns))


def _values_select(
    *,
    value: CheckedRule,
    amount: CheckedRule | None,
    on: date,
    persons: QuerySet[Person] | str,
    unknown: frozenset[str],
    with_facts: bool,
) -> tuple[str, list[Any]]:
    rules = [r for r in (value, amount) if r is not None]
    facts = facts_query(rules=rules, on=on, persons=persons, unknown=unknown)
    value_sql, value_params = rule_sql(rule=value, facts=facts)
    amount_sql, amount_params = rule_sql(rule=amount, facts=facts)
    keys = list(facts.columns) if with_facts else []
    facts_json = ", ".join(f"%s, {facts.columns[key]}" for key in keys)
    sql = (
        f"SELECT s.id, {value_sql} AS value, {amount_sql} AS amount, "
        f"jsonb_build_object({facts_json}) AS facts FROM ({facts.sql}) s"
    )
    return sql, [*value_params, *amount_params, *keys, *facts.params]


def stage_values(
    cursor,  # type: ignore[no-untyped-def]
    *,
    table: str,
    value: CheckedRule,
    on: date,
    persons: QuerySet[Person],
    amount: CheckedRule | None = None,
    with_facts: bool = False,
) -> None:
    """Fill a temporary table (id, value, amount, facts) with a rule's value for each person.

    Staged: the expensive facts (the family's composition and income) are first taken as
    unknown. In the rule language, as in SQL's three-valued logic, a value that is definite
    with some facts unknown stays the same whatever they turn out to be; so only the persons
    still undecided (and those eligible whose amount needs such a fact) get them computed.
    With `with_facts`, each row keeps its facts as JSON: for a person decided early, the
    ones the outcome rested on.
    """
    rules = [r for r in (value, amount) if r is not None]
    needed = {d.name for r in rules for d, _args in r.facts.values()}
    expensive = frozenset(needed & EXPENSIVE_FACTS)
    cursor.execute(f"DROP TABLE IF EXISTS {table}, {table}_rest")
    first, params = _values_select(
        value=value,
        amount=amount,
        on=on,
        persons=persons,
        unknown=expensive,
        with_facts=with_facts,
    )
    cursor.execute(f"CREATE TEMPORARY TABLE {table} AS {first}", params)
    if not expensive:
        return
    amount_needs = amount is not None and any(
        d.name in expensive for d, _args in amount.facts.values()
    )
    undecided = "value IS NOT FALSE" if amount_needs else "value IS NULL"
    cursor.execute(
        f"CREATE TEMPORARY TABLE {table}_rest AS SELECT id FROM {table} WHERE {undecided}"
    )
    cursor.execute(f"DELETE FROM {table} WHERE {undecided}")
    cursor.execute(f"ANALYZE {table}_rest")
    second, params = _values_select(
        value=value,
        amount=amount,
        on=on,
        persons=f"SELECT id FROM {table}_rest",
        unknown=frozenset(),
        with_facts=with_facts,
    )
    cursor.execute(f"INSERT INTO {table} {second}", params)
    cursor.execute(f"DROP TABLE {table}_rest")


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
        stage_values(cursor, table=STAGE_TABLE, value=rule, on=on, persons=persons)
        cursor.execute(
            f"""SELECT COUNT(*) FILTER (WHERE value), COUNT(*) FILTER (WHERE NOT value),
                COUNT(*) FILTER (WHERE value IS NULL) FROM {STAGE_TABLE}"""
        )
        true, false, unknown = cursor.fetchone()
        cursor.execute(f"DROP TABLE {STAGE_TABLE}")
    return {"true": true, "false": false, "unknown": unknown}


def rule_sample(*, rule: CheckedRule, on: date, persons: QuerySet[Person], size: int) -> list[int]:
    """The first `size` persons by id for whom the rule is true or unknown."""
    with transaction.atomic(), connection.cursor() as cursor:
        analytic_session(cursor)
        stage_values(cursor, table=STAGE_TABLE, value=rule, on=on, persons=persons)
        cursor.execute(
            f"SELECT id FROM {STAGE_TABLE} WHERE value IS NOT FALSE ORDER BY id LIMIT %s", [size]
        )
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"DROP TABLE {STAGE_TABLE}")
    return ids
