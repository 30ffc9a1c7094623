"""The data contracts of inbound events: JSON Schema, plus the rules a schema cannot say.

The civil registry contract is ../shared/contracts/civil-registry-event.schema.json, copied
here so that the platform carries it (tests/integration/test_contracts.py proves the copy is
the same); the disability and education contracts are ours. A document breaking a contract
gets one problem per fault, each naming the field by its path (`subjects.child.snils`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import fastjsonschema
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaError
from referencing import Registry, Resource

from integration.enums import Contract
from platform_core.validators import validate_snils

HERE = Path(__file__).resolve().parent
FILES = {
    Contract.CIVIL_REGISTRY_EVENT: "civil-registry-event.schema.json",
    Contract.DISABILITY_EVENT: "disability-event.schema.json",
    Contract.EDUCATION_EVENT: "education-event.schema.json",
}
# Who a civil registry act must name, by its type.
SUBJECTS = {
    "birth": ("child", "mother"),
    "death": ("deceased",),
    "marriage": ("spouse_1", "spouse_2"),
    "divorce": ("spouse_1", "spouse_2"),
    "paternity": ("child", "father"),
    "adoption": ("child", "adoptive_parents"),
    "name_change": ("person", "new_name"),
}


@dataclass(frozen=True)
class Problem:
    """What is wrong with a document, and where."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


def schema(contract: str) -> dict[str, Any]:
    return _schemas()[contract]


@functools.cache
def _schemas() -> dict[str, dict[str, Any]]:
    return {
        contract: json.loads((HERE / name).read_text(encoding="utf-8"))
        for contract, name in FILES.items()
    }


@functools.cache
def resolved_schema(contract: str) -> dict[str, Any]:
    """The contract with every reference replaced by what it names (for OpenAPI, and for the
    fast validator)."""
    root = schema(contract)
    civil = schema(Contract.CIVIL_REGISTRY_EVENT)

    def resolve(node: Any, base: dict[str, Any]) -> Any:
        if isinstance(node, list):
            return [resolve(item, base) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            document, _hash, pointer = node["$ref"].partition("#")
            target = civil if document else base
            for part in pointer.strip("/").split("/"):
                target = target[part]
            return resolve(target, civil if document else base)
        return {
            key: resolve(value, base)
            for key, value in node.items()
            if key not in ("$schema", "$id", "$defs")
        }

    return resolve(root, root)


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


@functools.cache
def _fast_check(contract: str) -> Callable[[Any], Any]:
    """The contract compiled to Python code (fastjsonschema): raises at the first fault.

    Most documents are valid; they pass this alone. A document it refuses is validated again
    by jsonschema, which names every fault.
    """
    return fastjsonschema.compile(resolved_schema(contract), formats={"date": _is_date})


@functools.cache
def _validator(contract: str) -> Draft202012Validator:
    registry: Registry = Registry().with_resources(
        (name, Resource.from_contents(_schemas()[c])) for c, name in FILES.items()
    )
    return Draft202012Validator(
        schema(contract), registry=registry, format_checker=FormatChecker(["date"])
    )


def contract_problems(contract: str, document: Any) -> list[Problem]:
    """Every fault of the document against the contract, sorted by field."""
    try:
        _fast_check(contract)(document)
        found = []
    except fastjsonschema.JsonSchemaException:
        found = [
            problem
            for error in _validator(contract).iter_errors(document)
            for problem in _schema_problems(error)
        ]
    found += text_problems(document)
    if not found:
        found = list(_rule_problems(contract, document))
    return _sorted(found)


def _sorted(problems: list[Problem]) -> list[Problem]:
    """By field, each once (jsonschema reports a `required` fault once per missing name, each
    time with the whole list)."""
    return sorted(dict.fromkeys(problems), key=lambda p: p.field)


def text_problems(document: Any) -> list[Problem]:
    """Text no database can hold: a NUL character, or half of a UTF-16 surrogate pair (JSON
    may spell one as \\ud800; it is no character and cannot be encoded)."""
    try:
        flat = json.dumps(document, ensure_ascii=False)
        flat.encode()
    except UnicodeEncodeError:
        pass  # a lone surrogate somewhere: find it
    except (TypeError, ValueError):
        return []
    else:
        if "\\u0000" not in flat:  # json spells NUL so; most documents stop here
            return []
    return list(_nul_problems(document, []))


def _nul_problems(node: Any, where: list[Any]) -> Iterator[Problem]:
    """Text with a NUL character or a lone surrogate, each by its path."""
    if isinstance(node, str):
        if "\x00" in node:
            yield Problem(_path(where) or "(document)", _("Must not contain the NUL character."))
        elif any("\ud800" <= c <= "\udfff" for c in node):
            yield Problem(
                _path(where) or "(document)", _("Contains a character that is not valid text.")
            )
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _nul_problems(key, [*where, "(name)"])
            yield from _nul_problems(value, [*where, key.replace("\x00", "")])
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _nul_problems(value, [*where, index])


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _schema_problems(error: SchemaError) -> Iterator[Problem]:
    where = list(error.absolute_path)
    kind = error.validator
    if kind == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        for name in error.validator_value:
            if name not in present:
                yield Problem(_path([*where, name]), _("This field is required."))
        return
    if kind == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        for name in error.instance:
            if name not in allowed:
                yield Problem(_path([*where, name]), _("Unknown field."))
        return
    yield Problem(_path(where) or "(document)", _message(error))


def _message(error: SchemaError) -> str:
    value = error.validator_value
    kind = error.validator
    if kind == "type":
        names = {
            "object": _("an object"),
            "array": _("a list"),
            "string": _("a string"),
            "integer": _("an integer"),
            "boolean": _("true or false"),
        }
        return _("Must be %(type)s.") % {"type": names.get(value, value)}
    if kind == "enum":
        return _("Must be one of: %(values)s.") % {"values": ", ".join(map(str, value))}
    if kind == "format":
        return _("Must be a date as YYYY-MM-DD.")
    if kind == "pattern":
        return _("Wrong format (expected %(pattern)s).") % {"pattern": value}
    if kind == "minLength":
        return _("Must not be empty.") if value == 1 else _("Too short.")
    if kind == "maxLength":
        return _("At most %(n)s characters.") % {"n": value}
    if kind in ("minimum", "minItems"):
        return _("At least %(n)s.") % {"n": value}
    if kind in ("maximum", "maxItems"):
        return _("At most %(n)s.") % {"n": value}
    return error.message


def _persons(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every person of a document (schema-valid) with its path."""
    if "person" in document:
        yield "person", document["person"]
    for name, value in document.get("subjects", {}).items():
        if isinstance(value, dict) and "birth_date" in value:
            yield f"subjects.{name}", value
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield f"subjects.{name}[{index}]", item


def _rule_problems(contract: str, document: dict[str, Any]) -> Iterator[Problem]:
    """The rules of a schema-valid document that JSON Schema does not express."""
    occurred = date.fromisoformat(document["occurred_on"])
    if document.get("cancelled") and not document.get("corrects_event_id"):
        yield Problem("corrects_event_id", _("A cancellation must name the event it cancels."))
    if document.get("corrects_event_id") == document["event_id"]:
        yield Problem("corrects_event_id", _("An event cannot correct itself."))
    for where, person in _persons(document):
        if person.get("snils"):
            try:
                validate_snils(person["snils"])
            except ValidationError:
                yield Problem(f"{where}.snils", _("The SNILS checksum is wrong."))
        if date.fromisoformat(person["birth_date"]) > occurred:
            yield Problem(f"{where}.birth_date", _("Born after the event."))
    if contract == Contract.CIVIL_REGISTRY_EVENT:
        yield from _act_problems(document, occurred)
    elif contract == Contract.DISABILITY_EVENT:
        if document["type"] != "removed" and "disability" not in document:
            yield Problem("disability", _("This field is required."))
        disability = document.get("disability", {})
        if disability.get("valid_to") and disability["valid_to"] < disability["valid_from"]:
            yield Problem("disability.valid_to", _("Ends before it starts."))


def _act_problems(document: dict[str, Any], occurred: date) -> Iterator[Problem]:
    act_date = date.fromisoformat(document["act"]["date"])
    if act_date < occurred:
        yield Problem("act.date", _("An act cannot be registered before the event."))
    subjects = document["subjects"]
    if document.get("cancelled"):
        return  # a cancellation names the act; its subjects are the original's
    for name in SUBJECTS[document["type"]]:
        if name not in subjects:
            yield Problem(f"subjects.{name}", _("This field is required."))
    child = subjects.get("child")
    if document["type"] == "birth" and child and child["birth_date"] != document["occurred_on"]:
        yield Problem(
            "subjects.child.birth_date", _("A child's date of birth is the event's date.")
        )


# What other agencies answer to the platform, and what the platform publishes: checked with
# jsonschema alone (a few a second, not thousands).
ANSWERS = "interagency-answers.schema.json"
FEDERAL_FACT = "federal-register-fact.schema.json"


@functools.cache
def _outbound_validator(name: str, definition: str = "") -> Draft202012Validator:
    root = json.loads((HERE / name).read_text(encoding="utf-8"))
    target = {"$ref": f"{name}#/$defs/{definition}"} if definition else root
    return Draft202012Validator(
        target,
        registry=Registry().with_resource(name, Resource.from_contents(root)),
        format_checker=FormatChecker(["date"]),
    )


def _problems_of(validator: Draft202012Validator, document: Any) -> list[Problem]:
    found = [p for error in validator.iter_errors(document) for p in _schema_problems(error)]
    return _sorted([*found, *text_problems(document)])


def answer_problems(kind: str, data: Any) -> list[Problem]:
    """Every fault of a provider's answer data of kind (interagency-answers.schema.json)."""
    return _problems_of(_outbound_validator(ANSWERS, kind), data)


def fact_problems(fact: Any) -> list[Problem]:
    """Every fault of a fact for the federal register (federal-register-fact.schema.json)."""
    return _problems_of(_outbound_validator(FEDERAL_FACT), fact)
