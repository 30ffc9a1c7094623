"""Services that change the registry of recipients: persons and their relations.

Each runs in one transaction, validates with the model's own rules (so the admin, the API and
imports refuse the same things with the same messages), checks the actor's jurisdiction and
leaves a history row naming the actor.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from platform_core.batches import savepoints
from platform_core.bus import publish
from platform_core.models import User
from platform_core.scoping import ensure_in_scope, ensure_territory_allowed
from platform_core.validators import normalize_snils
from registries.enums import RelationKind
from registries.models import Person, Relation

PERSON_EDITABLE = {
    "snils",
    "last_name",
    "first_name",
    "patronymic",
    "birth_date",
    "sex",
    "death_date",
    "citizenship",
    "region_id",
    "municipality_id",
    "address",
    "fias_guid",
    "phone",
    "email",
    "bank_bic",
    "bank_account",
    "bank_card",
    "consent_proactive",
    "notification_channels",
}


def _normalized(data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - PERSON_EDITABLE
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in unknown})
    if data.get("snils"):
        try:
            data = {**data, "snils": normalize_snils(data["snils"])}
        except ValidationError as exc:
            raise ValidationError({"snils": exc.messages}) from exc
    elif "snils" in data:
        data = {**data, "snils": None}
    return data


def _save_validated(person: Person, *, actor: User | None, reason: str) -> Person:
    person.full_clean()
    person._history_user = actor  # type: ignore[attr-defined]
    person._change_reason = reason  # type: ignore[attr-defined]
    try:
        with transaction.atomic(savepoint=savepoints()):
            person.save()
    except IntegrityError as exc:
        # A concurrent registration of the same SNILS passed full_clean at the same time.
        if "person_snils_unique" in str(exc):
            raise ValidationError(
                {"snils": _("A person with this SNILS is already registered.")}
            ) from exc
        raise
    return person


def person_create(*, actor: User | None, data: dict[str, Any], reason: str = "") -> Person:
    """Register a person. Raises ValidationError naming fields, OutOfJurisdiction."""
    data = _normalized(data)
    if actor is not None:
        ensure_territory_allowed(
            user=actor,
            region_code=data.get("region_id"),
            municipality_oktmo=data.get("municipality_id"),
        )
    with transaction.atomic(savepoint=savepoints()):
        person = _save_validated(Person(**data), actor=actor, reason=reason or "created")
        publish(
            "registries.person_registered",
            {"person_id": person.pk, "region": person.region_id, "birth_date": person.birth_date},
            actor_id=actor.pk if actor else None,
        )
    return person


def person_update(
    *, person: Person, actor: User | None, changes: dict[str, Any], reason: str = ""
) -> Person:
    """Change a person's data under a row lock. Raises ValidationError, OutOfJurisdiction."""
    changes = _normalized(changes)
    if actor is not None:
        ensure_in_scope(person, user=actor, action="change")
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        before = {name: getattr(locked, name) for name in changes}
        for name, value in changes.items():
            setattr(locked, name, value)
        if actor is not None and ("region_id" in changes or "municipality_id" in changes):
            ensure_territory_allowed(
                user=actor, region_code=locked.region_id, municipality_oktmo=locked.municipality_id
            )
        changed = [name for name in changes if before[name] != getattr(locked, name)]
        if not changed:
            return locked
        _save_validated(locked, actor=actor, reason=reason or "changed")
        publish(
            "registries.person_changed",
            {"person_id": locked.pk, "fields": sorted(n.removesuffix("_id") for n in changed)},
            actor_id=actor.pk if actor else None,
        )
    return locked


def relation_create(
    *,
    actor: User | None,
    kind: str,
    basis: str,
    from_person: Person,
    to_person: Person,
    valid_from: date,
    valid_to: date | None = None,
    document: str = "",
) -> Relation:
    """Record a relation. Raises ValidationError (impossible dates), OutOfJurisdiction."""
    if actor is not None:
        ensure_in_scope(to_person, user=actor, action="change")
    relation = Relation(
        kind=kind,
        basis=basis,
        from_person=from_person,
        to_person=to_person,
        valid_from=valid_from,
        valid_to=valid_to,
        document=document,
    )
    relation.full_clean()
    relation._history_user = actor  # type: ignore[attr-defined]
    with transaction.atomic(savepoint=savepoints()):
        relation.save()
        publish(
            "registries.relation_recorded",
            {
                "relation_id": relation.pk,
                "kind": kind,
                "from_person_id": from_person.pk,
                "to_person_id": to_person.pk,
                "valid_from": valid_from,
            },
            actor_id=actor.pk if actor else None,
        )
    return relation


def relation_end(*, relation: Relation, actor: User | None, on: date, reason: str = "") -> Relation:
    """Close a relation on a date (divorce, end of guardianship). Raises ValidationError."""
    if actor is not None:
        ensure_in_scope(relation.to_person, user=actor, action="change")
    with transaction.atomic():
        locked = Relation.objects.select_for_update().get(pk=relation.pk)
        locked.valid_to = on
        locked.full_clean()
        locked._history_user = actor  # type: ignore[attr-defined]
        locked._change_reason = reason  # type: ignore[attr-defined]
        locked.save(update_fields=["valid_to"])
    return locked


__all__ = ["RelationKind", "person_create", "person_update", "relation_create", "relation_end"]
