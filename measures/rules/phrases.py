"""How a citizen reads each fact: the phrasing table behind measures/rules/plain.py.

One `Phrase` per fact of the library (facts.py): the words naming it (with its arguments),
how its value is written (a count, roubles, years, weeks, a choice), and for a yes/no fact
the sentence for yes and for no. A condition then reads as "subject: value (what is
needed)", or, for a comparison of two facts the table knows (`PAIRS`), as one sentence.
Anything the table does not cover keeps the generic wording of plain.py.

Every text is an English msgid translated through gettext (Russian first); a test checks that
each fact of the library has its phrase.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from measures.rules.facts import MAX_AGE
from registries.enums import SubsistenceGroup

# How a fact's value is written.
COUNT = "count"
MONEY = "money"
YEARS = "years"
WEEKS = "weeks"
CHOICE = "choice"
TEXT = "text"
YES_NO = "yes_no"

Subject = Promise | Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True)
class Phrase:
    """How one fact reads: its subject, its unit, and yes/no sentences for a yes/no fact."""

    subject: Subject
    unit: str = COUNT
    choices: Mapping[str, Promise] = field(default_factory=dict)
    yes: Promise | None = None
    no: Promise | None = None
    # What is needed, where the generic words ("at least 1") read badly: (operator, limit).
    needs: Mapping[tuple[str, Decimal], Promise] = field(default_factory=dict)


def _children(args: Mapping[str, Any]) -> str:
    low, high = int(args.get("min_age", 0)), int(args.get("max_age", MAX_AGE))
    if low and high < MAX_AGE:
        return ngettext_lazy(
            "Children aged %(min_age)s and under %(max_age)s year",
            "Children aged %(min_age)s and under %(max_age)s years",
            "max_age",
        ) % {"min_age": low, "max_age": high}
    if low:
        return ngettext_lazy(
            "Children aged %(min_age)s year or over",
            "Children aged %(min_age)s years or over",
            "min_age",
        ) % {"min_age": low}
    if high < MAX_AGE:
        return ngettext_lazy(
            "Children under %(max_age)s year", "Children under %(max_age)s years", "max_age"
        ) % {"max_age": high}
    return str(_("Children"))


SUBSISTENCE_SUBJECTS = {
    SubsistenceGroup.PER_CAPITA: _("Subsistence minimum per person"),
    SubsistenceGroup.WORKING_AGE: _("Subsistence minimum for working-age adults"),
    SubsistenceGroup.PENSIONER: _("Subsistence minimum for pensioners"),
    SubsistenceGroup.CHILD: _("Subsistence minimum for children"),
}


def _subsistence(args: Mapping[str, Any]) -> str:
    group = args.get("group", SubsistenceGroup.PER_CAPITA)
    return str(SUBSISTENCE_SUBJECTS.get(group, _("Subsistence minimum")))


AT_LEAST_ONE = {(">=", Decimal(1)): _("at least one is needed")}

PHRASES: dict[str, Phrase] = {
    "age": Phrase(_("Age"), YEARS),
    "sex": Phrase(_("Sex"), CHOICE, choices={"F": _("female"), "M": _("male")}),
    "region": Phrase(_("Region of registration (code)"), TEXT),
    "municipality": Phrase(_("Municipality of registration (OKTMO code)"), TEXT),
    "citizen": Phrase(
        _("Citizenship of the Russian Federation"),
        YES_NO,
        yes=_("A citizen of the Russian Federation"),
        no=_("Not a citizen of the Russian Federation"),
    ),
    "alive": Phrase(
        _("Record of death"),
        YES_NO,
        yes=_("No death is recorded"),
        no=_("A death is recorded on or before that date"),
    ),
    "children": Phrase(_children, COUNT, needs=AT_LEAST_ONE),
    "children_born": Phrase(_("Children born or adopted, in all"), COUNT, needs=AT_LEAST_ONE),
    "children_born_at_once": Phrase(_("Children born at once at the last birth"), COUNT),
    "birth_order": Phrase(_("Place among the mother's children by birth"), COUNT),
    "family_size": Phrase(_("Members of the family"), COUNT),
    "family_income_per_capita": Phrase(
        ngettext_lazy(
            "Average monthly income per family member over %(months)s month",
            "Average monthly income per family member over %(months)s months",
            "months",
        ),
        MONEY,
    ),
    "subsistence_minimum": Phrase(_subsistence, MONEY),
    "disability_group": Phrase(
        _("Disability"),
        CHOICE,
        choices={
            "1": _("group I"),
            "2": _("group II"),
            "3": _("group III"),
            "child": _("disabled child"),
            "none": _("none"),
        },
    ),
    "disabled_from_childhood": Phrase(
        _("Disability from childhood"),
        YES_NO,
        yes=_("The disability dates from childhood"),
        no=_("The disability does not date from childhood"),
    ),
    "large_family": Phrase(
        _("Large family status"),
        YES_NO,
        yes=_("The family has the status of a large family"),
        no=_("The family does not have the status of a large family"),
    ),
    "low_income": Phrase(
        _("Low-income status"),
        YES_NO,
        yes=_("The family is recognised as low-income"),
        no=_("The family is not recognised as low-income"),
    ),
    "pensioner": Phrase(
        _("Pension"),
        YES_NO,
        yes=_("Receives a pension"),
        no=_("Receives no pension"),
    ),
    "unemployed": Phrase(
        _("Registration as unemployed"),
        YES_NO,
        yes=_("Registered with the employment service as unemployed"),
        no=_("Not registered with the employment service as unemployed"),
    ),
    "student": Phrase(
        _("Full-time study"),
        YES_NO,
        yes=_("Studies full-time"),
        no=_("Does not study full-time"),
    ),
    "employed": Phrase(
        _("Work"),
        YES_NO,
        yes=_("Works (an employer reports the job)"),
        no=_("Does not work (no employer reports a job)"),
    ),
    "lost_breadwinner": Phrase(
        _("Loss of a breadwinner"),
        YES_NO,
        yes=_("A parent has died (loss of a breadwinner)"),
        no=_("No parent has died"),
    ),
    "pregnancy_week_at_registration": Phrase(
        _("Week of pregnancy at registration with a clinic"), WEEKS
    ),
}

# Comparisons of two facts read as one sentence of what is required, with both values; the
# verdict beside it says whether it holds. (left fact, operator, right fact).
PAIRS: dict[tuple[str, str, str], Promise] = {
    ("family_income_per_capita", "<=", "subsistence_minimum"): _(
        "The family's average monthly income per person (%(left)s) is not above the "
        "subsistence minimum (%(right)s)"
    ),
    ("family_income_per_capita", "<", "subsistence_minimum"): _(
        "The family's average monthly income per person (%(left)s) is below the "
        "subsistence minimum (%(right)s)"
    ),
}

# What is needed, by operator: %(limit)s is the value written in the fact's unit.
NEEDS = {
    ">=": _("at least %(limit)s is needed"),
    ">": _("more than %(limit)s is needed"),
    "<=": _("not more than %(limit)s is allowed"),
    "<": _("less than %(limit)s is needed"),
    "==": _("needed: %(limit)s"),
    "!=": _("anything but %(limit)s is needed"),
    "in": _("needed: %(limit)s"),
    "not in": _("anything but %(limit)s is needed"),
}

# `not (a < b)` is `a >= b`: a negated comparison reads as its opposite.
OPPOSITE = {">=": "<", ">": "<=", "<=": ">", "<": ">=", "==": "!=", "!=": "=="}
# `1 <= x` is `x >= 1`: a comparison with the fact on the right reads with the fact first.
MIRRORED = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}
