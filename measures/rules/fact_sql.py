"""The facts in SQL, set-based: each fact is one query over all the persons concerned.

A fact is either a column expression over the person row (age, sex, region...) or a grouped
query giving `(key, value)` for the persons (or regions) it knows, LEFT JOINed to the persons
with a default for the others. One statement then evaluates a rule for a whole region with
hash joins instead of a sub-query per person: the rule is compiled (sql.py) over the fact
columns of that statement. The definitions mirror the Python ones in facts.py and
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
    FAMILY_CHILD_AGE,
    PREGNANCY_LOOKBACK_DAYS,
    month_number,
    months_before,
    years_before,
)
from registries.enums import LifeEventKind, LifeEventStatus, RelationKind, StatusKind
from registries.models import FamilyKind


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

    def render(self, persons_sql: str, persons_params: tuple) -> tuple[str, list[Any]]:
        """The query with every named parameter made positional, in order of appearance."""
        params: list[Any] = []

        def place(match: re.Match) -> str:
            name = match.group(1)
            if name == "persons":
                params.extend(persons_params)
                return persons_sql
            params.append(self.params[name])
            return "%s"

        return _NAMED.sub(place, self.sql), params


def _active(alias: str) -> str:
    return (
        f"{alias}.valid_from <= %(on)s AND ({alias}.valid_to IS NULL OR {alias}.valid_to >= %(on)s)"
    )


PARENT = RelationKind.PARENT.value


def _active_member(alias: str) -> str:
    """A row of the family fact table that counts at %(on)s: active, and a child still a minor."""
    return (
        f"{alias}.active @> %(on)s::date "
        f"AND ({alias}.kind <> %(child)s OR {alias}.member_birth > %(adult)s)"
    )


def _children(on: date, args: Mapping[str, Any]) -> Grouped:
    # registries_familymember: a child's row is active while the parent tie is and the child
    # is alive; one row per child (registries/models/derived.py).
    return Grouped(
        """SELECT f.person_id AS key, COUNT(*) AS value
        FROM registries_familymember f
        WHERE f.kind = %(child)s AND f.active @> %(on)s::date
            AND f.member_birth <= %(high)s AND f.member_birth > %(low)s
            AND f.person_id IN (%(persons)s)
        GROUP BY f.person_id""",
        {
            "child": FamilyKind.CHILD.value,
            "on": on,
            "high": years_before(on, args["min_age"]),
            "low": years_before(on, args["max_age"]),
        },
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


def _family_params(on: date) -> dict[str, Any]:
    return {"on": on, "child": FamilyKind.CHILD.value, "adult": years_before(on, FAMILY_CHILD_AGE)}


def _family_size(on: date, args: Mapping[str, Any]) -> Grouped:
    return Grouped(
        f"""SELECT f.person_id AS key, COUNT(*) AS value
        FROM registries_familymember f
        WHERE {_active_member("f")} AND f.person_id IN (%(persons)s)
        GROUP BY f.person_id""",
        _family_params(on),
        column="COALESCE({v}, 1)",
        absent=Decimal(1),
    )


def _window(column: str) -> str:
    """The running total `column` of registries_incomeseries `s` over months [start, end)."""

    def at(bound: str) -> str:
        return f"COALESCE(s.{column}[LEAST({bound} - s.first_month, cardinality(s.{column}))], 0)"

    return f"({at('%(end)s')} - {at('%(start)s')})"


def _family_income_per_capita(on: date, args: Mapping[str, Any]) -> Grouped:
    # Each member's income over the window is two reads of their running totals; unknown
    # when no member has a month with an income record in it.
    return Grouped(
        f"""SELECT f.person_id AS key,
            CASE WHEN SUM({_window("months")}) > 0 THEN
                ROUND(SUM({_window("totals")}) / (100.0 * %(months)s * COUNT(*)), 2)
            END AS value
        FROM registries_familymember f
        LEFT JOIN registries_incomeseries s ON s.person_id = f.member_id
        WHERE {_active_member("f")} AND f.person_id IN (%(persons)s)
        GROUP BY f.person_id""",
        {
            **_family_params(on),
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


# Facts derived from the whole family (relations of both kinds and a year of incomes): a
# staged evaluation computes them only for the persons the other facts leave undecided.
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
