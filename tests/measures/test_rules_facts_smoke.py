from datetime import date

from registries.enums import RelationBasis, RelationKind
from registries.models import Relation
from tests.measures.rules_helpers import both, number, text
from tests.registries.factories import PersonFactory


def test_smoke(region_27):
    mother = PersonFactory(sex="F", birth_date=date(1990, 2, 28))
    child = PersonFactory(snils=None, birth_date=date(2024, 2, 29), sex="M")
    Relation.objects.create(
        kind=RelationKind.PARENT,
        basis=RelationBasis.BIRTH,
        from_person=mother,
        to_person=child,
        valid_from=child.birth_date,
    )
    on = date(2026, 11, 1)
    assert number("age", mother, on) == 36
    assert number("children(max_age=3)", mother, on) == 1
    assert number("family_size", mother, on) == 2
    assert number("birth_order", child, on) == 1
    assert number("children_born_at_once", mother, on) == 1
    assert both("alive and citizen and not employed", mother, on) is True
    assert text("disability_group", mother, on) == "none"
    assert both("family_income_per_capita(months=12) <= subsistence_minimum()", mother, on) is None
    assert number("if age > 30 then min(1, 2, age) else round(10 / 3, 2)", mother, on) == 1
    assert both('sex in ["F", "X"] or large_family', mother, on) is True
    assert number("pregnancy_week_at_registration", mother, on) is None
