"""Recalculation: an assignment worked out again when what it was decided on changes.

A corrected life event recalculates the assignments its original granted, as of the corrected
date; a cancelled one (the act annulled) sends them to an officer, who decides whether the
right is revoked; rules or amounts changed retroactively are applied by `manage.py
recalculate`; new or corrected incomes of a family's months that a means-tested decision
counted recalculate it from its first day. Each is a case of its own (trigger `recalculation:<assignment>:<cause>`, so a
repeated event opens nothing new), evaluated and decided like any other, with a signed
decision; deciding it replaces the assignment and keeps the difference for the treasury
(`measures.services.cases.assignment_replace`, docs/decisions.md §12).
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_noop

from measures.enums import (
    AssignmentStatus,
    CaseEntryKind,
    CaseStatus,
    DataOwner,
    RecalculationCause,
    TriggerKind,
)
from measures.models import Assignment, Case, Measure, Recalculation, RuleVersion
from measures.rules.sources import months_before
from measures.services.cases import (
    case_deadline_start,
    case_entry_add,
    case_lock,
    case_move,
    case_open,
    case_work,
    life_event_trigger_key,
)
from measures.services.entitlements import CompiledRules
from platform_core.texts import Said, said
from registries.models import LifeEvent, Relation


def assignment_current(assignment: Assignment) -> Assignment | None:
    """The assignment that stands for `assignment` now: itself, or what replaced it after
    recalculations; None when a recalculation revoked it."""
    current: Assignment | None = assignment
    while current is not None:
        applied = (
            Recalculation.objects.filter(assignment=current, applied_at__isnull=False)
            .select_related("replacement")
            .first()
        )
        if applied is None:
            return current
        current = applied.replacement
    return None


def recalculation_open(
    *,
    assignment: Assignment,
    cause: str,
    cause_key: str,
    effective_from: date,
    why: Said,
    now: datetime,
    to_officer: bool = False,
) -> Case | None:
    """Open the recalculation of an assignment (or of what replaced it) and work it; nothing
    new if opened before for that cause. `to_officer` sends it straight to an officer."""
    current = assignment_current(assignment)
    if current is None:
        return None
    opened_by = current.decision.case
    if opened_by.trigger_kind == TriggerKind.RECALCULATION and opened_by.trigger_key.endswith(
        f":{cause_key}"
    ):
        return opened_by  # the assignment is this cause's own result
    with transaction.atomic():
        case, created = case_open(
            person=current.person,
            measure=current.measure,
            trigger_kind=TriggerKind.RECALCULATION,
            trigger_key=f"recalculation:{current.pk}:{cause_key}"[:100],
            as_of=effective_from,
            now=now,
        )
        if not created:
            return case
        Recalculation.objects.create(
            assignment=current,
            case=case,
            cause=cause,
            effective_from=effective_from,
            created_at=now,
        )
        case_entry_add(case, CaseEntryKind.COMMENT, now=now, text=why)
        if to_officer:
            locked = case_lock(case.pk, allowed=[CaseStatus.OPEN])
            case_deadline_start(locked, now)
            case_move(locked, "to_review", now=now, why=why)
            return locked
    return case_work(case_id=case.pk, now=now)


def _granted_by(event: LifeEvent) -> list[Assignment]:
    """The assignments the cases of the event's correction chain granted, oldest first."""
    return list(
        Assignment.objects.filter(
            decision__case__trigger_key=life_event_trigger_key(event)
        ).order_by("pk")
    )


def recalculations_for_correction(*, life_event_id: int, now: datetime) -> list[Case]:
    """A life event was corrected: what its original granted is worked out again as of the
    corrected date."""
    event = LifeEvent.objects.filter(pk=life_event_id).first()
    if event is None or event.corrects_id is None:
        return []
    opened = []
    for assignment in _granted_by(event):
        case = recalculation_open(
            assignment=assignment,
            cause=RecalculationCause.CORRECTION,
            cause_key=f"life_event:{event.pk}",
            effective_from=event.occurred_on,
            why=said(
                gettext_noop(
                    "The life event was corrected: the right is worked out again as of %(day)s."
                ),
                day=event.occurred_on,
            ),
            now=now,
        )
        opened += [case] if case else []
    return opened


def recalculations_for_cancellation(
    *, life_event_id: int, reason: str, now: datetime
) -> list[Case]:
    """A life event was cancelled (its act annulled): what it granted goes to an officer, who
    decides whether the right is revoked from its first day."""
    event = LifeEvent.objects.filter(pk=life_event_id).first()
    if event is None:
        return []
    opened = []
    for assignment in _granted_by(event):
        case = recalculation_open(
            assignment=assignment,
            cause=RecalculationCause.CANCELLATION,
            cause_key=f"cancelled:{event.pk}",
            effective_from=assignment.active_from,
            why=said(
                gettext_noop("The life event the measure was granted on was cancelled: %(reason)s"),
                reason=reason or "-",
            ),
            now=now,
            to_officer=True,
        )
        opened += [case] if case else []
    return opened


def recalculations_for_measure(
    *, measure: Measure, effective_from: date, now: datetime, region_code: str | None = None
) -> list[Case]:
    """The rules or amounts of a measure changed from a date (retroactively too): every
    assignment running on or after it is worked out again from then."""
    assignments = (
        Assignment.objects.filter(
            measure=measure,
            status__in=[AssignmentStatus.ACTIVE, AssignmentStatus.SUSPENDED],
        )
        .filter(Q(active_to=None) | Q(active_to__gte=effective_from))
        .exclude(recalculations__applied_at__isnull=False)
        .order_by("pk")
    )
    if region_code:
        assignments = assignments.filter(region_id=region_code)
    opened = []
    for assignment in assignments:
        case = recalculation_open(
            assignment=assignment,
            cause=RecalculationCause.PARAMETERS,
            cause_key=f"parameters:{effective_from.isoformat()}",
            effective_from=max(effective_from, assignment.active_from),
            why=said(
                gettext_noop("The measure's rules changed from %(day)s."),
                day=effective_from,
            ),
            now=now,
        )
        opened += [case] if case else []
    return opened


def _income_months(version: RuleVersion) -> tuple[int, ...]:
    """How many months before its date each income fact of a rule version counts."""
    compiled = CompiledRules.of(version)
    return tuple(
        sorted(
            {
                int(args.get("months") or next(p.default for p in fact.params))
                for rule in compiled.rules()
                for fact, args in rule.facts.values()
                if fact.owner == DataOwner.TAX_SERVICE
            }
        )
    )


def recalculations_for_incomes(
    *, person_id: int, months: list[date], key: str, recorded_at: datetime, now: datetime
) -> list[Case]:
    """A person's incomes of some months were recorded or changed: every running assignment
    of them or of their family (by a relation) decided before that on a rule counting one of
    those months is worked out again from its first day. One that changes nothing closes."""
    related = {person_id}
    for from_id, to_id in Relation.objects.filter(
        Q(from_person_id=person_id) | Q(to_person_id=person_id), valid_to=None
    ).values_list("from_person_id", "to_person_id"):
        related |= {from_id, to_id}
    assignments = (
        Assignment.objects.filter(
            person_id__in=related,
            status__in=[AssignmentStatus.ACTIVE, AssignmentStatus.SUSPENDED],
            decision__decided_at__lt=recorded_at,  # a decision after it counted it already
            decision__rule_version__isnull=False,
        )
        .exclude(recalculations__applied_at__isnull=False)
        .select_related("decision__case", "decision__rule_version")
        .order_by("pk")
    )
    opened = []
    counts: dict[int, tuple[int, ...]] = {}  # months counted, per rule version
    for assignment in assignments:
        version = assignment.decision.rule_version
        if version.pk not in counts:
            counts[version.pk] = _income_months(version)
        as_of = assignment.decision.case.as_of
        counted = any(
            months_before(as_of, n) <= month < months_before(as_of, 0)
            for n in counts[version.pk]
            for month in months
        )
        if not counted:
            continue
        case = recalculation_open(
            assignment=assignment,
            cause=RecalculationCause.INCOME,
            cause_key=f"income:{key}",
            effective_from=assignment.active_from,
            why=said(
                gettext_noop(
                    "Income data the right was decided on changed: it is worked out again."
                )
            ),
            now=now,
        )
        opened += [case] if case else []
    return opened
