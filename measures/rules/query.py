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

from measures.rules.checker import CheckedRule
from measures.rules.fact_sql import FACT_SQL, Grouped
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


def facts_query(*, rules: list[CheckedRule], on: date, persons: QuerySet[Person]) -> FactsQuery:
    """The facts the rules use, for the persons of a queryset, as of a date."""
    facts: dict[str, tuple] = {}
    for rule in rules:
        for definition, args in rule.facts.values():
            facts.setdefault(fact_key(definition.name, args), (definition, args))
    persons_sql, persons_params = persons.order_by().values("pk").query.sql_with_params()
    select, select_params = [f'"{PERSON_TABLE}"."id" AS id'], []
    joins, join_params = [], []
    columns = {}
    for index, (key, (definition, args)) in enumerate(facts.items()):
        built = FACT_SQL[definition.name](on, args)
        if isinstance(built, Grouped):
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


def rule_sql(*, rule: CheckedRule | None, on: date, facts: FactsQuery) -> tuple[str, list[Any]]:
    """The rule as an SQL expression over the columns of `facts` (aliased `s`); NULL if none."""
    if rule is None:
        return "NULL", []
    return _compile(rule_expression(rule=rule, as_of=on, columns=facts.columns))


def rule_values(*, rule: CheckedRule, on: date, persons: QuerySet[Person]) -> dict[int, Any]:
    """The rule's value for each person of a (small) queryset, computed in SQL."""
    facts = facts_query(rules=[rule], on=on, persons=persons)
    value_sql, value_params = rule_sql(rule=rule, on=on, facts=facts)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.id, {value_sql} FROM ({facts.sql}) s",
            [*value_params, *facts.params],
        )
        return dict(cursor.fetchall())


def rule_counts(*, rule: CheckedRule, on: date, persons: QuerySet[Person]) -> dict[str, int]:
    """How many persons the rule finds true, false and unknown, in one statement."""
    facts = facts_query(rules=[rule], on=on, persons=persons)
    value_sql, value_params = rule_sql(rule=rule, on=on, facts=facts)
    with transaction.atomic(), connection.cursor() as cursor:
        analytic_session(cursor)
        cursor.execute(
            f"""SELECT COUNT(*) FILTER (WHERE t.ok), COUNT(*) FILTER (WHERE NOT t.ok),
                    COUNT(*) FILTER (WHERE t.ok IS NULL)
                FROM (SELECT {value_sql} AS ok FROM ({facts.sql}) s) t""",
            [*value_params, *facts.params],
        )
        true, false, unknown = cursor.fetchone()
    return {"true": true, "false": false, "unknown": unknown}


def rule_sample(*, rule: CheckedRule, on: date, persons: QuerySet[Person], size: int) -> list[int]:
    """The first `size` persons by id for whom the rule is true or unknown."""
    facts = facts_query(rules=[rule], on=on, persons=persons)
    value_sql, value_params = rule_sql(rule=rule, on=on, facts=facts)
    with transaction.atomic(), connection.cursor() as cursor:
        analytic_session(cursor)
        cursor.execute(
            f"SELECT s.id FROM ({facts.sql}) s WHERE ({value_sql}) IS NOT FALSE "
            "ORDER BY s.id LIMIT %s",
            [*facts.params, *value_params, size],
        )
        return [row[0] for row in cursor.fetchall()]
