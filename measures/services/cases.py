"""The proactive pipeline: a life event opens cases, the rules decide, decisions are signed
and measures assigned. Every change of a case's status happens here, under the case's row
lock, and is written to its timeline.

A recorded life event gives the measures it triggers in the person's region; each measure
names who is concerned (the person, a parent...); one case is opened per (person, measure,
trigger), idempotently, so a re-delivered event opens nothing new. A case is evaluated as of
the event's date: a definite right to a proactive measure is decided and assigned at once; a
measure that needs an application is offered; a right that depends on missing data waits for
it (docs/decisions.md §12).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from integration.enums import DataKind
from integration.models import DataRequest
from integration.models.interagency import IN_FLIGHT
from integration.services.interagency import InvalidDataRequest, NoProvider, data_request
from measures.enums import (
    OPEN_CASE_STATUSES,
    ApplicationStatus,
    AssignmentMode,
    AssignmentStatus,
    CaseEntryKind,
    CaseStatus,
    DataOwner,
    DecisionOutcome,
    MeasureLevel,
    Outcome,
    PayeeRole,
    ProvisionKind,
    RecalculationCause,
    TriggerKind,
)
from measures.models import Assignment, Case, CaseEntry, Decision, Measure, Recalculation
from measures.rules import rule_evaluate
from measures.rules.sources import PersonFactSource, months_before
from measures.selectors import measures_in_force, rule_version_in_force
from measures.services.dues import amount_due
from measures.services.entitlements import (
    CompiledRules,
    MeasureOutcome,
    measure_evaluate,
    money,
)
from platform_core.batches import insert_deferred, inserts_deferred, optimistic, savepoints
from platform_core.bus import publish
from platform_core.calendar import deadline_at
from platform_core.errors import Conflict
from platform_core.models import Region
from platform_core.signing import sign
from platform_core.texts import Said, said
from registries.enums import LifeEventKind, LifeEventStatus, RelationKind, Sex
from registries.models import LifeEvent, Person, Relation
from registries.selectors import family_as_of

CASE_DECIDED_EVENT = "measures.case_decided"
CASE_OFFERED_EVENT = "measures.case_offered"
CASE_CLOSED_EVENT = "measures.case_closed"
ASSIGNMENT_EVENT = "measures.assignment_changed"
RECALCULATED_EVENT = "measures.assignment_recalculated"
PERIODIC = [ProvisionKind.CASH_MONTHLY, ProvisionKind.CASH_QUARTERLY, ProvisionKind.CASH_ANNUAL]

T = TypeVar("T")
# What a batch of life events' cases (cases_for_life_events, one transaction) looks up once
# rather than per case: measures and rule versions in force, regions, deadlines; and the
# cases it opened. None outside a batch.
_batch: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar("cases_batch", default=None)


def _memo(key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    memo = _batch.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]  # type: ignore[no-any-return]


def _opened_in_batch(case: Case) -> bool:
    """A case this batch's transaction opened: no one else can see it yet, nor lock it, nor
    have applied for it."""
    memo = _batch.get()
    return memo is not None and ("opened", case.pk) in memo


def case_entry_add(
    case: Case,
    kind: str,
    *,
    now: datetime,
    text: str | Said = "",
    data: dict[str, Any] | None = None,
    actor: Any = None,
    channel: str = "",
    from_status: str = "",
    to_status: str = "",
) -> CaseEntry:
    """Add a line to the case's timeline. A `Said` text is kept as its msgid and parameters
    too (data["said"]), so each reader sees it in their language."""
    data = dict(data or {})
    if isinstance(text, Said):
        data["said"] = text.as_json()
    entry = CaseEntry(
        case=case,
        kind=kind,
        at=now,
        text=str(text),
        data=data,
        actor=actor,
        channel=channel,
        from_status=from_status,
        to_status=to_status,
    )
    if not insert_deferred(entry):  # in a batch, written with the batch's other lines
        entry.save(force_insert=True)
    return entry


def case_move(
    case: Case, transition: str, *, now: datetime, why: str | Said, actor: Any = None
) -> None:
    """Apply a declared transition to a locked case and log it."""
    before = case.status
    getattr(case, transition)()
    case.summary = str(why)
    if case.status not in OPEN_CASE_STATUSES:
        case.closed_at = now
        # The data other agencies gave for it may be erased sooner (integration listens).
        publish(CASE_CLOSED_EVENT, {"case_ref": case_ref(case)})
    case.save(
        update_fields=["status", "summary", "closed_at", "data_complete_at", "decision_due_at"]
    )
    case_entry_add(  # the status-change log is the timeline
        case,
        CaseEntryKind.STATUS,
        now=now,
        actor=actor,
        text=why,
        from_status=before,
        to_status=case.status,
    )


def persons_concerned(*, measure: Measure, person: Person) -> list[Person]:
    """Whom a measure triggered by an event of person concerns, in the order to consider."""
    if measure.payee_role == PayeeRole.PERSON:
        return [person]
    if measure.payee_role == PayeeRole.PARENT:
        kinds = [RelationKind.PARENT]
    else:
        kinds = [RelationKind.REPRESENTATIVE]
    found = [
        r.from_person
        for r in Relation.objects.filter(to_person=person, kind__in=kinds, valid_to=None)
        .select_related("from_person")
        .order_by("from_person_id")
    ]
    alive = [p for p in found if p.death_date is None]
    return sorted(alive, key=lambda p: (p.sex != Sex.FEMALE, p.pk))  # the mother first


def case_open(
    *,
    person: Person,
    measure: Measure,
    trigger_kind: str,
    trigger_key: str,
    as_of: date,
    now: datetime,
    life_event: LifeEvent | None = None,
    channel: str = "",
) -> tuple[Case, bool]:
    """The case of (person, measure, trigger): the existing one, or a new one (True)."""
    memo = _batch.get()
    if memo is not None and trigger_key in memo[("looked_up",)]:  # the batch's, read at once
        existing = memo.get(("case", person.pk, measure.pk, trigger_key))
    else:
        existing = Case.objects.filter(
            person=person, measure=measure, trigger_key=trigger_key
        ).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic(savepoint=savepoints()):
            case = Case.objects.create(
                person=person,
                measure=measure,
                region_id=person.region_id,
                trigger_kind=trigger_kind,
                trigger_key=trigger_key,
                life_event=life_event,
                as_of=as_of,
                channel=channel,
                opened_at=now,
            )
    except IntegrityError:  # opened by a concurrent delivery a moment ago
        if not savepoints():
            raise  # the batch fails; this event alone, with savepoints, comes here again
        return Case.objects.get(person=person, measure=measure, trigger_key=trigger_key), False
    case_entry_add(case, CaseEntryKind.OPENED, now=now, channel=channel, text=str(measure.name))
    if memo is not None:
        memo[("opened", case.pk)] = case
    return case, True


def life_event_trigger_key(event: LifeEvent) -> str:
    """The trigger of the cases a life event opens. A corrected event keeps its original's
    (the first of its correction chain): its cases are the original's, found again rather
    than opened twice; what the correction changes is for recalculation."""
    root = event
    while root.corrects_id is not None:
        root = LifeEvent.objects.get(pk=root.corrects_id)
    return f"life_event:{root.pk}"


def cases_for_life_event(*, life_event_id: int, now: datetime) -> list[Case]:
    """Open and work the cases a recorded life event triggers; nothing new if done before."""
    return cases_for_life_events(life_event_ids=[life_event_id], now=now)


def cases_for_life_events(*, life_event_ids: list[int], now: datetime) -> list[Case]:
    """Open and work the cases recorded life events trigger, in the order given."""
    found = LifeEvent.objects.select_related("person").in_bulk(life_event_ids)
    events = [
        (found[pk], life_event_trigger_key(found[pk]))
        for pk in life_event_ids
        if pk in found and found[pk].status == LifeEventStatus.ACTIVE
    ]
    keys = {key for _event, key in events}
    memo: dict[tuple[Any, ...], Any] = {("looked_up",): keys}
    for case in Case.objects.filter(trigger_key__in=keys):  # worked before, if delivered again
        memo[("case", case.person_id, case.measure_id, case.trigger_key)] = case
    worked = []
    token = _batch.set(memo)
    try:
        # Many at once without savepoints: a failure fails the batch, and the bus then works
        # each event alone, with savepoints, where it is handled (platform_core.batches).
        with transaction.atomic(), inserts_deferred(), optimistic(len(events) > 1):
            for event, key in events:
                worked.extend(_cases_triggered(event, trigger_key=key, now=now))
    finally:
        _batch.reset(token)
    return worked


def cases_for_correction(*, life_event_id: int, now: datetime) -> list[Case]:
    """A life event was corrected: the measures its earlier versions gave nobody (no right
    then, or not in force on the date it had) are tried again as of the corrected one, as
    cases of the correction. What they gave is for recalculation."""
    event = LifeEvent.objects.select_related("person").filter(pk=life_event_id).first()
    if event is None or event.corrects_id is None or event.status != LifeEventStatus.ACTIVE:
        return []
    root_key = life_event_trigger_key(event)
    given = (
        Case.objects.filter(Q(trigger_key=root_key) | Q(trigger_key__startswith=f"{root_key}:"))
        .exclude(status=CaseStatus.NO_RIGHT)
        .values_list("measure_id", flat=True)
    )
    return _cases_triggered(
        event, trigger_key=f"{root_key}:corrected:{event.pk}", now=now, skip=set(given)
    )


def _cases_triggered(
    event: LifeEvent, *, trigger_key: str, now: datetime, skip: set[int] | None = None
) -> list[Case]:
    subject = event.person
    triggered = _memo(
        ("measures", event.occurred_on, subject.region_id, event.kind),
        lambda: list(
            measures_in_force(on=event.occurred_on, region_code=subject.region_id)
            .filter(trigger_events__contains=[event.kind])
            .select_related("operator")
            .order_by("code")
        ),
    )
    worked = []
    for measure in [m for m in triggered if m.pk not in (skip or ())]:
        for person in persons_concerned(measure=measure, person=subject):
            case, _created = case_open(
                person=person,
                measure=measure,
                trigger_kind=TriggerKind.LIFE_EVENT,
                trigger_key=trigger_key,
                as_of=event.occurred_on,
                life_event=event,
                now=now,
            )
            worked.append(case_work(case_id=case.pk, now=now, opened=case if _created else None))
            if worked[-1].status != CaseStatus.NO_RIGHT:
                break  # a parent's measure goes to one parent: the first with the right
    return worked


@dataclass
class CaseEvaluation:
    outcome: MeasureOutcome
    explanation: dict[str, Any]


def case_evaluate(case: Case, *, granting: bool = False) -> CaseEvaluation | None:
    """The case's rules as of its date; `granting` (an officer grants what the rules could not
    decide) works out the amount and period all the same."""
    version = _memo(
        ("rules", case.measure_id, case.as_of),
        lambda: rule_version_in_force(measure=case.measure, on=case.as_of),
    )
    if version is None:
        return None
    compiled = CompiledRules.of(version)
    source = PersonFactSource(person=case.person, as_of=case.as_of)
    result = measure_evaluate(compiled, source, case.measure)
    if granting and result.outcome == Outcome.UNKNOWN:
        if compiled.amount:
            result.amount = money(rule_evaluate(rule=compiled.amount, source=source).value)
        if compiled.period:
            months = rule_evaluate(rule=compiled.period, source=source).value
            result.period_months = None if months is None else int(months)
    explanation = {
        "measure": case.measure.code,
        "rule_version": version.version,
        "as_of": case.as_of.isoformat(),
        "outcome": result.outcome,
        **(result.evaluation.as_json() if result.evaluation else {}),
    }
    return CaseEvaluation(result, explanation)


def case_work(*, case_id: int, now: datetime, opened: Case | None = None) -> Case:
    """Evaluate an open case and take it as far as the rules and its measure's mode allow.

    Opened by an event, a definite right to a proactive measure is granted, one that needs an
    application is offered, no right closes the case; opened by an application, the rules'
    definite answer is the decision, grant or refusal. Missing data sends it to an officer.
    A case a batch just opened (`opened`) is worked as it is, with no lock to take.
    """
    with transaction.atomic(savepoint=savepoints()):
        if opened is not None and _opened_in_batch(opened):
            case = opened
            case.region = _memo(
                ("region", case.region_id), lambda: Region.objects.get(pk=case.region_id)
            )
        else:
            case = (
                Case.objects.select_for_update(of=("self",))
                .select_related("person", "measure__operator", "region")
                .get(pk=case_id)
            )
        if case.status != CaseStatus.OPEN:
            return case  # worked before: a repeated delivery changes nothing
        evaluated = case_evaluate(case)
        if evaluated is None:
            case_move(
                case,
                "to_review",
                now=now,
                why=said(gettext_noop("No rules in force on that date.")),
            )
            return case
        result = evaluated.outcome
        case_entry_add(case, CaseEntryKind.EVALUATED, now=now, data=evaluated.explanation)
        if result.outcome == Outcome.UNKNOWN:
            asked = case_request_data(case, evaluated, now=now)
            if asked:
                case_move(
                    case,
                    "wait_for_data",
                    now=now,
                    why=said(
                        gettext_noop("Data asked of other agencies: %(kinds)s."),
                        kinds=", ".join(asked),
                    ),
                )
                return case
            # The officer's clock starts now: it is theirs to get what is missing.
            case_deadline_start(case, now)
            case_move(
                case,
                "to_review",
                now=now,
                why=said(
                    gettext_noop("Data is missing: %(facts)s."),
                    facts=", ".join(f["label"] for f in evaluated.explanation["missing"]),
                ),
            )
            return case
        applied = case.trigger_kind == TriggerKind.APPLICATION
        recalculating = case.trigger_kind == TriggerKind.RECALCULATION
        if recalculating and result.outcome == Outcome.INELIGIBLE:
            # Taking a right away is an officer's decision (two officers: it is proactive).
            case_deadline_start(case, now)
            case_move(
                case,
                "to_review",
                now=now,
                why=said(
                    gettext_noop(
                        "After the change the conditions are not met: an officer decides "
                        "whether the right is revoked."
                    )
                ),
            )
            return case
        if recalculating and _unchanged(case, result):
            case_move(
                case, "close", now=now, why=said(gettext_noop("The recalculation changes nothing."))
            )
            return case
        if result.outcome == Outcome.INELIGIBLE and not applied:
            case_move(
                case,
                "no_right",
                now=now,
                why=said(gettext_noop("The conditions of the measure are not met.")),
            )
            return case
        case_deadline_start(case, now)
        if result.outcome == Outcome.INELIGIBLE:  # an application refused: an outcome, explained
            decision_take(
                case=case,
                evaluated=evaluated,
                automatic=True,
                now=now,
                outcome=DecisionOutcome.REFUSE,
            )
            return case
        if case.measure.mode != AssignmentMode.PROACTIVE and not (applied or recalculating):
            case_move(
                case,
                "offer",
                now=now,
                why=said(
                    gettext_noop("The right is there; the measure is given on an application.")
                ),
            )
            publish(
                CASE_OFFERED_EVENT,
                {"case": case.pk, "person": case.person_id, "measure": case.measure.code},
            )
            return case
        try:
            with transaction.atomic(savepoint=savepoints()):
                decision_take(case=case, evaluated=evaluated, automatic=True, now=now)
        except Conflict as exc:  # assigned already over the period: an officer looks
            if not savepoints():
                raise  # the batch fails; this event alone, with savepoints, comes here again
            case = case_lock(case.pk, allowed=[CaseStatus.OPEN])  # as it was before the try
            case_deadline_start(case, now)
            case_move(case, "to_review", now=now, why=str(exc.message))
    return case


def case_deadline_start(case: Case, now: datetime) -> None:
    case.data_complete_at = now
    days, tz = case.measure.decision_days, case.region.timezone
    case.decision_due_at = _memo(
        ("deadline", now, days, tz), lambda: deadline_at(moment=now, working_days=days, tz=tz)
    )


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _period(case: Case, result: MeasureOutcome) -> tuple[date, date | None]:
    start = case.as_of
    if case.measure.provision not in PERIODIC:
        return start, start
    if case.trigger_kind == TriggerKind.RECALCULATION:
        recalculation = case.recalculation
        replaced = recalculation.assignment
        if recalculation.cause == RecalculationCause.PARAMETERS and replaced.active_from < start:
            return start, replaced.active_to  # new terms for the rest of the same period
    if result.period_months:
        return start, _add_months(start, result.period_months) - timedelta(days=1)
    return start, None


def local_day(moment: datetime, region: Any) -> date:
    """The date in the region's own time zone."""
    return timezone.localtime(moment, ZoneInfo(region.timezone)).date()


def _unchanged(case: Case, result: MeasureOutcome) -> bool:
    """A recalculation whose new terms are the replaced assignment's for the days it covers."""
    replaced = case.recalculation.assignment
    start, end = _period(case, result)
    same = (result.amount, end) == (replaced.amount, replaced.active_to)
    return same and start >= replaced.active_from


def _number(case: Case, now: datetime) -> str:
    return f"{case.region_id}-{local_day(now, case.region):%Y%m%d}-{case.pk:08d}"


def decision_take(
    *,
    case: Case,
    evaluated: CaseEvaluation,
    automatic: bool,
    now: datetime,
    outcome: str = DecisionOutcome.GRANT,
    actor: Any = None,
    reason: str = "",
) -> Decision:
    """Decide a locked case: sign the decision, assign the measure if granted."""
    result = evaluated.outcome
    period_from, period_to = _period(case, result)
    measure = case.measure
    basis = ", ".join(p for p in (measure.legal_act, measure.legal_article) if p)
    content = {
        "number": _number(case, now),
        "case": case.pk,
        "person": {"id": case.person_id, "snils": case.person.snils or None},
        "measure": {"code": measure.code, "name": measure.name},
        "outcome": outcome,
        "amount": None if result.amount is None else str(result.amount),
        "period_from": period_from.isoformat(),
        "period_to": period_to.isoformat() if period_to else None,
        "legal_basis": basis,
        "explanation": evaluated.explanation,
        "automatic": automatic,
        "decided_by": actor.pk if actor else None,
        "reason": reason,
        "decided_at": now.isoformat(),
    }
    signature, key_id = sign(content)
    decision = Decision.objects.create(
        case=case,
        number=content["number"],
        outcome=outcome,
        amount=result.amount if outcome == DecisionOutcome.GRANT else None,
        period_from=period_from,
        period_to=period_to,
        legal_basis=basis,
        rule_version=result.rule_version,
        explanation=evaluated.explanation,
        automatic=automatic,
        decided_by=actor,
        reason=reason,
        decided_at=now,
        signed=content,
        signature=signature,
        key_id=key_id,
    )
    case_move(
        case,
        "decide",
        now=now,
        actor=actor,
        why=said(
            gettext_noop("Granted.")
            if outcome == DecisionOutcome.GRANT
            else gettext_noop("Refused.")
        ),
    )
    case_entry_add(
        case, CaseEntryKind.DECIDED, now=now, actor=actor, data={"decision": decision.number}
    )
    if not _opened_in_batch(case):  # the applications it decides
        for application in case.applications.select_for_update().filter(
            status=ApplicationStatus.SUBMITTED
        ):
            application.done()
            application.save(update_fields=["status"])
    if case.trigger_kind == TriggerKind.RECALCULATION:
        assignment_replace(recalculation=case.recalculation, decision=decision, now=now)
    elif outcome == DecisionOutcome.GRANT:
        assignment_create(decision=decision, now=now)
    publish(
        CASE_DECIDED_EVENT,
        {
            "case": case.pk,
            "decision": decision.pk,
            "person": case.person_id,
            "measure": measure.code,
            "outcome": outcome,
        },
    )
    return decision


def assignment_create(*, decision: Decision, now: datetime) -> Assignment:
    """Assign the measure a granted decision gives. Raises Conflict over an active one."""
    case = decision.case
    try:
        with transaction.atomic(savepoint=savepoints()):
            assignment = Assignment.objects.create(
                decision=decision,
                person=case.person,
                measure=case.measure,
                region=case.region,
                amount=decision.amount,
                active_from=decision.period_from,
                active_to=decision.period_to,
                periodic=case.measure.provision in PERIODIC,
                created_at=now,
            )
    except IntegrityError:
        raise Conflict(
            _("%(person)s already has this measure assigned over that period.")
            % {"person": case.person}
        ) from None
    case_entry_add(case, CaseEntryKind.ASSIGNED, now=now, data={"assignment": assignment.pk})
    if case.person.snils:  # the federal register knows people by SNILS
        publish(ASSIGNMENT_EVENT, {"fact": federal_fact(assignment, "assigned")})
    return assignment


def assignment_replace(
    *, recalculation: Recalculation, decision: Decision, now: datetime
) -> Assignment | None:
    """Apply a decided recalculation: the old assignment ends the day before the new terms
    take effect (on its first day if they replace it wholly); a grant assigns the new terms;
    the difference of what both owe up to today is kept for the treasury. Raises Conflict."""
    old = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("decision__case", "person", "measure__operator", "region")
        .get(pk=recalculation.assignment_id)
    )
    if Recalculation.objects.filter(assignment=old, applied_at__isnull=False).exists():
        raise Conflict(_("This assignment was recalculated already; recalculate its successor."))
    effective, provision = recalculation.effective_from, old.measure.provision
    until = local_day(now, old.region)
    owed_before = amount_due(
        amount=old.amount,
        provision=provision,
        start=max(old.active_from, effective),
        end=old.active_to,
        until=until,
    )
    if old.active_to is None or old.active_to >= effective:
        old.active_to = max(old.active_from, effective - timedelta(days=1))
    if old.status != AssignmentStatus.TERMINATED:
        old.terminate()
    old.ended_reason = _("Recalculated from %(day)s by decision %(number)s.") % {
        "day": effective.isoformat(),
        "number": decision.number,
    }
    old.save(update_fields=["status", "active_to", "ended_reason"])
    if old.person.snils:
        publish(ASSIGNMENT_EVENT, {"fact": federal_fact(old, "terminated")})
    replacement = None
    owed_now = Decimal("0.00")
    if decision.outcome == DecisionOutcome.GRANT:
        replacement = assignment_create(decision=decision, now=now)
        owed_now = amount_due(
            amount=replacement.amount,
            provision=provision,
            start=replacement.active_from,
            end=replacement.active_to,
            until=until,
        )
    recalculation.replacement = replacement
    recalculation.old_amount = old.amount
    recalculation.new_amount = replacement.amount if replacement else None
    recalculation.difference = owed_now - owed_before
    recalculation.computed_to = until
    recalculation.applied_at = now
    recalculation.save()
    case_entry_add(
        decision.case,
        CaseEntryKind.COMMENT,
        now=now,
        text=said(
            gettext_noop(
                "Recalculated: %(difference)s RUB to %(day)s (arrears if positive, overpayment "
                "if negative)."
            ),
            difference=recalculation.difference,
            day=until,
        ),
        data={"recalculation": recalculation.pk, "difference": str(recalculation.difference)},
    )
    publish(
        RECALCULATED_EVENT,
        {
            "recalculation": recalculation.pk,
            "assignment": old.pk,
            "replacement": replacement.pk if replacement else None,
            "effective_from": effective.isoformat(),
            "difference": str(recalculation.difference),
            "computed_to": until.isoformat(),
        },
    )
    return replacement


PERIODICITY = {
    ProvisionKind.CASH_MONTHLY: "monthly",
    ProvisionKind.CASH_QUARTERLY: "quarterly",
    ProvisionKind.CASH_ANNUAL: "annual",
}


def federal_fact(assignment: Assignment, status: str) -> dict[str, Any]:
    """The assignment as the federal register's fact (integration publishes it)."""
    person, measure, decision = assignment.person, assignment.measure, assignment.decision
    named = {"last_name": person.last_name, "first_name": person.first_name}
    if person.patronymic:
        named["patronymic"] = person.patronymic
    return {
        "fact_id": f"asg-{assignment.pk}",
        "status": status,
        "measure": {"code": measure.code, "title": measure.name, "level": measure.level},
        "person": {"snils": person.snils, **named, "birth_date": person.birth_date.isoformat()},
        "decision": {
            "number": decision.number,
            "date": local_day(decision.decided_at, assignment.region).isoformat(),
            "proactive": decision.automatic,
        },
        "period_from": assignment.active_from.isoformat(),
        "period_to": assignment.active_to.isoformat() if assignment.active_to else None,
        "amount": None if assignment.amount is None else f"{assignment.amount:.2f}",
        "periodicity": PERIODICITY.get(measure.provision, "once"),
        "region": assignment.region_id,
        "provider": {"code": str(measure.operator_id), "name": measure.operator.name},
    }


class CaseNotOpen(Conflict):
    code = "case_not_open"


def case_lock(case_id: int, *, allowed: list[str]) -> Case:
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("person", "measure", "region")
        .get(pk=case_id)
    )
    if case.status not in allowed:
        raise CaseNotOpen(
            _("The case is %(status)s already; reload it to see what changed.")
            % {"status": case.get_status_display()}
        )
    return case


def case_take(*, case: Case, officer: Any, now: datetime) -> Case:
    """Put an open case in an officer's own queue. Raises CaseNotOpen."""
    with transaction.atomic():
        locked = case_lock(case.pk, allowed=OPEN_CASE_STATUSES)
        locked.assigned_to = officer
        locked.save(update_fields=["assigned_to"])
        case_entry_add(
            locked,
            CaseEntryKind.COMMENT,
            now=now,
            actor=officer,
            text=said(gettext_noop("Taken to work.")),
        )
    return locked


def _proactive(case: Case) -> bool:
    return case.trigger_kind != TriggerKind.APPLICATION


def case_decide(*, case: Case, outcome: str, reason: str, officer: Any, now: datetime) -> Case:
    """An officer's decision on a case in review, with a reason.

    Granting needs the rules to give an amount or none; refusing a case opened without an
    application (proactive) takes two officers: the first proposes, a second confirms.
    Raises CaseNotOpen (another officer was first) or Conflict.
    """
    if not reason.strip():
        raise Conflict(_("Give the reason for the decision."), field="reason")
    with transaction.atomic():
        locked = case_lock(case.pk, allowed=[CaseStatus.REVIEW, CaseStatus.OFFERED])
        evaluated = case_evaluate(locked, granting=outcome == DecisionOutcome.GRANT)
        if evaluated is None:
            raise Conflict(_("No rules of the measure are in force on that date."))
        if outcome == DecisionOutcome.GRANT:
            if evaluated.outcome.outcome == Outcome.INELIGIBLE:
                raise Conflict(
                    _("The rules say there is no right; a grant needs the facts corrected first.")
                )
            cash = locked.measure.provision in [*PERIODIC, ProvisionKind.CASH_ONCE]
            if cash and evaluated.outcome.amount is None:
                raise Conflict(
                    _("The amount cannot be worked out: %(facts)s unknown.")
                    % {"facts": ", ".join(f["label"] for f in evaluated.explanation["missing"])}
                )
        elif _proactive(locked) and locked.refusal_proposed_by_id in (None, officer.pk):
            if locked.refusal_proposed_by_id == officer.pk:
                raise Conflict(_("Another officer must confirm the refusal you proposed."))
            locked.refusal_proposed_by = officer
            locked.refusal_reason = reason
            locked.save(update_fields=["refusal_proposed_by", "refusal_reason"])
            case_entry_add(
                locked,
                CaseEntryKind.COMMENT,
                now=now,
                actor=officer,
                text=said(gettext_noop("Refusal proposed: %(reason)s"), reason=reason),
            )
            return locked
        if locked.data_complete_at is None:
            case_deadline_start(locked, now)
        decision_take(
            case=locked,
            evaluated=evaluated,
            automatic=False,
            now=now,
            outcome=outcome,
            actor=officer,
            reason=reason,
        )
    return locked


def assignments_end(
    *, person: Person, last_day: date, reason: str | Said, now: datetime, only: Q | None = None
) -> int:
    """End the person's assignments after last_day (a death: paid to the day of death),
    and close their open cases; `only` those of the measures and regions it selects. Each
    change is in its case's timeline. Returns how many ended."""
    only = only or Q()
    ended = 0
    with transaction.atomic():
        for assignment in (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("decision__case")
            .filter(only, person=person)
            .filter(status__in=[AssignmentStatus.ACTIVE, AssignmentStatus.SUSPENDED])
            .exclude(active_to__lt=last_day)
        ):
            if assignment.active_from > last_day:
                assignment.active_to = assignment.active_from  # never started: ends at once
            else:
                assignment.active_to = last_day
            assignment.terminate()
            assignment.ended_reason = str(reason)
            assignment.save(update_fields=["status", "active_to", "ended_reason"])
            case_entry_add(
                assignment.decision.case,
                CaseEntryKind.COMMENT,
                now=now,
                text=said(
                    gettext_noop("Assignment ended on %(day)s: %(reason)s"),
                    day=last_day,
                    reason=reason,
                ),
            )
            if person.snils:
                publish(ASSIGNMENT_EVENT, {"fact": federal_fact(assignment, "terminated")})
            ended += 1
        for case in Case.objects.select_for_update(of=("self",)).filter(
            only, person=person, status__in=OPEN_CASE_STATUSES
        ):
            case_move(case, "close", now=now, why=reason)
    return ended


def assignments_end_on_moving(*, person_id: int, now: datetime) -> int:
    """A person moved to another region: the measures of the region (and municipalities)
    they left end, paid to the day the move was recorded; federal ones go on."""
    person = Person.objects.filter(pk=person_id).select_related("region").first()
    if person is None:
        return 0
    return assignments_end(
        person=person,
        last_day=local_day(now, person.region),
        reason=said(gettext_noop("Moved out of the region.")),
        now=now,
        only=Q(measure__level__in=[MeasureLevel.REGIONAL, MeasureLevel.MUNICIPAL])
        & ~Q(region_id=person.region_id),
    )


def life_event_consequences(*, life_event_id: int, now: datetime) -> int:
    """What a recorded event ends: a death ends the person's assignments from the next day."""
    return life_events_consequences(life_event_ids=[life_event_id], now=now)


def life_events_consequences(*, life_event_ids: list[int], now: datetime) -> int:
    """What recorded events end (see life_event_consequences); how many assignments."""
    deaths = LifeEvent.objects.select_related("person").filter(
        pk__in=life_event_ids, kind=LifeEventKind.DEATH, status=LifeEventStatus.ACTIVE
    )
    return sum(
        assignments_end(
            person=event.person,
            last_day=event.occurred_on,
            reason=said(gettext_noop("Death.")),
            now=now,
        )
        for event in deaths.order_by("pk")
    )


# Which agency's missing fact the platform can ask for, and as which data kind.
OWNER_KINDS = {
    DataOwner.TAX_SERVICE: DataKind.INCOME,
    DataOwner.INTERIOR: DataKind.ADDRESS,
    DataOwner.DISABILITY_REGISTRY: DataKind.DISABILITY,
    DataOwner.EDUCATION: DataKind.EDUCATION,
}


def case_ref(case: Case) -> str:
    return f"case:{case.pk}"


def _subject(person: Person) -> dict[str, Any]:
    subject = {
        "last_name": person.last_name,
        "first_name": person.first_name,
        "birth_date": person.birth_date.isoformat(),
    }
    if person.patronymic:
        subject["patronymic"] = person.patronymic
    if person.snils:
        subject["snils"] = person.snils
    return subject


def _months_before(as_of: date, months: int) -> dict[str, str]:
    """The period of `months` whole months before the month of as_of, as YYYY-MM."""
    return {
        "from": f"{months_before(as_of, months):%Y-%m}",
        "to": f"{months_before(as_of, 1):%Y-%m}",
    }


def case_request_data(case: Case, evaluated: CaseEvaluation, *, now: datetime) -> list[str]:
    """Ask other agencies for what the rules missed, once per case; the kinds asked for.

    Incomes are asked for the person and their spouse (the family's adults) over the 12
    months before the case's date.
    """
    if DataRequest.objects.filter(case_ref=case_ref(case)).exists():
        return []  # asked once: what is still missing is an officer's to find
    kinds = sorted(
        {
            OWNER_KINDS[f["owner"]]
            for f in evaluated.explanation["missing"]
            if f["owner"] in OWNER_KINDS
        }
    )
    asked = []
    for kind in kinds:
        people = [case.person]
        if kind == DataKind.INCOME:
            spouse = family_as_of(person=case.person, on=case.as_of).spouse
            people += [spouse] if spouse else []
        for who in people:
            try:
                data_request(
                    kind=kind,
                    subject=_subject(who),
                    params=_months_before(case.as_of, 12) if kind == DataKind.INCOME else {},
                    region_id=case.region_id,
                    case_ref=case_ref(case),
                    person_id=who.pk,
                    purpose=case.measure.name[:300],
                    now=now,
                )
            except (NoProvider, InvalidDataRequest):
                continue  # nobody to ask: left to the officer
            if kind not in asked:
                asked.append(kind)
    for kind in asked:
        case_entry_add(case, CaseEntryKind.DATA_REQUESTED, now=now, data={"kind": kind})
    return asked


def _cases_of(refs: list[str]) -> list[int]:
    return [int(ref.split(":", 1)[1]) for ref in refs if ref.startswith("case:")]


def cases_data_arrived(*, refs: list[str], now: datetime) -> list[Case]:
    """Data a case waited for arrived: once nothing more is awaited, work the case again."""
    worked = []
    for case_id in _cases_of(refs):
        with transaction.atomic():
            case = Case.objects.select_for_update(of=("self",)).filter(pk=case_id).first()
            if case is None or case.status != CaseStatus.WAITING_DATA:
                continue
            awaited = DataRequest.objects.filter(
                case_ref=f"case:{case_id}", exchange__status__in=IN_FLIGHT
            ).exists()
            if awaited:
                continue
            case_entry_add(case, CaseEntryKind.DATA_RECEIVED, now=now)
            case_move(
                case, "resume", now=now, why=said(gettext_noop("The data asked for arrived."))
            )
        worked.append(case_work(case_id=case_id, now=now))
    return worked


def cases_data_failed(*, refs: list[str], problem: str, now: datetime) -> list[Case]:
    """An agency refused or never answered: the case goes to an officer, its clock started."""
    moved = []
    for case_id in _cases_of(refs):
        with transaction.atomic():
            case = (
                Case.objects.select_for_update(of=("self",))
                .select_related("measure", "region")
                .filter(pk=case_id)
                .first()
            )
            if case is None or case.status != CaseStatus.WAITING_DATA:
                continue
            case_deadline_start(case, now)
            case_move(
                case,
                "to_review",
                now=now,
                why=said(
                    gettext_noop("Another agency gave no answer: %(problem)s"), problem=problem
                ),
            )
            moved.append(case)
    return moved


def _assignment_move(
    *,
    assignment: Assignment,
    transition: str,
    source: str,
    refused: str,
    logged: str,
    fact: str,
    reason: str,
    officer: Any,
    now: datetime,
) -> Assignment:
    """Move a locked assignment by a declared transition with an officer's reason, in its
    case's timeline and the federal register's feed. Raises Conflict."""
    if not reason.strip():
        raise Conflict(_("Give the reason."), field="reason")
    with transaction.atomic():
        locked = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("decision__case", "person", "measure__operator", "region")
            .get(pk=assignment.pk)
        )
        if locked.status != source:
            raise Conflict(refused)
        getattr(locked, transition)()
        locked.save(update_fields=["status"])
        case_entry_add(
            locked.decision.case,
            CaseEntryKind.COMMENT,
            now=now,
            actor=officer,
            text=said(logged, reason=reason),
        )
        if locked.person.snils:
            publish(ASSIGNMENT_EVENT, {"fact": federal_fact(locked, fact)})
    return locked


def assignment_suspend(
    *, assignment: Assignment, reason: str, officer: Any, now: datetime
) -> Assignment:
    """Suspend an active assignment with a reason (payments stop). Raises Conflict."""
    return _assignment_move(
        assignment=assignment,
        transition="suspend",
        source=AssignmentStatus.ACTIVE,
        refused=_("Only an active assignment is suspended."),
        logged=gettext_noop("Assignment suspended: %(reason)s"),
        fact="suspended",
        reason=reason,
        officer=officer,
        now=now,
    )


def assignment_resume(
    *, assignment: Assignment, reason: str, officer: Any, now: datetime
) -> Assignment:
    """Resume a suspended assignment (payments go on, arrears included). Raises Conflict."""
    return _assignment_move(
        assignment=assignment,
        transition="resume",
        source=AssignmentStatus.SUSPENDED,
        refused=_("Only a suspended assignment is resumed."),
        logged=gettext_noop("Assignment resumed: %(reason)s"),
        fact="resumed",
        reason=reason,
        officer=officer,
        now=now,
    )
