"""Selectors of the measures app: reads, never writes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, QuerySet, Sum

from measures.enums import OPEN_CASE_STATUSES, CaseStatus, RuleStatus
from measures.models import Case, Entitlement, Measure, RuleVersion, SocialContract
from measures.rules import Evaluation, rule_check, rule_evaluate
from measures.rules.sources import months_before
from registries.models import IncomeRecord
from registries.selectors import active_on, family_as_of


def measures_in_force(*, on: date, region_code: str | None) -> QuerySet[Measure]:
    """The federal measures and those of the region, in force on a date."""
    territory = Q(region__isnull=True)
    if region_code:
        territory |= Q(region_id=region_code)
    return Measure.objects.filter(active_on(on), territory).order_by("level", "code")


def rule_version_in_force(*, measure: Measure, on: date) -> RuleVersion | None:
    """The published rule version of a measure in force on a date (the latest if several)."""
    return (
        RuleVersion.objects.filter(active_on(on), measure=measure, status=RuleStatus.PUBLISHED)
        .order_by("-valid_from", "-version")
        .first()
    )


def rule_versions_in_force(*, measures: list[Measure], on: date) -> dict[int, RuleVersion]:
    """rule_version_in_force of each measure, in one query: measure id to its version."""
    found: dict[int, RuleVersion] = {}
    for version in RuleVersion.objects.filter(
        active_on(on), measure__in=measures, status=RuleStatus.PUBLISHED
    ).order_by("measure_id", "-valid_from", "-version"):
        found.setdefault(version.measure_id, version)
    return found


def entitlement_explanation(*, entitlement: Entitlement) -> Evaluation:
    """Explain a stored entitlement from the facts it was computed on."""
    rule = rule_check(entitlement.rule_version.eligibility)
    return rule_evaluate(rule=rule, known=entitlement.facts)


def cases_overdue(cases: QuerySet[Case], *, now: datetime) -> QuerySet[Case]:
    """Open cases past their decision deadline, the most overdue first."""
    return cases.filter(status__in=OPEN_CASE_STATUSES, decision_due_at__lt=now).order_by(
        "decision_due_at"
    )


def case_queue(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases waiting for an officer, by deadline (no deadline last)."""
    return cases.filter(status=CaseStatus.REVIEW).order_by(
        F("decision_due_at").asc(nulls_last=True), "opened_at"
    )


def contract_income_track(*, contract: SocialContract) -> dict[str, Any]:
    """The family's income per person by month, 12 months before the contract, during it and
    12 months after; with each phase's average (None where no month is known)."""
    family = family_as_of(person=contract.person, on=contract.term_from)
    members = [contract.person, *([family.spouse] if family.spouse else []), *family.children]
    first = months_before(contract.term_from, 12)
    last = months_before(contract.term_to, -12)
    totals = dict(
        IncomeRecord.objects.filter(person__in=members, month__gte=first, month__lte=last)
        .values_list("month")
        .annotate(total=Sum("amount"))
        .values_list("month", "total")
    )
    rows, phases = [], {"before": [], "during": [], "after": []}
    month = first
    while month <= last:
        phase = (
            "before"
            if month < contract.term_from.replace(day=1)
            else "during"
            if month <= contract.term_to
            else "after"
        )
        per_person = None
        if month in totals:
            per_person = (totals[month] / len(members)).quantize(Decimal("0.01"))
            phases[phase].append(per_person)
        rows.append({"month": month.isoformat(), "phase": phase, "per_person": per_person})
        month = months_before(month, -1)
    return {
        "members": len(members),
        "months": rows,
        **{
            f"{phase}_average": (
                (sum(values) / len(values)).quantize(Decimal("0.01")) if values else None
            )
            for phase, values in phases.items()
        },
    }
