"""Writing, previewing and publishing versions of a measure's rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from measures.enums import RuleStatus
from measures.models import Measure, RuleVersion
from measures.rules import PersonFactSource
from measures.rules.query import rule_counts, rule_sample
from measures.services.entitlements import (
    CompiledRules,
    MeasureOutcome,
    measure_ensure_in_region,
    measure_evaluate,
)
from platform_core.errors import Conflict
from platform_core.models import User
from platform_core.scoping import ensure_in_scope
from registries.models import Person

PREVIEW_SAMPLE = 10


class RuleNotDraft(Conflict):
    code = "rule_not_draft"


def rule_version_create(
    *,
    measure: Measure,
    eligibility: str,
    amount: str = "",
    period_months: str = "",
    valid_from: date,
    valid_to: date | None = None,
    note: str = "",
    actor: User,
) -> RuleVersion:
    """Save a draft rule version; raise ValidationError naming each field, line and column."""
    ensure_in_scope(measure, user=actor, action="change")
    with transaction.atomic():
        Measure.objects.select_for_update().get(pk=measure.pk)
        latest = measure.rule_versions.aggregate(n=Max("version"))["n"] or 0
        version = RuleVersion(
            measure=measure,
            version=latest + 1,
            eligibility=eligibility,
            amount=amount,
            period_months=period_months,
            valid_from=valid_from,
            valid_to=valid_to,
            note=note,
            created_by=actor,
        )
        version.full_clean()
        version.save()
    return version


def rule_version_publish(*, rule_version: RuleVersion, actor: User) -> RuleVersion:
    """Put a draft in force from its date; the version it supersedes ends the day before.

    Raises RuleNotDraft if it is not a draft, ValidationError if its rules are invalid or a
    published version already starts on or after its date.
    """
    ensure_in_scope(rule_version, user=actor, action="change")
    with transaction.atomic():
        Measure.objects.select_for_update().get(pk=rule_version.measure_id)
        version = RuleVersion.objects.select_for_update().get(pk=rule_version.pk)
        if version.status != RuleStatus.DRAFT:
            raise RuleNotDraft(_("Only a draft can be published."))
        version.full_clean()
        published = RuleVersion.objects.filter(
            measure_id=version.measure_id, status=RuleStatus.PUBLISHED
        )
        if published.filter(valid_from__gte=version.valid_from).exists():
            raise ValidationError(
                {
                    "valid_from": _(
                        "A published version already starts on or after this date; "
                        "choose a later date."
                    )
                }
            )
        published.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=version.valid_from)).update(
            valid_to=version.valid_from - timedelta(days=1)
        )
        version.status = RuleStatus.PUBLISHED
        version.published_by = actor
        version.published_at = timezone.now()
        version.save(update_fields=["status", "published_by", "published_at"])
    return version


@dataclass
class RulePreview:
    """What a rule version would decide in a region before it is published."""

    region: str
    on: date
    eligible: int = 0
    ineligible: int = 0
    unknown: int = 0
    sample: list[MeasureOutcome] = field(default_factory=list)


def rule_version_preview(
    *, rule_version: RuleVersion, region_code: str, on: date, sample_size: int = PREVIEW_SAMPLE
) -> RulePreview:
    """Count the persons of a region the rules find eligible, with explained examples.

    Nothing is written. The sample: the first persons by id the rule does not exclude.
    Raises MeasureNotInRegion for another region's measure.
    """
    measure_ensure_in_region(measure=rule_version.measure, region_code=region_code)
    compiled = CompiledRules.of(rule_version)
    persons = Person.objects.filter(region_id=region_code)
    counts = rule_counts(rule=compiled.eligibility, on=on, persons=persons)
    preview = RulePreview(
        region=region_code,
        on=on,
        eligible=counts["true"],
        ineligible=counts["false"],
        unknown=counts["unknown"],
    )
    sample_ids = rule_sample(rule=compiled.eligibility, on=on, persons=persons, size=sample_size)
    for person in Person.objects.filter(pk__in=sample_ids).order_by("pk"):
        outcome = measure_evaluate(
            compiled, PersonFactSource(person=person, as_of=on), rule_version.measure
        )
        outcome.person = person
        preview.sample.append(outcome)
    return preview
