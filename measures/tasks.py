"""Celery tasks of the measures app: ids and keyword arguments in, the work in services."""

from datetime import date

from celery import shared_task
from django.utils import timezone

from measures.models import Measure
from measures.services.entitlements import entitlement_sweep
from measures.services.milestones import milestones_run


@shared_task(
    name="measures.sweep_entitlements",
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    max_retries=5,
)
def sweep_entitlements(*, measure_id: int, region_code: str, on: str) -> dict:
    """Sweep one measure over a region; idempotent, so a retried task rewrites nothing."""
    summary = entitlement_sweep(
        measure=Measure.objects.get(pk=measure_id),
        region_code=region_code,
        on=date.fromisoformat(on),
    )
    return {
        "measure": summary.measure,
        "region": summary.region,
        "as_of": summary.as_of.isoformat(),
        "rule_version": summary.rule_version,
        "persons": summary.persons,
        "written": summary.written,
        "outcomes": summary.outcomes,
        "seconds": round(summary.seconds, 2),
    }


@shared_task(name="measures.daily_milestones")
def daily_milestones() -> dict:
    """What today ends: periods over, ages reached (idempotent per day)."""
    report = milestones_run(day=timezone.localdate(), now=timezone.now())
    return {
        "day": report.day.isoformat(),
        "periods_ended": report.periods_ended,
        "renewals": report.renewals,
        "milestones": report.milestones,
        "rights_lost": report.rights_lost,
    }
