"""The facts in SQL, set-based: each fact is one query over all the persons concerned.

A fact is either a column expression over the person row (age, sex, region...) or a grouped
query giving `(key, value)` for the persons (or regions) it knows, LEFT JOINed to the persons
with a default for the others. Some grouped facts also come in a form a query can join to its
persons directly: `Rows` (per-person rows to aggregate) and `Lookup` (at most one row per
person). One statement then evaluates a rule for a whole region with hash joins instead of a
sub-query per person: the rule is compiled (sql.py) over the fact columns of that statement.
The family facts read the fact tables of registries/models/derived.py. The definitions mirror the Python ones in facts.py and
sources.py; tests/measures/test_rules_agree.py proves they agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, F, Func, IntegerField, Q, Value

from measures.rules.sources import (
    PREGNANCY_LOOKBACK_DAYS,
    month_number,
    months_before,
    years_before,
)
from registries.enums import LifeEventKind, LifeEventStatus, RelationKind, StatusKind
from registries.models import FamilyKind
from registries.services.derived import ADULT_AGE


class AgeYears(Func):
    """Whole years between a birth date and a date (PostgreSQL's age() keeps them exact)."""

    output_field = IntegerField()

    def __init__(self, on: date, birth: Any):
        super().__init__(Value(on), birth)

    def as_sql(self, compiler, connection, **extra):  # type: ignore[no-untyped-def]
        on, birth = (compiler.compile(e) for e in self.source_expressions)
        sql = (
            f"CASE WHEN {birth[0]} > {on[0]} THEN NULL "
            f"ELSE date_part('year', age({on[0]}::date, {birth[0]}))::integer END"
        )
        return sql, (*birth[1], *on[1], *on[1], *birth[1])


_NAMED = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Grouped:
    """`SELECT key, value ...` with `%(persons)s` where the persons' id query goes.

    `on` says what the key joins: "id" (a person) or "region_id" (the person's region).
    `column` turns the joined value `{v}` into the fact (a default for persons with no row);
    `absent` is that default as the evaluators see it (None: unknown).
    """

    sql: str
    params: Mapping[str, Any]
    column: str = "{v}"
    on: str = "id"
    absent: Any = None
    rows: Rows | None = None
    lookup: Lookup | None = None

    def render(self, persons_sql: str, persons_params: tuple) -> tuple[str, list[Any]]:
        """The query with every named parameter made positional, in order of appearance."""
        return _render(self.sql, self.params, persons_sql, persons_params)


@dataclass(frozen=True)
class Rows:
    """A per-person aggregate of the rows of `table` that match `where`, by `key`.

    A query that starts from the persons can join these and group by person, reading the
    persons once instead of joining a grouped query back to them (query.py uses it for a
    candidate fact).
    """

    table: str
    where: str
    key: str
    aggregate: str


def _render(
    sql: str, named: Mapping[str, Any], persons_sql: str, persons_params: tuple
) -> tuple[str, list[Any]]:
    params: list[Any] = []

    def place(match: re.Match) -> str:
        name = match.group(1)
        if name == "persons":
            params.extend(persons_params)
            return persons_sql
        params.append(named[name])
        return "%s"

    return _NAMED.sub(place, sql), params


def render_rows(grouped: Grouped) -> tuple[str, list[Any]]:
    """The WHERE condition of a grouped fact's rows, its parameters made positional."""
    assert grouped.rows is not None
    return _render(grouped.rows.where, grouped.params, "", ())


def _per_person(rows: Rows, params: Mapping[str, Any], **options: Any) -> Grouped:
    """A grouped fact of per-person rows."""
    sql = (
        f"SELECT {rows.key} AS key, {rows.aggregate} AS value FROM {rows.table} "
        f"WHERE {rows.where} AND {rows.key} IN (%(persons)s) GROUP BY {rows.key}"
    )
    return Grouped(sql, params, rows=rows, **options)


@dataclass(frozen=True)
class Lookup:
    """A fact read from the person's family row as of the date (registries_familyincome):
    `value` over the aliases `family_row` and, where it falls back on the person's own
    income series for a person alone, `own_series`.

    A query can join these to its persons directly, with no grouped query to join back.
    Where the family row is `required` (its persons all have one: a candidate fact, see
    query.py), it is an inner join and the fallback a row of NULLs, which keeps the plan
    parallel: a lateral look-up cannot run in parallel workers.
    """

    value: str
    own_series: bool = False

    def joins(self, person: str, *, required: bool) -> list[str]:
        found = [FAMILY_ROW.format(p=person, join="JOIN" if required else "LEFT JOIN")]
        if self.own_series:
            found.append(NO_OWN_SERIES if required else OWN_SERIES.format(p=person))
        return found


# A person's family as of %(on)s: registries_familyincome has a row for the period of
# constant composition around the date; a person without one is a family of one with their
# own IncomeSeries (looked up by key only then: OFFSET 0 keeps the planner from hashing
# every series instead).
FAMILY_ROW = """{join} registries_familyincome family_row
        ON family_row.person_id = {p}.id AND family_row.valid @> %(on)s::date"""
OWN_SERIES = """LEFT JOIN LATERAL (
            SELECT s.first_month, s.totals, s.months FROM registries_incomeseries s
            WHERE s.person_id = {p}.id AND family_row.person_id IS NULL
            OFFSET 0
        ) own_series ON TRUE"""
NO_OWN_SERIES = """CROSS JOIN (SELECT NULL::integer AS first_month, NULL::bigint[] AS totals,
            NULL::integer[] AS months) own_series"""


def render_lookup(
    grouped: Grouped, person: str, *, required: bool = False
) -> tuple[str, list[Any], list[tuple[str, list[Any]]]]:
    """A lookup fact's value and joins for the person alias, parameters made positional."""
    assert grouped.lookup is not None
    value, value_params = _render(grouped.lookup.value, grouped.params, "", ())
    joins = [
        _render(join, grouped.params, "", ())
        for join in grouped.lookup.joins(person, required=required)
    ]
    return value, value_params, joins


def _lookup(lookup: Lookup, params: Mapping[str, Any], **options: Any) -> Grouped:
    """A fact of one row per person, also as a grouped query of `%(persons)s`."""
    joins = "\n".join(lookup.joins("p", required=False))
    sql = f"SELECT p.id AS key, {lookup.value} AS value FROM (%(persons)s) p {joins}"
    return Grouped(sql, params, lookup=lookup, **options)


def _active(alias: str) -> str:
    return (
        f"{alias}.valid_from <= %(on)s AND ({alias}.valid_to IS NULL OR {alias}.valid_to >= %(on)s)"
    )


PARENT = RelationKind.PARENT.value


def _children(on: date, args: Mapping[str, Any]) -> Grouped:
    params = {
        "child": FamilyKind.CHILD.value,
        "on": on,
        "high": years_before(on, args["min_age"]),
        "low": years_before(on, args["max_age"]),
    }
    if args["max_age"] <= ADULT_AGE:
        # Children under 18 are members of the family row, their births sorted: those born
        # in (low, high] are two binary searches.
        return _lookup(
            Lookup(
                """COALESCE(width_bucket(%(high)s::date, family_row.child_births)
                    - width_bucket(%(low)s::date, family_row.child_births), 0)"""
            ),
            params,
            absent=Decimal(0),
        )
    # registries_familymember: a child's row is active while the parent tie is and the child
    # is alive; one row per child (registries/models/derived.py).
    return _per_person(
        Rows(
            "registries_familymember f",
            """f.kind = %(child)s AND f.active @> %(on)s::date
                AND f.member_birth <= %(high)s AND f.member_birth > %(low)s""",
            key="f.person_id",
            aggregate="COUNT(*)",
        ),
        params,
        column="COALESCE({v}, 0)",
        absent=Decimal(0),
    )


def _children_born(on: date, args: Mapping[str, Any]) -> Grouped:
    return Grouped(
        """SELECT r.from_person_id AS key, COUNT(DISTINCT r.to_person_id) AS value
        FROM registries_relation r
        WHERE r.kind = %(parent)s AND r.valid_from <= %(on)s AND r.from_person_id IN (%(persons)s)
        GROUP BY r.from_person_id""",
        {"parent": PARENT, "on": on},
        column="COALESCE({v}, 0)",
        absent=Decimal(0),
    )


def _children_born_at_once(on: date, args: Mapping[str, Any]) -> Grouped:
    return Grouped(
        """SELECT born.key, COUNT(*) AS value FROM (
            SELECT DISTINCT r.from_person_id AS key, r.to_person_id, c.birth_date,
                MAX(c.birth_date) OVER (PARTITION BY r.from_person_id) AS youngest
            FROM registries_relation r JOIN registries_person c ON c.id = r.to_person_id
            WHERE r.kind = %(parent)s AND r.valid_from <= %(on)s
                AND r.from_person_id IN (%(persons)s)
        ) born
        WHERE born.birth_date = born.youngest
        GROUP BY born.key""",
        {"parent": PARENT, "on": on},
        column="COALESCE({v}, 0)",
        absent=Decimal(0),
    )


def _birth_order(on: date, args: Mapping[str, Any]) -> Grouped:
    return Grouped(
        """SELECT m.child_id AS key,
            1 + COUNT(DISTINCT s.to_person_id) FILTER (WHERE sc.birth_date < ch.birth_date)
                AS value
        FROM (
            SELECT r.to_person_id AS child_id, MIN(r.from_person_id) AS mother_id
            FROM registries_relation r JOIN registries_person p ON p.id = r.from_person_id
            WHERE r.kind = %(parent)s AND r.valid_from <= %(on)s AND p.sex = 'F'
                AND r.to_person_id IN (%(persons)s)
            GROUP BY r.to_person_id
        ) m
        JOIN registries_person ch ON ch.id = m.child_id
        LEFT JOIN registries_relation s ON s.from_person_id = m.mother_id AND s.kind = %(parent)s
        LEFT JOIN registries_person sc ON sc.id = s.to_person_id
        GROUP BY m.child_id""",
        {"parent": PARENT, "on": on},
    )


def _family_size(on: date, args: Mapping[str, Any]) -> Grouped:
    return _lookup(Lookup("COALESCE(family_row.size, 1)"), {"on": on}, absent=Decimal(1))


def _window(column: str) -> str:
    """The family's running total `column` over months [start, end)."""
    values = f"COALESCE(family_row.{column}, own_series.{column})"
    first = "COALESCE(family_row.first_month, own_series.first_month)"

    def at(bound: str) -> str:
        return f"COALESCE(({values})[LEAST({bound} - {first}, cardinality({values}))], 0)"

    return f"({at('%(end)s')} - {at('%(start)s')})"


def _family_income_per_capita(on: date, args: Mapping[str, Any]) -> Grouped:
    # The family's income over the window is two reads of its running totals; unknown when
    # no member has a month with an income record in it.
    value = (
        f"CASE WHEN {_window('months')} > 0 THEN ROUND({_window('totals')} "
        "/ (100.0 * %(months)s * COALESCE(family_row.size, 1)), 2) END"
    )
    return _lookup(
        Lookup(value, own_series=True),
        {
            "on": on,
            "months": args["months"],
            "start": month_number(months_before(on, args["months"])),
            "end": month_number(months_before(on, 0)),
        },
    )


def _subsistence_minimum(on: date, args: Mapping[str, Any]) -> Grouped:
    return Grouped(
        f"""SELECT DISTINCT ON (m.region_id) m.region_id AS key, m.amount AS value
        FROM registries_subsistenceminimum m
        WHERE {_active("m")} AND m.year = %(year)s AND m."group" = %(group)s
        ORDER BY m.region_id, m.valid_from DESC""",
        {"on": on, "year": on.year, "group": args["group"]},
        on="region_id",
    )


def _latest_disability(expression: str, default: str, absent: Any) -> Callable[..., Grouped]:
    def build(on: date, args: Mapping[str, Any]) -> Grouped:
        return Grouped(
            f"""SELECT DISTINCT ON (s.person_id) s.person_id AS key, {expression} AS value
            FROM registries_personstatus s
            WHERE s.kind = %(kind)s AND {_active("s")} AND s.person_id IN (%(persons)s)
            ORDER BY s.person_id, s.valid_from DESC, s.id DESC""",
            {"kind": StatusKind.DISABILITY.value, "on": on},
            column=f"COALESCE({{v}}, {default})",
            absent=absent,
        )

    return build


def _status(kind: str) -> Callable[..., Grouped]:
    def build(on: date, args: Mapping[str, Any]) -> Grouped:
        return Grouped(
            f"""SELECT DISTINCT s.person_id AS key, TRUE AS value
            FROM registries_personstatus s
            WHERE s.kind = %(kind)s AND {_active("s")} AND s.person_id IN (%(persons)s)""",
            {"kind": kind, "on": on},
            column="COALESCE({v}, FALSE)",
            absent=False,
        )

    return build


def _employed(on: date, args: Mapping[str, Any]) -> Grouped:
    return Grouped(
        """SELECT DISTINCT e.person_id AS key, TRUE AS value
        FROM registries_employmentrecord e
        WHERE e.started_on <= %(on)s AND (e.ended_on IS NULL OR e.ended_on >= %(on)s)
            AND e.person_id IN (%(persons)s)""",
        {"on": on},
        column="COALESCE({v}, FALSE)",
        absent=False,
    )


def _lost_breadwinner(on: date, args: Mapping[str, Any]) -> Grouped:
    return Grouped(
        """SELECT DISTINCT r.to_person_id AS key, TRUE AS value
        FROM registries_relation r JOIN registries_person p ON p.id = r.from_person_id
        WHERE r.kind = %(parent)s AND r.valid_from <= %(on)s AND p.death_date <= %(on)s
            AND r.to_person_id IN (%(persons)s)""",
        {"parent": PARENT, "on": on},
        column="COALESCE({v}, FALSE)",
        absent=False,
    )


def _pregnancy_week(on: date, args: Mapping[str, Any]) -> Grouped:
    # The latest registration decides; its week is unknown unless a whole number.
    return Grouped(
        """SELECT DISTINCT ON (e.person_id) e.person_id AS key,
            CASE WHEN e.details ->> 'week' ~ '^[0-9]+$'
                THEN (e.details ->> 'week')::numeric END AS value
        FROM registries_lifeevent e
        WHERE e.kind = %(kind)s AND e.status = %(status)s
            AND e.occurred_on <= %(on)s AND e.occurred_on > %(since)s
            AND e.person_id IN (%(persons)s)
        ORDER BY e.person_id, e.occurred_on DESC, e.id DESC""",
        {
            "kind": LifeEventKind.PREGNANCY_REGISTERED.value,
            "status": LifeEventStatus.ACTIVE.value,
            "on": on,
            "since": on - timedelta(days=PREGNANCY_LOOKBACK_DAYS),
        },
    )


def _alive_column(on: date, args: Mapping[str, Any]) -> Any:
    alive = Q(birth_date__lte=on) & (Q(death_date__isnull=True) | Q(death_date__gt=on))
    return ExpressionWrapper(alive, output_field=BooleanField())


# Facts of the whole family (a join of the large registries_familyincome, and a look-up of the
# person's own income series without one): a staged evaluation computes them only for the
# persons the other facts leave undecided.
EXPENSIVE_FACTS = {"family_size", "family_income_per_capita"}

FACT_SQL: dict[str, Callable[[date, Mapping[str, Any]], Any]] = {
    "age": lambda on, args: AgeYears(on, F("birth_date")),
    "sex": lambda on, args: F("sex"),
    "region": lambda on, args: F("region_id"),
    "municipality": lambda on, args: F("municipality_id"),
    "citizen": lambda on, args: ExpressionWrapper(
        Q(citizenship="RUS"), output_field=BooleanField()
    ),
    "alive": _alive_column,
    "children": _children,
    "children_born": _children_born,
    "children_born_at_once": _children_born_at_once,
    "birth_order": _birth_order,
    "family_size": _family_size,
    "family_income_per_capita": _family_income_per_capita,
    "subsistence_minimum": _subsistence_minimum,
    "disability_group": _latest_disability(
        "COALESCE(NULLIF(s.disability_group, ''), 'none')", "'none'", "none"
    ),
    "disabled_from_childhood": _latest_disability("s.from_childhood", "FALSE", False),
    "large_family": _status(StatusKind.LARGE_FAMILY.value),
    "low_income": _status(StatusKind.LOW_INCOME.value),
    "pensioner": _status(StatusKind.PENSIONER.value),
    "unemployed": _status(StatusKind.UNEMPLOYED.value),
    "student": _status(StatusKind.STUDENT.value),
    "employed": _employed,
    "lost_breadwinner": _lost_breadwinner,
    "pregnancy_week_at_registration": _pregnancy_week,
}
