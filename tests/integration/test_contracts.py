"""The inbound contracts: the platform's copy of the shared one, and fuzzing of the signed
endpoints with documents generated from them (never a 500)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from schemathesis.core import NOT_SET

from integration.contracts import FILES, contract_problems, schema
from integration.enums import Contract
from tests.integration.helpers import act, birth, make_system, person, signed_headers

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "contracts"


@pytest.mark.skipif(not SHARED.exists(), reason="../shared is not beside this checkout")
def test_the_civil_registry_contract_is_the_shared_one():
    name = FILES[Contract.CIVIL_REGISTRY_EVENT]
    assert schema(Contract.CIVIL_REGISTRY_EVENT) == json.loads((SHARED / name).read_text())


@pytest.mark.parametrize(
    "document",
    [
        birth(
            "x",
            person("Иванова", "Мария", "1994-03-02", sex="F"),
            person("Иванов", "Пётр", "2026-11-01"),
        ),
        act("x", "death", "2026-11-01", {"deceased": person("Петров", "Олег", "1950-05-05")}),
        act(
            "x",
            "name_change",
            "2026-11-01",
            {
                "person": person("Петров", "Олег", "1950-05-05"),
                "new_name": {"last": "Сидоров", "first": "Олег"},
            },
        ),
    ],
)
def test_valid_acts_have_no_problems(document):
    assert contract_problems(Contract.CIVIL_REGISTRY_EVENT, document) == []


def test_each_act_type_must_name_its_subjects(english_messages):
    document = act("x", "marriage", "2026-11-01", {"spouse_1": person("А", "Б", "1990-01-01")})
    problems = contract_problems(Contract.CIVIL_REGISTRY_EVENT, document)
    assert [(p.field, p.message) for p in problems] == [
        ("subjects.spouse_2", "This field is required.")
    ]


def test_a_list_item_is_named_by_its_index(english_messages):
    document = act(
        "x",
        "adoption",
        "2026-11-01",
        {
            "child": person("А", "Б", "2020-01-01"),
            "adoptive_parents": [{"name": {"last": "В", "first": "Г"}}],
        },
    )
    problems = contract_problems(Contract.CIVIL_REGISTRY_EVENT, document)
    assert [p.field for p in problems] == ["subjects.adoptive_parents[0].birth_date"]


def test_text_with_a_nul_character_is_refused(english_messages):
    document = act(
        "x", "death", "2026-11-01", {"deceased": person("Пет\x00ров", "Олег", "1950-05-05")}
    )
    problems = contract_problems(Contract.CIVIL_REGISTRY_EVENT, document)
    assert [(p.field, p.message) for p in problems] == [
        ("subjects.deceased.name.last", "Must not contain the NUL character.")
    ]


@pytest.mark.django_db
def test_half_a_surrogate_pair_is_refused_naming_the_field(client, region_27):
    """JSON may spell \\ud800 alone: no character, no UTF-8; a 400, never a 500."""
    from tests.integration.helpers import CIVIL, make_system, post

    body = json.dumps(
        act("s-1", "death", "2026-11-01", {"deceased": person("Петров", "Олег", "1950-05-05")}),
        ensure_ascii=False,
    ).replace("Олег", "\\ud800")
    answer = post(client, CIVIL, body.encode(), make_system())
    assert answer.status_code == 400
    assert [e["field"] for e in answer.json()["errors"]] == ["subjects.deceased.name.first"]


@pytest.fixture
def inbound_api(openapi_over_wsgi, region_27):
    return openapi_over_wsgi


FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


def test_signed_inbound_endpoints_never_answer_a_server_error(inbound_api, client):
    system = make_system()
    operations = [
        result.ok()
        for result in inbound_api.get_all_operations()
        if "/integration/" in result.ok().path and "/events" in result.ok().path
    ]
    assert len(operations) == 9

    for operation in operations:

        @FUZZ
        @given(case=operation.as_strategy())
        def check(case) -> None:
            sent = case.method != "GET" and case.body is not NOT_SET
            body = json.dumps(case.body).encode() if sent else b""
            path = case.formatted_path
            response = client.generic(
                case.method,
                path,
                data=body,
                content_type="application/json",
                headers=signed_headers(system, body),
            )
            assert response.status_code < 500, (
                f"{case.method} {path} {body[:300]!r}: {response.content[:500]!r}"
            )

        check()
