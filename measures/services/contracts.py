"""Social contracts: made with a low-income family, signed, worked step by step, closed.

Whether the family is low-income is the rules engine's answer, over the same facts the
measures use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from measures.enums import ContractStatus, ContractSubject
from measures.models import ContractAssistance, ContractStep, SocialContract
from measures.rules import rule_check, rule_evaluate
from measures.rules.sources import PersonFactSource
from platform_core.errors import Conflict, DomainError
from registries.models import Person

LOW_INCOME = 'family_income_per_capita(months=12) <= subsistence_minimum(group="per_capita")'


class InvalidContract(DomainError):
    code = "invalid_contract"

    def __init__(self, problems: dict[str, str]):
        super().__init__(_("The social contract is not valid."))
        self.problems = problems


@dataclass(frozen=True)
class Step:
    title: str
    due_on: date


@dataclass(frozen=True)
class Assistance:
    kind: str
    amount: Decimal | None = None
    months: int | None = None
    note: str = ""


def low_income(*, person: Person, on: date) -> bool | None:
    """Whether the person's family is below the subsistence minimum (None: not known)."""
    return rule_evaluate(
        rule=rule_check(LOW_INCOME), source=PersonFactSource(person=person, as_of=on)
    ).value


def contract_create(
    *,
    person: Person,
    subject: str,
    recipient_obligations: str,
    agency_obligations: str,
    term_from: date,
    term_to: date,
    steps: list[Step],
    assistance: list[Assistance],
    officer: Any,
    now: datetime,
) -> SocialContract:
    """A draft contract with its programme. Raises InvalidContract (by field)."""
    problems: dict[str, str] = {}
    if subject not in ContractSubject.values:
        problems["subject"] = _("Unknown subject.")
    for field, text in (
        ("recipient_obligations", recipient_obligations),
        ("agency_obligations", agency_obligations),
    ):
        if not text.strip():
            problems[field] = _("This field is required.")
    if term_to < term_from:
        problems["term_to"] = _("Ends before it starts.")
    if not steps:
        problems["steps"] = _("An adaptation programme needs at least one step.")
    for index, step in enumerate(steps):
        if not term_from <= step.due_on <= term_to:
            problems[f"steps[{index}].due_on"] = _("Outside the contract's term.")
    below = low_income(person=person, on=term_from)
    if below is not True:
        problems["person"] = (
            _("The family's income is above the subsistence minimum.")
            if below is False
            else _("The family's income is not known.")
        )
    if problems:
        raise InvalidContract(problems)
    with transaction.atomic():
        contract = SocialContract.objects.create(
            person=person,
            region_id=person.region_id,
            number=f"SC-{person.region_id}-{now:%Y%m%d%H%M%S%f}",
            subject=subject,
            recipient_obligations=recipient_obligations,
            agency_obligations=agency_obligations,
            term_from=term_from,
            term_to=term_to,
            created_by=officer,
            created_at=now,
        )
        ContractStep.objects.bulk_create(
            ContractStep(contract=contract, title=s.title, due_on=s.due_on) for s in steps
        )
        ContractAssistance.objects.bulk_create(
            ContractAssistance(
                contract=contract, kind=a.kind, amount=a.amount, months=a.months, note=a.note
            )
            for a in assistance
        )
    return contract


def contract_sign(*, contract: SocialContract, now: datetime) -> SocialContract:
    """Put a draft in force. Raises Conflict (not a draft, or another contract in force)."""
    try:
        with transaction.atomic():
            locked = SocialContract.objects.select_for_update().get(pk=contract.pk)
            if locked.status != ContractStatus.DRAFT:
                raise Conflict(_("Only a draft is signed."))
            locked.status = ContractStatus.ACTIVE
            locked.signed_at = now
            locked.save(update_fields=["status", "signed_at"])
    except IntegrityError:
        raise Conflict(_("The person has another social contract in force.")) from None
    return locked


def contract_step_done(*, step: ContractStep, on: date, note: str = "") -> ContractStep:
    """Record a step of the programme as done. Raises Conflict unless the contract is in force."""
    with transaction.atomic():
        locked = ContractStep.objects.select_for_update().select_related("contract").get(pk=step.pk)
        if locked.contract.status != ContractStatus.ACTIVE:
            raise Conflict(_("Steps are recorded while the contract is in force."))
        locked.done_on = on
        locked.note = note
        locked.save(update_fields=["done_on", "note"])
    return locked


def contract_close(*, contract: SocialContract, completed: bool, outcome: str) -> SocialContract:
    """End a contract in force: completed, or terminated early. Raises Conflict."""
    with transaction.atomic():
        locked = SocialContract.objects.select_for_update().get(pk=contract.pk)
        if locked.status != ContractStatus.ACTIVE:
            raise Conflict(_("Only a contract in force is closed."))
        locked.status = ContractStatus.COMPLETED if completed else ContractStatus.TERMINATED
        locked.outcome = outcome
        locked.save(update_fields=["status", "outcome"])
    return locked
