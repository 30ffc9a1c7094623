"""The emulated federal social security register (a ЕГИССО-like feed) of docs/peers.md.

Each fact is checked against integration/contracts/federal-register-fact.schema.json and
answered on its own. The register keeps the highest version of each fact: a version it
holds is accepted again, an older one is accepted and ignored, and a version it holds sent
again with other content is rejected (a fact's version names one content for life).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from emulators.peers.server import (
    DOCUMENT,
    Call,
    Faults,
    Invalid,
    Peer,
    Reply,
    Route,
    System,
    detail,
    digest,
    error,
)

CODE = "register"
SCHEMA = (
    Path(__file__).resolve().parents[2]
    / "integration"
    / "contracts"
    / "federal-register-fact.schema.json"
)
MAX_FACTS = 500
TYPES = {
    "object": "объект",
    "array": "список",
    "string": "строка",
    "integer": "целое число",
    "boolean": "true или false",
    "null": "null",
}


@functools.cache
def validator() -> Draft202012Validator:
    """Return the validator of the fact contract, dates checked."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _problems(exc: ValidationError) -> Iterator[dict[str, str]]:
    where = list(exc.absolute_path)
    value = exc.validator_value
    kind = exc.validator
    if kind == "required":
        for name in value:
            if not isinstance(exc.instance, dict) or name not in exc.instance:
                yield error(_path([*where, name]), "Обязательное поле.")
        return
    if kind == "additionalProperties":
        for name in exc.instance:
            if name not in exc.schema.get("properties", {}):
                yield error(_path([*where, name]), "Неизвестное поле.")
        return
    if kind == "type":
        names = value if isinstance(value, list) else [value]
        message = "Ожидается " + " или ".join(TYPES.get(n, n) for n in names) + "."
    elif kind in ("enum", "const"):
        allowed = value if kind == "enum" else [value]
        message = "Допустимые значения: " + ", ".join(map(str, allowed)) + "."
    elif kind == "format":
        message = "Дата в виде ГГГГ-ММ-ДД."
    elif kind == "pattern":
        message = f"Неверный формат (ожидается {value})."
    elif kind == "minLength":
        message = "Не может быть пустым."
    elif kind == "maxLength":
        message = f"Не длиннее {value} символов."
    elif kind == "minimum":
        message = f"Не меньше {value}."
    else:
        message = exc.message
    yield error(_path(where) or DOCUMENT, message)


def fact_errors(fact: Any) -> list[dict[str, str]]:
    """Return every fault of a fact against its contract, sorted by field."""
    found = [p for exc in validator().iter_errors(fact) for p in _problems(exc)]
    return sorted(found, key=lambda p: p["field"])


class Register(Peer):
    """The federal register: takes facts of assigned measures, keeps their latest versions."""

    name = "register"
    routes = (
        Route("POST", "v1/facts", "facts_receive", "v1/facts"),
        Route("GET", r"v1/facts/(?P<id>[^/]+)", "fact_read", "v1/facts/{id}"),
    )

    def __init__(self, *, secrets: dict[str, str], faults: Faults, seed: int | None = None) -> None:
        system = System(code=CODE, prefix="", secret=secrets[CODE], faults=faults)
        super().__init__(systems=[system], seed=seed)
        validator()  # read the contract at start: a missing file stops the peer, not a request
        # fact id: (latest version, its fact); and a digest of every version received.
        self.latest: dict[str, tuple[int, dict[str, Any]]] = {}
        self.versions: dict[tuple[str, int], str] = {}

    def facts_receive(self, system: System, call: Call) -> Reply:
        """Take up to 500 facts, answering each in the order sent."""
        facts = call.object().get("facts")
        if not isinstance(facts, list):
            raise Invalid([error("facts", "Обязательное поле: список фактов.")])
        if len(facts) > MAX_FACTS:
            raise Invalid([error("facts", f"Не более {MAX_FACTS} фактов в одном запросе.")])
        system.stats.add("batches")
        return Reply(200, {"results": [self._receive(system, fact) for fact in facts]})

    def _receive(self, system: System, fact: Any) -> dict[str, Any]:
        found = fact if isinstance(fact, dict) else {}
        result = {"fact_id": found.get("fact_id"), "version": found.get("version")}
        errors = fact_errors(fact)
        fact_id, version = result["fact_id"], result["version"]
        if not errors:
            sent = self.versions.get((fact_id, version))
            if sent is not None and sent != digest(fact):
                message = "Эта версия факта уже получена с другим содержимым."
                errors = [error("version", message)]
        if errors:
            system.stats.add("rejected")
            return {**result, "status": "rejected", "errors": errors}
        system.stats.add("accepted")
        self.versions[fact_id, version] = digest(fact)
        held = self.latest.get(fact_id)
        if held is not None and held[0] > version:
            system.stats.add("ignored")
        else:
            self.latest[fact_id] = (version, fact)
        return {**result, "status": "accepted"}

    def fact_read(self, system: System, call: Call) -> Reply:
        """Return the latest version held of a fact, or 404."""
        system.stats.add("reads")
        held = self.latest.get(call.args["id"])
        if held is None:
            return detail(404, "Факт с таким идентификатором не поступал.")
        return Reply(200, held[1])
