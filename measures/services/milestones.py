"""The daily job: what a day ends without any event (docs/decisions.md §12).

- Periods end: an assignment whose period is over is terminated; a periodic proactive measure
  is then evaluated again for the next period (a renewal case, decided like any other).
- Ages are reached: a child turns 1, 3, 7, 16, 17, 18 or 23, a person reaches pension age. Every active
  periodic assignment of the person and of their parents (whose rights count their children)
  is checked as of the day; one whose right is gone ends the day before.

Idempotent: run twice for a day, the second run finds nothing left to do.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_noop

from measures.enums import (
    AssignmentMode,
    AssignmentStatus,
    CaseEntryKind,
    CaseStatus,
    Outcome,
    TriggerKind,
)
from measures.models import Assignment, Case
from measures.rules.sources import PersonFactSource, years_before
from measures.selectors import rule_version_in_force
from measures.services.cases import (
    ASSIGNMENT_EVENT,
    case_entry_add,
    case_open,
    case_work,
    federal_fact,
)
from measures.services.entitlements import CompiledRules, measure_evaluate
from platform_core.bus import publish
from platform_core.texts import Said, said
from registries.enums import RelationKind, Sex
from registries.models import Person

# Ages at which rights change: those the issue names (3, 7, 18, 23) and the limits the
# catalogue's rules count children by (under 1, under 17 for the unified allowance, 16).
CHILD_AGES = (1, 3, 7, 16, 17, 18, 23)
PENSION_AGE = {Sex.FEMALE: 60, Sex.MALE: 65}


@dataclass
class DayReport:
    day: date
    periods_ended: int = 0
    renewals: int = 0
    milestones: int = 0
    rights_lost: int = 0
    resumed: int = 0
    problems: list[str] = field(default_factory=list)


def _born(day: date, years: int) -> Q:
    """Born `years` before day; on 28 February of a common year, those born on 29 February
    too (their birthday is that day)."""
    dates = [years_before(day, years)]
    leap_birthday = calendar.isleap(day.year - years) and not calendar.isleap(day.year)
    if (day.month, day.day) == (2, 28) and leap_birthday:
        dates.append(date(day.year - years, 2, 29))
    return Q(birth_date__in=dates)


def persons_reaching_milestones(*, day: date) -> list[Person]:
    """The persons who reach an age of CHILD_AGES, or pension age, on day."""
    born = Q()
    for n in CHILD_AGES:
        born |= _born(day, n)
    for sex, age in PENSION_AGE.items():
        born |= Q(sex=sex) & _born(day, age)
    return list(Person.objects.filter(born, death_date=None).order_by("pk"))


def _end(assignment: Assignment, *, last_day: date, reason: Said, now: datetime) -> None:
    assignment.active_to = max(last_day, assignment.active_from)
    assignment.terminate()
    assignment.ended_reason = str(reason)
    assignment.save(update_fields=["status", "active_to", "ended_reason"])
    case_entry_add(assignment.decision.case, CaseEntryKind.COMMENT, now=now, text=reason)
    if assignment.person.snils:
        publish(ASSIGNMENT_EVENT, {"fact": federal_fact(assignment, "terminated")})


def periods_end(*, day: date, now: datetime, report: DayReport) -> None:
    """Terminate assignments whose period ended before day; renew proactive periodic ones."""
    with transaction.atomic():
        ended = list(
            Assignment.objects.select_for_update(of=("self",))
            .select_related("decision__case", "person", "measure")
            .filter(status=AssignmentStatus.ACTIVE, active_to__lt=day)
        )
        for assignment in ended:
            _end(
                assignment,
                last_day=assignment.active_to,
                reason=said(gettext_noop("The period of the assignment ended.")),
                now=now,
            )
    report.periods_ended += len(ended)
    for assignment in ended:
        if assignment.periodic and assignment.measure.mode == AssignmentMode.PROACTIVE:
            case, created = case_open(
                person=assignment.person,
                measure=assignment.measure,
                trigger_kind=TriggerKind.MILESTONE,
                trigger_key=f"renewal:{assignment.pk}",
                as_of=assignment.active_to + timedelta(days=1),
                now=now,
            )
            if created:
                case_work(case_id=case.pk, now=now)
                report.renewals += 1


def rights_recheck(*, person: Person, day: date, now: datetime, report: DayReport) -> None:
    """End the person's periodic assignments whose right is gone as of day."""
    with transaction.atomic():
        for assignment in (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("decision__case", "person", "measure")
            .filter(person=person, status=AssignmentStatus.ACTIVE, periodic=True)
            .filter(Q(active_to=None) | Q(active_to__gte=day))
        ):
            version = rule_version_in_force(measure=assignment.measure, on=day)
            if version is None:
                continue
            result = measure_evaluate(
                CompiledRules.of(version),
                PersonFactSource(person=person, as_of=day),
                assignment.measure,
            )
            if result.outcome == Outcome.INELIGIBLE:
                _end(
                    assignment,
                    last_day=day - timedelta(days=1),
                    reason=said(
                        gettext_noop("The right ended on %(day)s (an age was reached)."),
                        day=day,
                    ),
                    now=now,
                )
                report.rights_lost += 1


def cases_left_open(*, now: datetime, report: DayReport) -> None:
    """Work the cases left in their first status (a crash between opening and working one):
    opening and working are idempotent, so this only finishes what was begun."""
    for case_id in Case.objects.filter(
        status=CaseStatus.OPEN, opened_at__lt=now - timedelta(minutes=10)
    ).values_list("pk", flat=True)[:1000]:
        case_work(case_id=case_id, now=now)
        report.resumed += 1


def milestones_run(*, day: date, now: datetime) -> DayReport:
    """Do what day ends: periods, then ages (the person's and their parents' rights); and
    finish any case left in its first status."""
    report = DayReport(day=day)
    cases_left_open(now=now, report=report)
    periods_end(day=day, now=now, report=report)
    for person in persons_reaching_milestones(day=day):
        report.milestones += 1
        parents = Person.objects.filter(
            relations_from__to_person=person, relations_from__kind=RelationKind.PARENT
        ).distinct()
        for concerned in [person, *parents]:
            rights_recheck(person=concerned, day=day, now=now, report=report)
    return report
