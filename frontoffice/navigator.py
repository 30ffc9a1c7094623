"""The navigator by life situation: which measures of a region a situation concerns, read off
the production catalogue (the events a measure is triggered by, the facts its rules in force
use), not a list kept by hand; and the calculator over the same rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import models
from django.utils.translation import gettext_lazy as _

from measures.enums import AssignmentMode
from measures.models import Measure
from measures.selectors import measures_in_force, rule_version_in_force
from measures.services.entitlements import CompiledRules


class Situation(models.TextChoices):
    BIRTH = "birth", _("Birth of a child")
    LARGE_FAMILY = "large_family", _("Large family")
    DISABILITY = "disability", _("Disability")
    BREADWINNER = "breadwinner", _("Loss of the breadwinner")
    LOW_INCOME = "low_income", _("Low income")
    PREGNANCY = "pregnancy", _("Pregnancy")


# A situation concerns a measure triggered by one of these events or whose rules use one of
# these facts.
EVENTS = {
    Situation.BIRTH: {"birth", "adoption"},
    Situation.DISABILITY: {"disability_established"},
    Situation.BREADWINNER: {"death"},
    Situation.PREGNANCY: {"pregnancy_registered"},
}
FACTS = {
    Situation.BIRTH: {"children_born", "children_born_at_once", "birth_order"},
    Situation.LARGE_FAMILY: {"large_family"},
    Situation.DISABILITY: {"disability_group", "disabled_from_childhood"},
    Situation.BREADWINNER: {"lost_breadwinner"},
    Situation.LOW_INCOME: {"family_income_per_capita", "low_income"},
    Situation.PREGNANCY: {"pregnancy_week_at_registration"},
}


@dataclass
class MeasureCard:
    measure: Measure
    proactive: bool


def measures_for(*, situation: str, region_code: str, on: date) -> list[MeasureCard]:
    """The measures of the region in force on the date that the situation concerns."""
    events = EVENTS.get(situation, set())
    facts = FACTS.get(situation, set())
    found = []
    for measure in measures_in_force(on=on, region_code=region_code).order_by("level", "name"):
        version = rule_version_in_force(measure=measure, on=on)
        used = (
            {name for rule in CompiledRules.of(version).rules() for name in rule.fact_names()}
            if version
            else set()
        )
        if events & set(measure.trigger_events) or facts & used:
            found.append(
                MeasureCard(measure=measure, proactive=measure.mode == AssignmentMode.PROACTIVE)
            )
    return found
