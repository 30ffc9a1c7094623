"""An emulated civil registry (ZAGS): it registers births, deaths and marriages in the demo
region and sends them to the platform as signed events over HTTP, as a real one would.

It plays another agency: it knows the region's people because the demo's registry and its
own records are the same people, so it picks them from the platform's database (read only);
everything it sends goes through the public, signed integration API.
"""

from __future__ import annotations

import http.client
import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from faker import Faker

from integration.signing import signature
from registries.enums import RelationKind, Sex
from registries.models import Person, Relation

PATH = "/api/v1/integration/civil-registry/events"


def _person(p: Person) -> dict[str, Any]:
    name = {"last": p.last_name, "first": p.first_name}
    if p.patronymic:
        name["patronymic"] = p.patronymic
    found: dict[str, Any] = {"name": name, "birth_date": p.birth_date.isoformat(), "sex": p.sex}
    if p.snils:
        found["snils"] = p.snils
    return found


@dataclass
class CivilRegistry:
    """Makes act record events of one region."""

    region: str
    office: str = "0100"
    seed: int | None = None
    faker: Faker = field(init=False)
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.faker = Faker("ru_RU")
        self.rng = random.Random(self.seed)
        if self.seed is not None:
            self.faker.seed_instance(self.seed)

    def _act(self, kind: str, on: date, subjects: dict[str, Any]) -> dict[str, Any]:
        number = f"{self.rng.randrange(10**11):011d}"
        return {
            "event_id": str(uuid.UUID(int=self.rng.getrandbits(128))),
            "type": kind,
            "act": {
                "number": number,
                "date": on.isoformat(),
                "office_code": f"{self.region}{self.office}",
                "region_code": self.region,
            },
            "occurred_on": on.isoformat(),
            "subjects": subjects,
        }

    def births(self, count: int, on: date) -> Iterator[dict[str, Any]]:
        """Births to women of 18 to 44 of the region, with their husbands as fathers."""
        mothers = list(
            Person.objects.filter(
                region_id=self.region,
                sex=Sex.FEMALE,
                death_date__isnull=True,
                birth_date__gt=on - timedelta(days=45 * 365),
                birth_date__lte=on - timedelta(days=18 * 366),
            )
            .order_by("?")
            .values_list("pk", flat=True)[: count * 2]
        )
        for mother_id in self.rng.sample(mothers, min(count, len(mothers))):
            mother = Person.objects.get(pk=mother_id)
            marriage = (
                Relation.objects.filter(to_person=mother, kind=RelationKind.SPOUSE, valid_to=None)
                .select_related("from_person")
                .first()
            )
            father = marriage.from_person if marriage else None
            sex = self.rng.choice([Sex.MALE, Sex.FEMALE])
            first = (
                self.faker.first_name_male() if sex == Sex.MALE else self.faker.first_name_female()
            )
            subjects: dict[str, Any] = {
                "child": {
                    "name": {"last": (father or mother).last_name, "first": first},
                    "birth_date": on.isoformat(),
                    "sex": sex,
                    "region_code": self.region,
                },
                "mother": _person(mother),
                "children_in_birth": 1,
            }
            if father is not None:
                subjects["father"] = _person(father)
            yield self._act("birth", on, subjects)

    def deaths(self, count: int, on: date) -> Iterator[dict[str, Any]]:
        """Deaths of people over 75 of the region."""
        old = Person.objects.filter(
            region_id=self.region,
            death_date__isnull=True,
            birth_date__lte=on - timedelta(days=75 * 366),
        ).order_by("?")[:count]
        for deceased in old:
            yield self._act("death", on, {"deceased": _person(deceased)})


@dataclass
class Sender:
    """Posts signed documents to the platform over HTTP/1.1."""

    url: str
    system: str
    secret: str
    timeout: float = 30.0

    def post(self, path: str, document: Any) -> tuple[int, Any]:
        parts = urlsplit(self.url)
        body = json.dumps(document, ensure_ascii=False).encode()
        stamp = str(int(time.time()))
        connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port or 80, timeout=self.timeout
        )
        try:
            connection.request(
                "POST",
                parts.path.rstrip("/") + path,
                body=body,
                headers={
                    "Content-Type": "application/json",
                    "X-System": self.system,
                    "X-Timestamp": stamp,
                    "X-Signature": signature(self.secret, stamp, body),
                },
            )
            response = connection.getresponse()
            payload = response.read()
        finally:
            connection.close()
        try:
            return response.status, json.loads(payload)
        except ValueError:
            return response.status, payload.decode(errors="replace")

    def send(self, documents: list[dict[str, Any]], *, batch: int = 0) -> dict[str, int]:
        """Send each document (or batches of them); counts of the answers by status."""
        counts: dict[str, int] = {}
        if batch:
            for start in range(0, len(documents), batch):
                status, answer = self.post(
                    f"{PATH}/batch", {"events": documents[start : start + batch]}
                )
                if status != 200:
                    counts[str(status)] = counts.get(str(status), 0) + 1
                    continue
                for result in answer["results"]:
                    counts[result["status"]] = counts.get(result["status"], 0) + 1
            return counts
        for document in documents:
            status, answer = self.post(PATH, document)
            key = answer.get("status", str(status)) if isinstance(answer, dict) else str(status)
            counts[key] = counts.get(key, 0) + 1
        return counts
