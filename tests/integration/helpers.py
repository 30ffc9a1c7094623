"""Signed requests and documents of the inbound contracts, for tests."""

from __future__ import annotations

import json
import time
from typing import Any

from integration.enums import Scope, SystemKind
from integration.models import ExternalSystem
from integration.signing import signature

CIVIL = "/api/v1/integration/civil-registry/events"
# The language the test client asks answers in: Russian, the platform's default, unless a
# test uses `english_messages`.
LANGUAGE = ["ru"]


def make_system(code: str = "zags-27", scopes: list[str] | None = None) -> ExternalSystem:
    return ExternalSystem.objects.create(
        code=code,
        name=f"Test system {code}",
        kind=SystemKind.CIVIL_REGISTRY,
        scopes=scopes if scopes is not None else list(Scope.values),
    )


def signed_headers(
    system: ExternalSystem, body: bytes, *, timestamp: float | None = None, secret: str = ""
) -> dict[str, str]:
    """The signature headers, and the answers' language (tests/integration/conftest.py)."""
    stamp = str(int(timestamp if timestamp is not None else time.time()))
    headers = {
        "X-System": system.code,
        "X-Timestamp": stamp,
        "X-Signature": signature(secret or system.secret, stamp, body),
    }
    headers["Accept-Language"] = LANGUAGE[0]
    return headers


def post(client, path: str, document: Any, system: ExternalSystem, **options: Any):  # type: ignore[no-untyped-def]
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return client.post(
        path,
        data=body,
        content_type="application/json",
        headers=signed_headers(system, body, **options),
    )


def get(client, path: str, system: ExternalSystem):  # type: ignore[no-untyped-def]
    return client.get(path, headers=signed_headers(system, b""))


def person(
    last: str,
    first: str,
    born: str,
    *,
    snils: str | None = None,
    sex: str | None = None,
    patronymic: str | None = None,
) -> dict[str, Any]:
    found: dict[str, Any] = {"name": {"last": last, "first": first}, "birth_date": born}
    if patronymic:
        found["name"]["patronymic"] = patronymic
    if snils:
        found["snils"] = snils
    if sex:
        found["sex"] = sex
    return found


def act(event_id: str, kind: str, occurred_on: str, subjects: dict[str, Any], **extra: Any) -> dict:
    return {
        "event_id": event_id,
        "type": kind,
        "act": {
            "number": f"A-{event_id}",
            "date": extra.pop("act_date", occurred_on),
            "office_code": "2700",
            "region_code": "27",
        },
        "occurred_on": occurred_on,
        "subjects": subjects,
        **extra,
    }


def birth(
    event_id: str, mother: dict, child: dict, father: dict | None = None, **extra: Any
) -> dict:
    subjects = {"child": child, "mother": mother}
    if father:
        subjects["father"] = father
    return act(event_id, "birth", child["birth_date"], subjects, **extra)
