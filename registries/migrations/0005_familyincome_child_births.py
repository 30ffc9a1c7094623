# FamilyIncome keeps its children's dates of birth, so that "children in an age band under 18"
# is read from the same row as the family's income (docs/decisions.md §9).

import importlib
import re

import django.contrib.postgres.fields
from django.db import migrations, models

# Going back, the function of 0004 again.
_PREVIOUS = importlib.import_module("registries.migrations.0004_derived_fact_tables").FUNCTIONS
REVERSE = re.search(
    r"CREATE FUNCTION registries_family_income_refresh\(.*?\$\$;", _PREVIOUS, re.S
).group(0).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")

# As in 0004, with the children's dates of birth of each period (sorted).
FUNCTION = r"""
CREATE OR REPLACE FUNCTION registries_family_income_refresh(ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM registries_familyincome WHERE person_id = ANY(ids);
    WITH mem AS (
        SELECT f.person_id, f.member_id, f.kind, f.member_birth,
            CASE WHEN f.kind = 'child'
                THEN f.active * datemultirange(daterange(NULL, registries_adult_day(f.member_birth)))
                ELSE f.active
            END AS belongs
        FROM registries_familymember f
        WHERE f.person_id = ANY(ids)
    ), cuts AS (
        SELECT DISTINCT m.person_id, b.day
        FROM mem m
        CROSS JOIN LATERAL unnest(m.belongs) AS r(span)
        CROSS JOIN LATERAL (VALUES (lower(r.span)), (upper(r.span))) AS b(day)
        WHERE b.day IS NOT NULL
        UNION ALL
        SELECT DISTINCT person_id, NULL::date FROM mem
    ), periods AS (
        SELECT person_id, (row_number() OVER w - 1)::smallint AS period,
            day AS starts, lead(day) OVER w AS ends
        FROM cuts
        WINDOW w AS (PARTITION BY person_id ORDER BY day NULLS FIRST)
    ), members AS (
        SELECT p.person_id, p.period, m.member_id, m.kind, m.member_birth
        FROM periods p
        JOIN mem m ON m.person_id = p.person_id
            AND m.belongs @> COALESCE(p.starts, p.ends - 1, DATE '2000-01-01')
        UNION ALL
        SELECT person_id, period, person_id, NULL, NULL FROM periods
    ), sizes AS (
        SELECT person_id, period, COUNT(*) AS size,
            COALESCE(array_agg(member_birth ORDER BY member_birth)
                FILTER (WHERE kind = 'child'), '{}') AS child_births
        FROM members GROUP BY person_id, period
    ), incomes AS (
        SELECT m.person_id, m.period, s.first_month, s.totals, s.months,
            MIN(s.first_month) OVER w AS first,
            MAX(s.first_month + cardinality(s.totals) - 1) OVER w AS last
        FROM members m
        JOIN registries_incomeseries s ON s.person_id = m.member_id
        WINDOW w AS (PARTITION BY m.person_id, m.period)
    ), monthly AS MATERIALIZED (
        SELECT i.person_id, i.period, g.n,
            SUM(CASE WHEN g.n < i.first_month THEN 0
                ELSE i.totals[LEAST(g.n - i.first_month + 1, cardinality(i.totals))] END) AS total,
            SUM(CASE WHEN g.n < i.first_month THEN 0
                ELSE i.months[LEAST(g.n - i.first_month + 1, cardinality(i.months))] END) AS counted
        FROM incomes i
        CROSS JOIN LATERAL generate_series(i.first, i.last) AS g(n)
        GROUP BY i.person_id, i.period, g.n
    ), series AS MATERIALIZED (
        SELECT person_id, period, MIN(n) AS first_month,
            array_agg(total::bigint ORDER BY n) AS totals,
            array_agg(counted::integer ORDER BY n) AS months
        FROM monthly
        GROUP BY person_id, period
    )
    INSERT INTO registries_familyincome
        (person_id, period, valid, size, first_month, totals, months, child_births)
    SELECT p.person_id, p.period, daterange(p.starts, p.ends), z.size,
        s.first_month, s.totals, s.months, z.child_births
    FROM periods p
    JOIN sizes z ON z.person_id = p.person_id AND z.period = p.period AND z.size > 1
    LEFT JOIN series s ON s.person_id = p.person_id AND s.period = p.period;
$$;
"""

BACKFILL = """
SELECT registries_family_income_refresh(ARRAY(
    SELECT DISTINCT person_id FROM registries_familymember));
"""


class Migration(migrations.Migration):
    dependencies = [
        ("registries", "0004_derived_fact_tables"),
    ]

    operations = [
        migrations.AddField(
            model_name="familyincome",
            name="child_births",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.DateField(),
                default=list,
                size=None,
                verbose_name="children's dates of birth",
            ),
        ),
        migrations.RunSQL(FUNCTION + BACKFILL, reverse_sql=REVERSE),
    ]
