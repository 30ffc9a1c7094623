"""A decision's explanation in a citizen's words (measures/rules/plain.py): each condition a
sentence with the values that decided it, evaluated on a real person as a decision would be."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation

from measures.enums import Outcome, ValueType
from measures.rules import FACTS, PersonFactSource, rule_check, rule_evaluate
from measures.rules.phrases import PHRASES, YES_NO
from measures.rules.plain import condition_sentence, explanation_plain
from registries.enums import StatusKind, SubsistenceGroup
from tests.measures.test_rules_facts import (
    ON,
    employ,
    income,
    parent_of,
    person,
    status,
    subsistence,
)

pytestmark = pytest.mark.usefixtures("region_27")


def explained(rule: str, who, outcome: str = Outcome.ELIGIBLE) -> dict:
    """The explanation as a decision stores it, read in plain words."""
    result = rule_evaluate(rule=rule_check(rule), source=PersonFactSource(person=who, as_of=ON))
    return explanation_plain({**result.as_json(), "outcome": outcome, "as_of": ON.isoformat()})


def sentences(rule: str, who) -> list[tuple[str, bool | None]]:
    return [(c["text"], c["held"]) for c in explained(rule, who)["conditions"]]


def test_every_fact_of_the_library_has_its_phrase():
    assert set(PHRASES) == set(FACTS)
    yes_no = {name for name, fact in FACTS.items() if fact.type == ValueType.BOOL}
    assert yes_no == {name for name, phrase in PHRASES.items() if phrase.unit == YES_NO}
    assert all(PHRASES[name].yes and PHRASES[name].no for name in yes_no)


def test_counts_and_yes_no_facts_read_as_sentences_in_russian():
    mother = person(date(1990, 1, 1), sex="F")
    parent_of(mother, person(date(2024, 1, 1)))

    assert sentences("alive and children(max_age=3) >= 1 and citizen", mother) == [
        ("Запись о смерти отсутствует", True),
        ("Дети младше 3 лет: 1 (нужен хотя бы один)", True),
        ("Гражданин Российской Федерации", True),
    ]


def test_a_negated_fact_reads_as_what_is_required_and_its_verdict_as_what_held():
    worker = person(date(1990, 1, 1))
    employ(worker, since=date(2020, 1, 1))

    # The rule needs "does not work"; the person works: that condition is not met.
    assert sentences("not employed", worker) == [
        ("Не работает (ни один работодатель не сообщает о работе)", False)
    ]
    assert sentences("employed", worker) == [("Работает (работодатель сообщает о работе)", True)]
    # not (a and b) needs not a or not b: each is recorded as required.
    assert sentences("not (employed and age > 60)", worker) == [
        ("Не работает (ни один работодатель не сообщает о работе)", False),
        ("Возраст: 36 лет (допускается не более 60 лет)", True),
    ]
    # A yes/no fact compared with another is a value of that comparison, not a condition.
    assert [held for _text, held in sentences("employed == citizen", worker)] == [True]


def test_limits_are_written_in_the_facts_unit_and_a_mirrored_comparison_reads_fact_first():
    old = person(date(1950, 1, 1))

    assert sentences("age < 60 and 18 <= age", old) == [
        ("Возраст: 76 лет (нужно менее 60 лет)", False),
        ("Возраст: 76 лет (нужно не менее 18 лет)", True),
    ]
    # `not (age > 60)` is `age <= 60`.
    assert sentences("not (age > 60)", old) == [
        ("Возраст: 76 лет (допускается не более 60 лет)", False)
    ]


def test_income_against_the_subsistence_minimum_is_one_sentence_in_roubles():
    mother = person(date(1990, 1, 1), sex="F")
    subsistence("27", 2026, SubsistenceGroup.PER_CAPITA, "17733.00", date(2026, 1, 1))
    for month in range(24):  # every month of any 12-month window before the day
        income(mother, date(2024 + (month + 6) // 12, (month + 6) % 12 + 1, 1), "14250.50")

    [(text, held)] = sentences(
        "family_income_per_capita(months=12) <= subsistence_minimum()", mother
    )
    assert held is True
    assert text == (
        "Среднедушевой доход семьи в месяц (14\xa0250,50 ₽) не превышает прожиточного минимума"
        " (17\xa0733 ₽)"
    )
    with translation.override("en"):
        [(english, _held)] = sentences(
            "family_income_per_capita(months=12) <= subsistence_minimum()", mother
        )
    assert english == (
        "The family's average monthly income per person (14,250.50 RUB) is not above the"
        " subsistence minimum (17,733 RUB)"
    )


def test_a_choice_reads_as_its_label_and_a_list_as_alternatives():
    disabled = person(date(1980, 1, 1))
    status(disabled, StatusKind.DISABILITY, since=date(2020, 1, 1), group="2")

    assert sentences('disability_group in ["1", "2"] and sex == "F"', disabled) == [
        ("Инвалидность: II группа (нужно: I группа или II группа)", True),
        ("Пол: мужской (нужно: женский)", False),
    ]


def test_an_unknown_value_is_said_to_be_unknown_and_named_as_missing():
    someone = person(date(1990, 1, 1))
    subsistence("27", 2026, SubsistenceGroup.PER_CAPITA, "17733.00", date(2026, 1, 1))
    plain = explained(
        "family_income_per_capita(months=3) < subsistence_minimum()", someone, Outcome.UNKNOWN
    )

    [condition] = plain["conditions"]
    assert condition["held"] is None
    assert condition["verdict"] == "не удалось проверить: не хватает сведений"
    assert plain["missing"] == ["Среднемесячный доход на члена семьи за 3 месяца"]


def test_a_condition_the_table_does_not_cover_keeps_the_generic_words():
    someone = person(date(1990, 1, 1))
    # Arithmetic between facts has no sentence: the labels and operator words read it.
    text = condition_sentence("age + family_size() > 3", {"age": 36, "family_size": 1})
    assert "age" not in text.split() and ">" not in text
    assert text == condition_sentence("age + family_size() > 3", {})
    assert sentences("age + family_size() > 3", someone)[0][0] == text


def test_an_alternative_not_needed_is_no_reason_for_a_granted_right():
    mother = person(date(1990, 1, 1), sex="F")
    parent_of(mother, person(date(2024, 1, 1)))
    rule = "children(max_age=3) >= 1 or age > 60"

    granted = explained(rule, mother, Outcome.ELIGIBLE)
    assert [c["held"] for c in granted["conditions"]] == [True, False]
    assert granted["failed"] == []
    assert explained(rule, mother, Outcome.UNKNOWN)["failed"] == []  # no reason: no refusal
    refused = explained(rule, mother, Outcome.INELIGIBLE)
    assert [c["text"] for c in refused["failed"]] == ["Возраст: 36 лет (нужно более 60 лет)"]


def test_a_stored_fact_the_phrases_cannot_read_keeps_its_stored_words():
    plain = explanation_plain(
        {
            "outcome": Outcome.INELIGIBLE,
            "conditions": [{"condition": "family_income_per_capita() <= 1", "value": None}],
            "facts": [
                {
                    "key": "family_income_per_capita(months=12)",
                    "fact": "family_income_per_capita",
                    "args": {"months": "twelve"},
                    "value": "Infinity",
                    "label": "доход",
                }
            ],
        }
    )
    assert plain["facts"] == [{"label": "доход", "value": "Infinity"}]
