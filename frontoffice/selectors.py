"""What a citizen may see: themselves and the persons they legally represent (a ward under
guardianship, a child under 18), and of those persons only what the portal shows."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from contact_center.enums import NotificationChannel
from contact_center.models import Notification
from measures.enums import CaseEntryKind, CaseStatus
from measures.models import Assignment, Case
from measures.rules.plain import explanation_plain
from registries.enums import RelationKind
from registries.models import Person, Relation
from registries.selectors import age_on
from treasury.models import Payment

ADULT = 18


def persons_represented(person: Person, *, on: date) -> list[Person]:
    """The person, then whom they represent on the date: wards by a representation, children
    under 18 by parenthood (alive), oldest first."""
    relations = (
        Relation.objects.filter(from_person=person, to_person__death_date=None)
        .filter(Q(valid_to=None) | Q(valid_to__gte=on), valid_from__lte=on)
        .filter(kind__in=[RelationKind.REPRESENTATIVE, RelationKind.PARENT])
        .select_related("to_person")
    )
    wards = {
        r.to_person.pk: r.to_person
        for r in relations
        if r.kind == RelationKind.REPRESENTATIVE or age_on(r.to_person.birth_date, on) < ADULT
    }
    return [person, *sorted(wards.values(), key=lambda p: (p.birth_date, p.pk))]


def offers_of(person: Person) -> QuerySet[Case]:
    """Measures found for the person that need their consent or one application."""
    return (
        Case.objects.filter(person=person, status=CaseStatus.OFFERED)
        .select_related("measure")
        .order_by("-opened_at")
    )


def cases_of(person: Person) -> QuerySet[Case]:
    return Case.objects.filter(person=person).select_related("measure").order_by("-opened_at")


def assignments_of(person: Person) -> QuerySet[Assignment]:
    return (
        Assignment.objects.filter(person=person)
        .select_related("measure", "decision")
        .order_by("-active_from", "-pk")
    )


def payments_of(person: Person) -> QuerySet[Payment]:
    return Payment.objects.filter(person=person).select_related("measure").order_by("-created_at")


def inbox_of(person: Person) -> QuerySet[Notification]:
    return Notification.objects.filter(person=person, channel=NotificationChannel.PORTAL).order_by(
        "-created_at"
    )


def case_explained(case: Case) -> dict[str, Any] | None:
    """The case's explanation in plain words: its decision's, else its last evaluation's."""
    decision = getattr(case, "decision", None)
    if decision is not None:
        return explanation_plain(decision.explanation)
    entry = case.entries.filter(kind=CaseEntryKind.EVALUATED).order_by("-at").first()
    return explanation_plain(entry.data) if entry else None
