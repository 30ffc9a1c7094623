"""Notifications of citizens: written once per event and channel, sent after commit, retried.

The portal inbox holds its copy as soon as the notification is written. E-mail and SMS are
pending until a task sends them: it claims the row for a lease (so the after-commit task and
the periodic sweep never send the same one at once), sends outside any transaction, then
records the outcome. A sent notification is never sent again; a failure is retried with
exponential backoff up to NOTIFICATIONS_MAX_ATTEMPTS; a refusal that cannot change (a phone
the gateway rejects) is not retried.
"""

from __future__ import annotations

import re
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from contact_center.enums import UNSENT, NotificationChannel, NotificationStatus
from contact_center.models import Notification
from contact_center.ports import SendingFailed, sms_port
from contact_center.texts import Texts, decision_texts, offer_texts, payment_returned_texts
from measures.models import Case, Decision
from platform_core.errors import Conflict
from registries.models import Person
from treasury.models import Payment

MAX_ERROR = 2000


def phone_normalize(raw: str) -> str | None:
    """Return a Russian phone number as +7XXXXXXXXXX, or None if it is not one."""
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 11 and digits[0] in "78":
        return f"+7{digits[1:]}"
    if len(digits) == 10 and digits[0] == "9":
        return f"+7{digits}"
    return None


def language_of(person: Person) -> str:
    """The language a person reads their notifications in.

    The registry holds no preferred language yet, so everyone gets the platform's (Russian);
    the texts are translated all the same, so adding one changes only this function.
    """
    return settings.LANGUAGE_CODE


@dataclass(frozen=True)
class _Route:
    channel: str
    status: str
    recipient: str = ""
    problem: str = ""


def _routes(person: Person) -> list[_Route]:
    """Where a person is told: always the portal inbox; e-mail and SMS where they chose them
    (Person.notification_channels) and an address is on file."""
    chosen = set(person.notification_channels)
    routes = [_Route(NotificationChannel.PORTAL, NotificationStatus.SENT)]
    if NotificationChannel.EMAIL not in chosen:
        routes.append(
            _Route(
                NotificationChannel.EMAIL,
                NotificationStatus.SKIPPED,
                problem=_("The person has not chosen to be notified by e-mail."),
            )
        )
    elif not person.email:
        routes.append(
            _Route(
                NotificationChannel.EMAIL,
                NotificationStatus.SKIPPED,
                problem=_("No e-mail address is on file."),
            )
        )
    else:
        routes.append(_Route(NotificationChannel.EMAIL, NotificationStatus.PENDING, person.email))
    phone = phone_normalize(person.phone) if person.phone else None
    sms_problem = ""
    if NotificationChannel.SMS not in chosen:
        sms_problem = _("The person has not chosen to be notified by SMS.")
    elif not person.phone:
        sms_problem = _("No phone number is on file.")
    elif phone is None:
        sms_problem = _("The phone number on file is not a Russian number: %(phone)s.") % {
            "phone": person.phone
        }
    elif sms_port() is None:
        sms_problem = _("No SMS gateway is configured (SMS_GATEWAY_URL).")
    if sms_problem:
        routes.append(
            _Route(NotificationChannel.SMS, NotificationStatus.SKIPPED, problem=sms_problem)
        )
    else:
        routes.append(_Route(NotificationChannel.SMS, NotificationStatus.PENDING, phone or ""))
    return routes


def _notify(
    *, person: Person, texts: Texts, source_key: str, language: str, now: datetime
) -> list[Notification]:
    return _write(
        _rows(person=person, texts=texts, source_key=source_key, language=language, now=now),
        [source_key],
    )


def _rows(
    *, person: Person, texts: Texts, source_key: str, language: str, now: datetime
) -> list[Notification]:
    """The notifications of one text, a row per channel."""
    rows = []
    for route in _routes(person):
        pending = route.status == NotificationStatus.PENDING
        rows.append(
            Notification(
                person=person,
                channel=route.channel,
                kind=texts.kind,
                source_key=source_key,
                language=language,
                recipient=route.recipient,
                subject=texts.subject,
                body=texts.sms if route.channel == NotificationChannel.SMS else texts.body,
                link=texts.link,
                status=route.status,
                last_error=route.problem,
                created_at=now,
                sent_at=now if route.status == NotificationStatus.SENT else None,
                next_attempt_at=now if pending else None,
            )
        )
    return rows


def _write(rows: list[Notification], source_keys: list[str]) -> list[Notification]:
    """Write the rows (a concurrent delivery of the same event may have written them a moment
    ago) and send what is pending after commit; all the notifications of the source keys."""
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    written = list(Notification.objects.filter(source_key__in=source_keys).order_by("pk"))
    _enqueue([n.pk for n in written if n.status == NotificationStatus.PENDING])
    return written


def _enqueue(notification_ids: list[int]) -> None:
    from contact_center.tasks import send_notification

    for notification_id in notification_ids:
        transaction.on_commit(lambda n=notification_id: send_notification.delay(notification_id=n))


def _written_before(*, person_id: int, source_key: str) -> list[Notification]:
    return list(Notification.objects.filter(source_key=source_key, person_id=person_id))


def decision_notify(
    *, decision_id: int, source_key: str, now: datetime, language: str | None = None
) -> list[Notification]:
    """Tell the person of a decision, with its explanation, on every channel they have.

    Idempotent by source_key: a second call returns the notifications of the first.
    """
    return decisions_notify(decisions=[(decision_id, source_key)], now=now, language=language)


def decisions_notify(
    *, decisions: list[tuple[int, str]], now: datetime, language: str | None = None
) -> list[Notification]:
    """decision_notify of many (decision id, source key) at once, in four queries."""
    found = Decision.objects.select_related(
        "case__person", "case__measure", "case__region"
    ).in_bulk([decision_id for decision_id, _key in decisions])
    keys = [key for _decision_id, key in decisions]
    before = set(
        Notification.objects.filter(source_key__in=keys).values_list("source_key", flat=True)
    )
    rows: list[Notification] = []
    for decision_id, key in decisions:
        if decision_id not in found:
            raise Decision.DoesNotExist(f"No decision {decision_id}.")
        if key in before:
            continue
        person = found[decision_id].case.person
        told_in = language or language_of(person)
        texts = decision_texts(decision=found[decision_id], language=told_in)
        rows += _rows(person=person, texts=texts, source_key=key, language=told_in, now=now)
    return _write(rows, keys)


def offer_notify(
    *, case_id: int, source_key: str, now: datetime, language: str | None = None
) -> list[Notification]:
    """Tell the person they have a right to a measure given on an application, with a link
    to the application filled in for them. Idempotent by source_key."""
    case = Case.objects.select_related("person", "measure", "region").get(pk=case_id)
    before = _written_before(person_id=case.person_id, source_key=source_key)
    if before:
        return before
    language = language or language_of(case.person)
    texts = offer_texts(case=case, language=language)
    return _notify(
        person=case.person, texts=texts, source_key=source_key, language=language, now=now
    )


def payment_returned_notify(
    *, payment_id: int, source_key: str, now: datetime, language: str | None = None
) -> list[Notification]:
    """Tell the person the bank returned a payment and that new details get it paid.
    Idempotent by source_key."""
    payment = Payment.objects.select_related("person", "measure").get(pk=payment_id)
    before = _written_before(person_id=payment.person_id, source_key=source_key)
    if before:
        return before
    language = language or language_of(payment.person)
    texts = payment_returned_texts(payment=payment, language=language)
    return _notify(
        person=payment.person, texts=texts, source_key=source_key, language=language, now=now
    )


def _deliver(notification: Notification) -> None:
    """Send one notification by its channel. Raises SendingFailed."""
    if notification.channel == NotificationChannel.EMAIL:
        try:
            send_mail(
                notification.subject,
                notification.body,
                None,  # DEFAULT_FROM_EMAIL
                [notification.recipient],
                fail_silently=False,
            )
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendingFailed(f"{type(exc).__name__}: {exc}", retry=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise SendingFailed(f"{type(exc).__name__}: {exc}", retry=True) from exc
    elif notification.channel == NotificationChannel.SMS:
        port = sms_port()
        if port is None:
            raise SendingFailed(_("No SMS gateway is configured (SMS_GATEWAY_URL)."), retry=True)
        port.send(
            message_id=str(notification.message_id),
            phone=notification.recipient,
            text=notification.body,
        )


def backoff_seconds(attempts: int) -> float:
    """How long to wait after the attempts-th failure before trying again."""
    wait = settings.NOTIFICATIONS_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    return min(wait, settings.NOTIFICATIONS_RETRY_MAX_SECONDS)


def notification_send(*, notification_id: int, now: datetime) -> Notification | None:
    """Send one due notification once; return it, or None if it is not due or is being sent."""
    with transaction.atomic():
        claimed = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, status__in=UNSENT, next_attempt_at__lte=now)
            .first()
        )
        if claimed is None:
            return None
        # The lease: until it ends, neither the sweep nor a repeated task picks it up.
        lease = timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS)
        Notification.objects.filter(pk=claimed.pk).update(
            attempts=F("attempts") + 1, next_attempt_at=now + lease
        )
    try:
        _deliver(claimed)
    except SendingFailed as exc:
        return _outcome(notification_id, now=now, failure=exc)
    return _outcome(notification_id, now=now, failure=None)


def _outcome(notification_id: int, *, now: datetime, failure: SendingFailed | None) -> Notification:
    with transaction.atomic():
        notification = Notification.objects.select_for_update().get(pk=notification_id)
        if notification.status not in UNSENT:
            return notification  # recorded by another run whose lease had not ended
        if failure is None:
            notification.mark_sent()
            notification.sent_at = now
            notification.last_error = ""
            notification.next_attempt_at = None
        else:
            notification.mark_failed()
            notification.last_error = str(failure)[:MAX_ERROR]
            again = failure.retry and notification.attempts < settings.NOTIFICATIONS_MAX_ATTEMPTS
            notification.next_attempt_at = (
                now + timedelta(seconds=backoff_seconds(notification.attempts)) if again else None
            )
        notification.save(update_fields=["status", "sent_at", "last_error", "next_attempt_at"])
    return notification


def notifications_due(*, now: datetime, limit: int = 500) -> list[int]:
    """Return the ids of notifications whose (next) attempt is due, oldest first."""
    return list(
        Notification.objects.filter(status__in=UNSENT, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )


def notification_resend(*, notification: Notification, now: datetime) -> Notification:
    """Queue a failed notification again with a fresh attempt budget.

    Raises Conflict unless it failed (a sent one is never sent twice).
    """
    with transaction.atomic():
        locked = Notification.objects.select_for_update().get(pk=notification.pk)
        if locked.status != NotificationStatus.FAILED:
            raise Conflict(
                _("Only failed notifications are sent again; this one is %(status)s.")
                % {"status": locked.get_status_display()}
            )
        locked.requeue()
        locked.attempts = 0
        locked.next_attempt_at = now
        locked.save(update_fields=["status", "attempts", "next_attempt_at"])
        _enqueue([locked.pk])
    return locked
