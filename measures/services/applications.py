"""Applications: one per measure at a time, filed by the person or a legal representative,
from any channel; submitting one works its case at once (docs/decisions.md §12).

A measure offered after a life event already has its case: the application joins it and the
case is decided. A second application while one is open is refused with a pointer to the
first one's case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from measures.enums import ApplicationStatus, CaseEntryKind, CaseStatus, Outcome, TriggerKind
from measures.models import Application, Case, Measure
from measures.selectors import measures_in_force
from measures.services.cases import (
    case_entry_add,
    case_evaluate,
    case_lock,
    case_move,
    case_open,
    case_work,
    decision_take,
)
from platform_core.errors import Conflict, DomainError
from platform_core.texts import said
from registries.enums import RelationKind
from registries.models import Person, Relation
from registries.selectors import age_on

ADULT = 18


class NotRepresentative(DomainError):
    status = 403
    code = "not_representative"


class DuplicateApplication(Conflict):
    code = "duplicate_application"

    def __init__(self, existing: Application):
        super().__init__(
            _("An application for this measure is open already (case %(case)s).")
            % {"case": existing.case_id or "-"},
            field="measure",
        )
        self.existing = existing


def may_act_for(*, applicant: Person, person: Person, on: Any) -> bool:
    """Tell whether applicant may apply for person: themselves, a legal representative, or a
    parent of a minor."""
    if applicant.pk == person.pk:
        return True
    relations = Relation.objects.filter(from_person=applicant, to_person=person).filter(
        Q(valid_to=None) | Q(valid_to__gte=on)
    )
    if relations.filter(kind=RelationKind.REPRESENTATIVE).exists():
        return True
    return (
        age_on(person.birth_date, on) < ADULT
        and relations.filter(kind=RelationKind.PARENT).exists()
    )


def application_create(
    *,
    person: Person,
    applicant: Person,
    measure: Measure,
    channel: str,
    now: datetime,
    answers: dict[str, Any] | None = None,
    recorded_by: Any = None,
) -> Application:
    """A draft application. Raises NotRepresentative, DuplicateApplication or Conflict."""
    today = now.date()
    if not may_act_for(applicant=applicant, person=person, on=today):
        raise NotRepresentative(
            _("%(applicant)s may not apply for %(person)s: no legal representation.")
            % {"applicant": applicant, "person": person},
            field="applicant",
        )
    if not measures_in_force(on=today, region_code=person.region_id).filter(pk=measure.pk).exists():
        raise Conflict(_("This measure is not given in the person's region now."), field="measure")
    existing = Application.objects.filter(
        person=person,
        measure=measure,
        status__in=[ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED],
    ).first()
    if existing is not None:
        raise DuplicateApplication(existing)
    try:
        with transaction.atomic():
            return Application.objects.create(
                person=person,
                applicant=applicant,
                measure=measure,
                region_id=person.region_id,
                channel=channel,
                answers=answers or {},
                created_at=now,
                recorded_by=recorded_by,
            )
    except IntegrityError:
        raise DuplicateApplication(
            Application.objects.get(
                person=person,
                measure=measure,
                status__in=[ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED],
            )
        ) from None


def application_submit(*, application: Application, now: datetime) -> Application:
    """Submit a draft: join the case that offered the measure, or open one, and work it."""
    with transaction.atomic():
        locked = (
            Application.objects.select_for_update()
            .select_related("person", "measure", "region")
            .get(pk=application.pk)
        )
        if locked.status != ApplicationStatus.DRAFT:
            raise Conflict(_("Only a draft is submitted."))
        locked.submit()
        locked.submitted_at = now
        offered = (
            Case.objects.filter(
                person=locked.person, measure=locked.measure, status=CaseStatus.OFFERED
            )
            .order_by("-opened_at")
            .first()
        )
        if offered is not None:
            locked.case = offered
            locked.save(update_fields=["status", "submitted_at", "case"])
            case = case_lock(offered.pk, allowed=[CaseStatus.OFFERED])
            case_entry_add(  # the timeline says on which channel the citizen answered
                case, CaseEntryKind.APPLIED, now=now, channel=locked.channel
            )
            evaluated = case_evaluate(case)
            if evaluated is not None and evaluated.outcome.outcome == Outcome.ELIGIBLE:
                decision_take(case=case, evaluated=evaluated, automatic=True, now=now)
            else:  # the facts changed since the offer: an officer looks
                case_move(
                    case,
                    "to_review",
                    now=now,
                    why=said(gettext_noop("The right changed since the offer.")),
                )
            return locked
        local_day = now.astimezone(ZoneInfo(locked.region.timezone)).date()
        case, _created = case_open(
            person=locked.person,
            measure=locked.measure,
            trigger_kind=TriggerKind.APPLICATION,
            trigger_key=f"application:{locked.pk}",
            as_of=local_day,
            channel=locked.channel,
            now=now,
        )
        locked.case = case
        locked.save(update_fields=["status", "submitted_at", "case"])
    case_work(case_id=case.pk, now=now)
    return locked


def application_withdraw(*, application: Application, now: datetime) -> Application:
    """Withdraw an application not decided yet; its own case closes. Raises Conflict."""
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status not in (ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED):
            raise Conflict(_("A decided or withdrawn application cannot be withdrawn."))
        locked.withdraw()
        locked.save(update_fields=["status"])
        if locked.case_id and locked.case.trigger_key == f"application:{locked.pk}":
            case = case_lock(
                locked.case_id,
                allowed=[CaseStatus.OPEN, CaseStatus.REVIEW, CaseStatus.WAITING_DATA],
            )
            case_move(
                case, "close", now=now, why=said(gettext_noop("The application was withdrawn."))
            )
    return locked
