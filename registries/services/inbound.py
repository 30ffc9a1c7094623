"""Apply what external systems sent to the registry of recipients.

The integration inbox (integration/services/inbox.py) stores each event once and publishes
`integration.inbound_received`; the handler here applies each stored event once, under its
row lock, and reports back with `inbound_finish`:
- civil registry acts: a birth registers the child and links the parents (matched by SNILS,
  else by name and date of birth; registered from the act when unknown), a death sets the
  date of death, a marriage, divorce, paternity or adoption records or ends relations, a
  change of name renames; each records a LifeEvent;
- disability records set or end a disability status; education records a student status.
What applying did is kept as a list of effects, so that a correction or cancellation of the
act (a later event naming it in `corrects_event_id`) undoes exactly that, and a correction
then applies its own content. Events that cannot be applied safely (an ambiguous match, a
death of an unknown person, a correction of an event not received yet) go to review with a
reason; a correction that arrives before its original waits for it and is applied after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from integration.enums import Contract, InboxStatus
from integration.models import InboundEvent
from integration.services.inbox import RECEIVED_EVENT, inbound_finish
from platform_core.batches import inserts_deferred, optimistic, savepoints
from platform_core.bus import Event, publish, subscribe
from platform_core.models import Region
from platform_core.validators import normalize_snils
from registries.enums import (
    LifeEventKind,
    RelationBasis,
    RelationKind,
    Sex,
    StatusKind,
)
from registries.models import LifeEvent, Person, PersonStatus, Relation
from registries.services.life_events import (
    life_event_cancel,
    life_event_record,
    life_event_supersede,
)
from registries.services.persons import (
    person_create,
    person_update,
    relation_create,
    relation_end,
)

logger = logging.getLogger(__name__)
DAY = timedelta(days=1)


ROLES = {
    "mother": _lazy("mother"),
    "father": _lazy("father"),
    "child": _lazy("child"),
    "deceased": _lazy("deceased"),
    "spouse_1": _lazy("first spouse"),
    "spouse_2": _lazy("second spouse"),
    "person": _lazy("person"),
}


def _role(role: str) -> str:
    """A subject's role as the officer reads it."""
    if role.startswith("adoptive_parents["):
        return _("adoptive parent %(n)d") % {"n": int(role[17:-1]) + 1}
    return str(ROLES.get(role, role))


class NeedsReview(Exception):
    """The event cannot be applied without an officer; `details` say what was found."""

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.message = message
        self.details = details


class _Applying:
    """One event being applied: its document, source and the effects it has had."""

    def __init__(self, inbound: InboundEvent):
        self.inbound = inbound
        self.document: dict[str, Any] = inbound.payload
        self.effects: list[dict[str, Any]] = []
        self.persons: dict[str, int] = {}
        # A correction's persons registered by the original, by role: the same people again.
        self.registered_before: dict[str, int] = {}

    @property
    def act(self) -> dict[str, Any]:
        return self.document.get("act", {})

    @property
    def occurred_on(self) -> date:
        return date.fromisoformat(self.document["occurred_on"])

    @property
    def basis(self) -> str:
        act = self.act
        if act:
            return _("Act record %(number)s of %(date)s, office %(office)s") % {
                "number": act["number"],
                "date": act["date"],
                "office": act["office_code"],
            }
        return f"{self.inbound.system.code}:{self.inbound.event_id}"

    # Persons

    def match(self, role: str, data: dict[str, Any]) -> Person | None:
        """The registered person the data names, if any. Raises NeedsReview if unsure."""
        birth = date.fromisoformat(data["birth_date"])
        name = data["name"]
        if data.get("snils"):
            snils = normalize_snils(data["snils"])
            found = Person.objects.filter(snils=snils).first()
            if found is not None:
                if found.birth_date != birth:
                    raise NeedsReview(
                        _("The %(role)s's SNILS belongs to a person born on another date.")
                        % {"role": _role(role)},
                        role=role,
                        candidates=[found.pk],
                    )
                return found
        same = Person.objects.filter(
            last_name__iexact=name["last"], first_name__iexact=name["first"], birth_date=birth
        )
        if name.get("patronymic"):
            same = same.filter(patronymic__iexact=name["patronymic"])
        if data.get("snils"):  # someone else's SNILS would have matched above
            same = same.filter(snils__isnull=True)
        candidates = list(same.values_list("pk", flat=True)[:5])
        if len(candidates) > 1:
            raise NeedsReview(
                _("More than one registered person matches the %(role)s.") % {"role": _role(role)},
                role=role,
                candidates=candidates,
            )
        return Person.objects.get(pk=candidates[0]) if candidates else None

    def known(self, role: str, data: dict[str, Any]) -> Person:
        person = self.match(role, data)
        if person is None:
            raise NeedsReview(
                _("The %(role)s is not in the registry.") % {"role": _role(role)}, role=role
            )
        self.persons[role] = person.pk
        return person

    def found_or_registered(
        self, role: str, data: dict[str, Any], sex: str = "", *, by_name: bool = True
    ) -> Person:
        """The person the data names, registered if new. `by_name=False` (a newborn) matches
        only a SNILS: two babies of one name and birthday are two children."""
        person = self.match(role, data) if by_name or data.get("snils") else None
        if person is None and role in self.registered_before:
            # The original registered this person: a correction fixes them, not a new one.
            name = data["name"]
            person = self.change(
                Person.objects.get(pk=self.registered_before[role]),
                {
                    "last_name": name["last"],
                    "first_name": name["first"],
                    "patronymic": name.get("patronymic", ""),
                    "birth_date": date.fromisoformat(data["birth_date"]),
                },
            )
        if person is None:
            region = data.get("region_code") or self.act.get("region_code")
            if not region or not Region.objects.filter(pk=region).exists():
                raise NeedsReview(
                    _("The %(role)s's region %(region)s is unknown.")
                    % {"role": _role(role), "region": region},
                    role=role,
                )
            if not (data.get("sex") or sex):
                raise NeedsReview(
                    _("The %(role)s's sex is not given; a person cannot be registered without.")
                    % {"role": _role(role)},
                    role=role,
                )
            name = data["name"]
            person = person_create(
                actor=None,
                data={
                    "snils": data.get("snils") or None,
                    "last_name": name["last"],
                    "first_name": name["first"],
                    "patronymic": name.get("patronymic", ""),
                    "birth_date": date.fromisoformat(data["birth_date"]),
                    "sex": data.get("sex") or sex,
                    "region_id": region,
                },
                reason=self.basis,
            )
            self.effects.append({"op": "person_created", "person": person.pk})
        self.persons[role] = person.pk
        return person

    # Changes, each recorded as an effect

    def change(self, person: Person, changes: dict[str, Any]) -> Person:
        was = {name: _plain(getattr(person, name)) for name in changes}
        updated = person_update(person=person, actor=None, changes=changes, reason=self.basis)
        now = {name: _plain(getattr(updated, name)) for name in changes}
        if was != now:
            self.effects.append(
                {"op": "person_changed", "person": person.pk, "was": was, "now": now}
            )
        return updated

    def relate(self, kind: str, basis: str, parent: Person, child: Person, since: date) -> None:
        existing = Relation.objects.filter(
            Q(from_person=parent, to_person=child)
            | Q(from_person=child, to_person=parent, kind=RelationKind.SPOUSE),
            kind=kind,
        ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=since))
        if existing.exists():
            return
        relation = relation_create(
            actor=None,
            kind=kind,
            basis=basis,
            from_person=parent,
            to_person=child,
            valid_from=since,
            document=self.basis[:200],
        )
        self.effects.append({"op": "relation_created", "relation": relation.pk})

    def end(self, relation: Relation, last_day: date) -> None:
        was = relation.valid_to
        relation_end(relation=relation, actor=None, on=last_day, reason=self.basis)
        self.effects.append({"op": "relation_ended", "relation": relation.pk, "was": _plain(was)})

    def record(self, person: Person, kind: str, details: dict[str, Any] | None = None) -> None:
        event, created = life_event_record(
            person=person,
            kind=kind,
            occurred_on=self.occurred_on,
            learned_at=self.inbound.received_at,
            source_system=self.inbound.system.code,
            source_event_id=self.inbound.event_id,
            act=self.act,
            details=details,
        )
        if created:
            self.effects.append({"op": "life_event", "life_event": event.pk})

    def status(self, person: Person, kind: str, since: date, **fields: Any) -> None:
        status = PersonStatus(
            person=person,
            kind=kind,
            valid_from=since,
            source=self.inbound.system.code,
            **fields,
        )
        status.full_clean()
        status.save()
        self.effects.append({"op": "status_created", "status": status.pk})

    def end_statuses(self, person: Person, kind: str, last_day: date) -> int:
        ended = 0
        for status in PersonStatus.objects.select_for_update().filter(
            Q(valid_to__isnull=True) | Q(valid_to__gt=last_day),
            person=person,
            kind=kind,
            valid_from__lte=last_day,
        ):
            self.effects.append(
                {"op": "status_ended", "status": status.pk, "was": _plain(status.valid_to)}
            )
            status.valid_to = last_day
            status.save(update_fields=["valid_to"])
            ended += 1
        return ended


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{name}: {' '.join(m)}" for name, m in exc.message_dict.items())
    return " ".join(exc.messages)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


# Civil registry acts


def _same_child(mother: Person, data: dict[str, Any]) -> int | None:
    """A child of the mother already registered under this name and birthday (a second act
    for the same birth), if any."""
    name = data["name"]
    return (
        Relation.objects.filter(
            from_person=mother,
            kind=RelationKind.PARENT,
            to_person__first_name__iexact=name["first"],
            to_person__birth_date=date.fromisoformat(data["birth_date"]),
        )
        .values_list("to_person_id", flat=True)
        .first()
    )


def _birth(a: _Applying) -> None:
    subjects = a.document["subjects"]
    mother = a.found_or_registered("mother", subjects["mother"], Sex.FEMALE)
    father = (
        a.found_or_registered("father", subjects["father"], Sex.MALE)
        if "father" in subjects
        else None
    )
    twin = _same_child(mother, subjects["child"])
    if twin is not None and twin != a.registered_before.get("child"):
        raise NeedsReview(
            _("The mother already has a child of that name born that day."),
            role="child",
            candidates=[twin],
        )
    child = a.found_or_registered("child", subjects["child"], by_name=False)
    for parent in (mother, father):
        if parent is not None:
            a.relate(RelationKind.PARENT, RelationBasis.BIRTH, parent, child, child.birth_date)
    a.record(
        child,
        LifeEventKind.BIRTH,
        {
            "children_in_birth": subjects.get("children_in_birth", 1),
            "mother_id": mother.pk,
            "father_id": father.pk if father else None,
        },
    )


def _death(a: _Applying) -> None:
    deceased = a.known("deceased", a.document["subjects"]["deceased"])
    a.change(deceased, {"death_date": a.occurred_on})
    a.record(deceased, LifeEventKind.DEATH)


def _marriage(a: _Applying) -> None:
    subjects = a.document["subjects"]
    first = a.found_or_registered("spouse_1", subjects["spouse_1"])
    second = a.found_or_registered("spouse_2", subjects["spouse_2"])
    a.relate(RelationKind.SPOUSE, RelationBasis.MARRIAGE, first, second, a.occurred_on)
    for spouse, other in ((first, second), (second, first)):
        a.record(spouse, LifeEventKind.MARRIAGE, {"spouse_id": other.pk})


def _divorce(a: _Applying) -> None:
    subjects = a.document["subjects"]
    first = a.known("spouse_1", subjects["spouse_1"])
    second = a.known("spouse_2", subjects["spouse_2"])
    marriage = (
        Relation.objects.filter(
            Q(from_person=first, to_person=second) | Q(from_person=second, to_person=first),
            kind=RelationKind.SPOUSE,
            valid_from__lt=a.occurred_on,
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=a.occurred_on))
        .first()
    )
    if marriage is None:
        raise NeedsReview(_("No marriage of these two persons is in force on that date."))
    a.end(marriage, a.occurred_on - DAY)
    for spouse, other in ((first, second), (second, first)):
        a.record(spouse, LifeEventKind.DIVORCE, {"spouse_id": other.pk})


def _paternity(a: _Applying) -> None:
    subjects = a.document["subjects"]
    child = a.known("child", subjects["child"])
    father = a.found_or_registered("father", subjects["father"], Sex.MALE)
    a.relate(RelationKind.PARENT, RelationBasis.PATERNITY, father, child, child.birth_date)
    a.record(child, LifeEventKind.PATERNITY, {"father_id": father.pk})


def _adoption(a: _Applying) -> None:
    subjects = a.document["subjects"]
    child = a.known("child", subjects["child"])
    parents = [
        a.found_or_registered(f"adoptive_parents[{index}]", data)
        for index, data in enumerate(subjects["adoptive_parents"])
    ]
    for parent in parents:
        a.relate(RelationKind.PARENT, RelationBasis.ADOPTION, parent, child, a.occurred_on)
    a.record(child, LifeEventKind.ADOPTION, {"parent_ids": [p.pk for p in parents]})


def _name_change(a: _Applying) -> None:
    subjects = a.document["subjects"]
    person = a.known("person", subjects["person"])
    new = subjects["new_name"]
    old = {"last": person.last_name, "first": person.first_name, "patronymic": person.patronymic}
    a.change(
        person,
        {
            "last_name": new["last"],
            "first_name": new["first"],
            "patronymic": new.get("patronymic", ""),
        },
    )
    a.record(person, LifeEventKind.NAME_CHANGE, {"old_name": old, "new_name": new})


# Disability and education records


def _disability(a: _Applying) -> None:
    person = a.known("person", a.document["person"])
    if a.document["type"] == "removed":
        if not a.end_statuses(person, StatusKind.DISABILITY, a.occurred_on - DAY):
            raise NeedsReview(_("The person has no disability in force to remove."))
        a.record(person, LifeEventKind.DISABILITY_REMOVED)
        return
    disability = a.document["disability"]
    since = date.fromisoformat(disability["valid_from"])
    a.end_statuses(person, StatusKind.DISABILITY, since - DAY)
    a.status(
        person,
        StatusKind.DISABILITY,
        since,
        valid_to=_day(disability.get("valid_to")),
        disability_group=disability["group"],
        from_childhood=disability.get("from_childhood", False),
        basis=disability.get("basis", "")[:200],
    )
    a.record(
        person,
        LifeEventKind.DISABILITY_ESTABLISHED,
        {"group": disability["group"], "extended": a.document["type"] == "extended"},
    )


def _education(a: _Applying) -> None:
    person = a.known("person", a.document["person"])
    school = a.document["school"]
    if a.document["type"] == "left":
        if not a.end_statuses(person, StatusKind.STUDENT, a.occurred_on):
            raise NeedsReview(_("The person is not recorded as enrolled anywhere."))
        return
    if not school.get("full_time", True):
        return  # only full-time study is a status the measures use
    a.end_statuses(person, StatusKind.STUDENT, a.occurred_on - DAY)
    a.status(
        person,
        StatusKind.STUDENT,
        a.occurred_on,
        basis=f"{school['name']} ({school['inn']}, {school['level']})"[:200],
    )


APPLIERS: dict[tuple[str, str], Callable[[_Applying], None]] = {
    (Contract.CIVIL_REGISTRY_EVENT, "birth"): _birth,
    (Contract.CIVIL_REGISTRY_EVENT, "death"): _death,
    (Contract.CIVIL_REGISTRY_EVENT, "marriage"): _marriage,
    (Contract.CIVIL_REGISTRY_EVENT, "divorce"): _divorce,
    (Contract.CIVIL_REGISTRY_EVENT, "paternity"): _paternity,
    (Contract.CIVIL_REGISTRY_EVENT, "adoption"): _adoption,
    (Contract.CIVIL_REGISTRY_EVENT, "name_change"): _name_change,
    **{(Contract.DISABILITY_EVENT, t): _disability for t in ("established", "extended", "removed")},
    **{(Contract.EDUCATION_EVENT, t): _education for t in ("enrolled", "left")},
}


# Undoing an applied event (a correction or cancellation of it)


def _undo(original: InboundEvent, reason: str) -> list[int]:
    """Undo the effects of an applied event, newest first; return its life events' ids.

    Raises NeedsReview where the registry changed since in a way the undo would overwrite.
    """
    life_events = []
    for effect in reversed(original.result.get("effects", [])):
        op = effect["op"]
        if op == "life_event":
            life_events.append(effect["life_event"])
        elif op == "relation_created":
            Relation.objects.filter(pk=effect["relation"]).delete()
        elif op == "relation_ended":
            relation = Relation.objects.select_for_update().filter(pk=effect["relation"]).first()
            if relation is not None:
                relation.valid_to = _day(effect["was"])
                relation._change_reason = reason  # type: ignore[attr-defined]
                relation.save(update_fields=["valid_to"])
        elif op == "person_changed":
            person = Person.objects.get(pk=effect["person"])
            current = {name: _plain(getattr(person, name)) for name in effect["now"]}
            if current != effect["now"]:
                raise NeedsReview(
                    _("The person's data changed after the corrected event; review the change."),
                    person=person.pk,
                )
            was = {
                name: _day(value) if name.endswith("_date") else value
                for name, value in effect["was"].items()
            }
            person_update(person=person, actor=None, changes=was, reason=reason)
        elif op == "status_created":
            PersonStatus.objects.filter(pk=effect["status"]).delete()
        elif op == "status_ended":
            PersonStatus.objects.filter(pk=effect["status"]).update(valid_to=_day(effect["was"]))
        # person_created: the person stays (their history and ids are kept); the ties that
        # the event made are gone.
    return life_events


def _supersede(originals: list[int], applying: _Applying, reason: str) -> None:
    """Mark the original's life events corrected by the new ones of the same person and
    kind, or cancelled where the correction has none."""
    new = {
        (e.person_id, e.kind): e
        for e in LifeEvent.objects.filter(
            pk__in=[x["life_event"] for x in applying.effects if x["op"] == "life_event"]
        )
    }
    for old in LifeEvent.objects.select_for_update().filter(pk__in=originals):
        replacement = new.get((old.person_id, old.kind))
        if replacement is None:
            life_event_cancel(event=old, reason=reason)
            continue
        life_event_supersede(original=old, correction=replacement)


def _apply(inbound: InboundEvent) -> dict[str, Any]:
    applying = _Applying(inbound)
    corrects = inbound.corrects_event_id
    original = None
    if corrects:
        original = (
            InboundEvent.objects.select_for_update(of=("self",))
            .filter(system=inbound.system, event_id=corrects)
            .first()
        )
        if original is None or original.status == InboxStatus.RECEIVED:
            raise NeedsReview(
                _(
                    "It corrects event %(id)s, which has not been received yet; it will be "
                    "applied after it."
                )
                % {"id": corrects},
                waiting_for=corrects,
            )
        if original.status != InboxStatus.APPLIED or original.contract != inbound.contract:
            raise NeedsReview(
                _("It corrects event %(id)s, which was not applied (%(status)s).")
                % {"id": corrects, "status": original.get_status_display()}
            )
    reason = _("Corrected by %(id)s") % {"id": inbound.event_id}
    undone = _undo(original, reason) if original is not None else []
    if original is not None:
        created = {
            e["person"] for e in original.result.get("effects", []) if e["op"] == "person_created"
        }
        applying.registered_before = {
            role: pk for role, pk in original.result.get("persons", {}).items() if pk in created
        }
    if not inbound.cancelled:
        applier = APPLIERS[(inbound.contract, inbound.event_type)]
        applier(applying)
    if original is not None:
        _supersede(undone, applying, reason)
        original.result = {**original.result, "superseded_by": inbound.event_id}
        original.save(update_fields=["result"])
    return {"effects": applying.effects, "persons": applying.persons}


def inbound_apply(pk: int) -> InboundEvent | None:
    """Apply one stored event once; then the corrections that were waiting for it."""
    with transaction.atomic(savepoint=savepoints()):
        inbound = (
            InboundEvent.objects.select_for_update(of=("self",))
            .select_related("system")
            .filter(pk=pk)
            .first()
        )
        if inbound is None or inbound.status != InboxStatus.RECEIVED:
            return inbound
        try:
            with transaction.atomic(savepoint=savepoints()):
                result = _apply(inbound)
        except NeedsReview as exc:
            if not savepoints():
                raise  # an optimistic batch fails; applied alone, it is recorded here
            inbound_finish(
                inbound=inbound, status=InboxStatus.REVIEW, result=exc.details, problem=exc.message
            )
            return inbound
        except ValidationError as exc:
            if not savepoints():
                raise
            # The registry refused the change (a date of death before birth...): an officer
            # sees the registry's own message.
            inbound_finish(inbound=inbound, status=InboxStatus.REVIEW, problem=_messages(exc))
            return inbound
        inbound_finish(inbound=inbound, status=InboxStatus.APPLIED, result=result)
        waiting = list(
            InboundEvent.objects.filter(
                system=inbound.system,
                corrects_event_id=inbound.event_id,
                status=InboxStatus.REVIEW,
                result__waiting_for=inbound.event_id,
            ).values_list("pk", flat=True)
        )
        InboundEvent.objects.filter(pk__in=waiting).update(status=InboxStatus.RECEIVED)
    for later in waiting:
        inbound_apply(later)
    return inbound


@subscribe(RECEIVED_EVENT, name="registries.apply_inbound")
def apply_inbound(event: Event) -> None:
    """Apply each event of a received request; one failing does not hold up the others.

    A request of more than EVENTS_BATCH_SIZE events is applied a batch at a time: the rest
    are announced again, in batches, for the other worker processes. What the events
    publish is written together at the end (platform_core.batches).
    """
    ids, size = event.payload["ids"], settings.EVENTS_BATCH_SIZE
    with transaction.atomic(), inserts_deferred():
        for start in range(size, len(ids), size):
            publish(RECEIVED_EVENT, {**event.payload, "ids": ids[start : start + size]})
        _apply_each(ids[:size])


def _apply_each(ids: list[int]) -> None:
    if len(ids) > 1:  # optimistically, all at once (platform_core.batches)
        try:
            with transaction.atomic(), optimistic():
                for pk in ids:
                    inbound_apply(pk)
            return
        except Exception as exc:  # one is for review, or failed: each alone, as below
            logger.info("Applying %s inbound events at once failed (%s): one by one", len(ids), exc)
    for pk in ids:
        try:
            inbound_apply(pk)
        except Exception as exc:  # recorded on the event, retried by an operator's replay
            logger.exception("Inbound event %s failed", pk)
            with transaction.atomic():
                inbound = InboundEvent.objects.select_for_update().get(pk=pk)
                if inbound.status == InboxStatus.RECEIVED:
                    inbound_finish(
                        inbound=inbound, status=InboxStatus.FAILED, problem=repr(exc)[:2000]
                    )
