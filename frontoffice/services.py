"""What a citizen does on the portal: log in, apply in one click, change their bank details.
Each checks that the citizen may act for the person (themselves or whom they represent)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contact_center.models import Notification
from frontoffice.models import Appeal, AppealKind, AppealStatus, CitizenAccount
from frontoffice.selectors import persons_represented
from measures.enums import CaseStatus, Channel
from measures.models import Application, Case
from measures.services.applications import application_create, application_submit
from platform_core.enums import Role
from platform_core.errors import Conflict, DomainError
from registries.models import Person
from registries.services.persons import person_update

BANK_FIELDS = ("bank_bic", "bank_account", "bank_card")
ATTEMPTS = 10  # logins (or certificate checks) per address and minute
ATTEMPTS_WINDOW_S = 60


class NotYours(DomainError):
    """The person is neither the citizen nor someone they represent: as if it did not exist."""

    status = 404
    code = "not_found"


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_logins"


def citizen_account_for(person: Person, *, demo: bool = False) -> CitizenAccount:
    """The portal login of a person of the registry (made once, under the person's row lock:
    two first logins at once, from two tabs, make one)."""
    accounts = CitizenAccount.objects.filter(person=person).select_related("user")
    existing = accounts.first()
    if existing is None:
        with transaction.atomic():
            list(Person.objects.select_for_update().filter(pk=person.pk).values_list("pk"))
            existing = accounts.first() or _citizen_account_create(person, demo=demo)
    if demo and not existing.demo:
        existing.demo = True
        existing.save(update_fields=["demo"])
    return existing


def _citizen_account_create(person: Person, *, demo: bool) -> CitizenAccount:
    """Called under the person's row lock, in its transaction."""
    user = get_user_model().objects.create(
        username=f"citizen-{person.pk}",
        role=Role.CITIZEN,
        last_name=person.last_name,
        first_name=person.first_name,
        patronymic=person.patronymic,
    )
    user.set_unusable_password()  # they come through the identity provider (or the demo)
    user.save(update_fields=["password"])
    return CitizenAccount.objects.create(user=user, person=person, demo=demo)


def attempt_count(address: str) -> None:
    """Count an attempt (a login, a certificate check) from an address; raises
    TooManyAttempts past the limit."""
    key = f"portal-attempts:{address}"
    if cache.add(key, 1, ATTEMPTS_WINDOW_S):
        return
    try:
        attempts = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.add(key, 1, ATTEMPTS_WINDOW_S)
        return
    if attempts > ATTEMPTS:
        raise TooManyAttempts(_("Too many attempts: try again in a minute."))


def person_for(citizen: Person, person_id: Any, *, on: Any) -> Person:
    """The person a citizen names, if they may act for them; raises NotYours."""
    for person in persons_represented(citizen, on=on):
        if str(person.pk) == str(person_id):
            return person
    raise NotYours(_("Not found."))


def offer_accept(*, citizen: Person, case: Case, now: datetime) -> Application:
    """Apply in one click for a measure offered to the citizen or to whom they represent: the
    application joins the offer's case, which is decided at once."""
    person = person_for(citizen, case.person_id, on=now.date())
    if case.status != CaseStatus.OFFERED:  # answered before (a second click): nothing twice
        raise Conflict(
            _("This offer is no longer open: %(status)s.") % {"status": case.get_status_display()}
        )
    application = application_create(
        person=person, applicant=citizen, measure=case.measure, channel=Channel.PORTAL, now=now
    )
    return application_submit(application=application, now=now)


def bank_details_change(*, citizen: Person, person: Person, changes: dict[str, str]) -> Person:
    """Change the bank details (BIC and account, Mir card) of the citizen or of whom they
    represent. Raises ValidationError naming the field, or NotYours."""
    allowed = person_for(citizen, person.pk, on=timezone.localdate())
    return person_update(
        person=allowed,
        actor=None,  # a citizen is no staff: their right is checked above
        # As printed on a card or a bank's letter: spaces and dashes are not part of it.
        changes={name: re.sub(r"[\s-]", "", changes.get(name, "")) for name in BANK_FIELDS},
        reason=f"portal: citizen {citizen.pk}",
    )


APPEAL_MAX = 5000


def appeal_file(
    *, citizen: Person, person: Person, kind: str, text: str, case: Any, now: datetime
) -> Appeal:
    """File an appeal, complaint or question for the citizen or whom they represent; a case
    named must be that person's. Raises ValidationError naming the field, or NotYours."""
    allowed = person_for(citizen, person.pk, on=now.date())
    errors = {}
    if kind not in AppealKind.values:
        errors["kind"] = _("Choose what you are sending.")
    if not text.strip():
        errors["text"] = _("Write what it is about.")
    elif len(text) > APPEAL_MAX:
        errors["text"] = _("At most %(max)d characters.") % {"max": APPEAL_MAX}
    if case is not None and case.person_id != allowed.pk:
        errors["case"] = _("Choose one of your cases.")
    if errors:
        raise ValidationError(errors)
    return Appeal.objects.create(
        person=allowed, filed_by=citizen, kind=kind, text=text.strip(), case=case, created_at=now
    )


def appeal_answer(*, appeal: Appeal, answer: str, officer: Any, now: datetime) -> Appeal:
    """Answer an appeal (staff, in the admin): once, under its row lock; the citizen sees it
    on the portal. Raises ValidationError, or Conflict if answered already."""
    if not answer.strip():
        raise ValidationError({"answer": _("Write the answer.")})
    with transaction.atomic():
        locked = Appeal.objects.select_for_update().get(pk=appeal.pk)
        if locked.status == AppealStatus.ANSWERED:
            raise Conflict(_("This appeal is answered already."))
        locked.answer = answer.strip()
        locked.status = AppealStatus.ANSWERED
        locked.answered_by = officer
        locked.answered_at = now
        locked.save(update_fields=["answer", "status", "answered_by", "answered_at"])
    return locked


def inbox_read(*, ids: set[int], now: datetime) -> int:
    """Mark notifications of the portal inbox read (the caller showed them to their person)."""
    return Notification.objects.filter(pk__in=ids, read_at=None).update(read_at=now) if ids else 0
