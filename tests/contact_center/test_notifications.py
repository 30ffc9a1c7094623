"""Citizens are told of decisions (with the explanation) and offers (with a one-click
application) in the portal inbox, by e-mail and by SMS, once per event and channel."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from django.utils import timezone

from contact_center.enums import NotificationChannel, NotificationStatus
from contact_center.events import notify_decision, notify_offer
from contact_center.models import Notification
from contact_center.services import decision_notify, notification_send, phone_normalize
from contact_center.tasks import send_due, send_notification
from measures.enums import CaseStatus, DecisionOutcome
from measures.services.cases import CASE_DECIDED_EVENT, CASE_OFFERED_EVENT
from platform_core.bus import subscribers_of
from tests.contact_center.conftest import mother, published, worked

pytestmark = pytest.mark.django_db

NOTIFICATIONS = "/api/v1/contact-center/notifications/"


def by_channel(case) -> dict[str, Notification]:  # type: ignore[no-untyped-def]
    return {n.channel: n for n in Notification.objects.filter(person=case.person)}


def test_the_handlers_are_subscribed_to_the_case_pipeline():
    assert "contact_center.notify_decision" in subscribers_of(CASE_DECIDED_EVENT)
    assert "contact_center.notify_offer" in subscribers_of(CASE_OFFERED_EVENT)


def test_a_decision_notifies_once_per_channel_even_when_delivered_twice(
    calendar, mailoutbox, django_capture_on_commit_callbacks
):
    case = worked(mother(email="anna@mail.example", phone="+79141234567"))
    assert case.decision.outcome == DecisionOutcome.GRANT
    event = published(CASE_DECIDED_EVENT, case)

    with django_capture_on_commit_callbacks(execute=True):
        notify_decision([event])
    with django_capture_on_commit_callbacks(execute=True):
        notify_decision([event])  # the bus delivered it again

    sent = by_channel(case)
    assert Notification.objects.filter(person=case.person).count() == 3
    assert sent["portal"].status == NotificationStatus.SENT and sent["portal"].sent_at
    assert sent["email"].status == NotificationStatus.SENT and sent["email"].attempts == 1
    assert sent["sms"].status == NotificationStatus.SKIPPED  # no gateway configured
    assert "SMS_GATEWAY_URL" in sent["sms"].last_error
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["anna@mail.example"]
    assert case.decision.number in mail.subject
    assert mail.body == sent["email"].body == sent["portal"].body
    assert "Анна Сергеевна" in mail.body
    assert f"/my/cases/{case.pk}/" in mail.body


def test_a_sent_notification_is_never_sent_again(
    calendar, mailoutbox, django_capture_on_commit_callbacks
):
    case = worked(mother(email="anna@mail.example"))
    with django_capture_on_commit_callbacks(execute=True):
        notify_decision([published(CASE_DECIDED_EVENT, case)])
    email = by_channel(case)["email"]

    assert notification_send(notification_id=email.pk, now=timezone.now()) is None
    assert send_notification(notification_id=email.pk) is None
    assert send_due() == 0
    assert len(mailoutbox) == 1
    assert Notification.objects.get(pk=email.pk).attempts == 1


def test_a_refusal_explains_the_conditions_that_failed(
    calendar, django_capture_on_commit_callbacks
):
    case = worked(mother(salary="900000"))  # far above the subsistence minimum
    decision = case.decision
    assert decision.outcome == DecisionOutcome.REFUSE

    with django_capture_on_commit_callbacks(execute=True):
        notify_decision([published(CASE_DECIDED_EVENT, case)])

    portal = by_channel(case)["portal"]
    body = portal.body
    assert portal.status == NotificationStatus.SENT
    assert decision.number in body and "отказано" in body
    refused_because = body.split("не выполнены следующие условия:")[1].split("\n\n")[0]
    # The condition that failed, as a sentence with the values: no rule names, no operators.
    assert re.fullmatch(
        r"\n— Среднедушевой доход семьи в месяц \(450\s000 ₽\) не превышает прожиточного"
        r" минимума \(20\s000 ₽\)",
        refused_because,
    )
    assert "family_income_per_capita" not in body
    assert "— Запись о смерти отсутствует: выполнено" in body
    assert "— Дети младше 17 лет: 1 (нужен хотя бы один): выполнено" in body
    assert "(20\xa0000 ₽): не выполнено" in body
    # The facts used, with their values (the income is 900 000 a month, over the family).
    assert "Сведения, которые были учтены:" in body
    assert re.search(r"— Среднемесячный доход на члена семьи за 12 месяцев: 450\s000 ₽\n", body)
    assert re.search(r"— Прожиточный минимум на душу населения: 20\s000 ₽\n", body)
    assert "Размер:" not in body  # a refusal has no amount
    assert "обжаловать" in body


def test_a_decision_reads_in_english_through_the_translations(calendar):
    case = worked(mother(salary="900000"))
    [portal, *_others] = [
        n
        for n in decision_notify(
            decision_id=case.decision.pk, source_key="test:en", now=timezone.now(), language="en"
        )
        if n.channel == NotificationChannel.PORTAL
    ]
    assert portal.language == "en"
    assert portal.subject.startswith(f"Decision No. {case.decision.number}")
    assert "you are refused" in portal.body
    assert re.search(
        r"The family's average monthly income per person \(450,000 RUB\) is not above the"
        r" subsistence minimum \(20,000 RUB\): not met",
        portal.body,
    )
    assert ": not met" in portal.body


def test_an_offer_carries_the_one_click_link(calendar, django_capture_on_commit_callbacks):
    case = worked(mother(), trigger_kind="life_event")
    assert case.status == CaseStatus.OFFERED

    with (
        override_settings(PORTAL_BASE_URL="https://portal.example/"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notify_offer(published(CASE_OFFERED_EVENT, case))

    portal = by_channel(case)["portal"]
    link = f"https://portal.example/my/offers/{case.pk}/"
    assert portal.kind == "offer" and portal.link == link
    assert link in portal.body
    assert "Ежемесячное пособие" in portal.body or case.measure.name in portal.body
    assert portal.source_key == f"{CASE_OFFERED_EVENT}:{case.pk}"


@pytest.mark.parametrize(
    ("contacts", "reason"),
    [
        ({"email": ""}, "Адрес электронной почты не указан"),
        ({"email": "anna@mail.example", "notification_channels": ["portal"]}, "не выбрал"),
    ],
)
def test_email_is_skipped_without_an_address_or_a_choice(
    calendar, mailoutbox, django_capture_on_commit_callbacks, contacts, reason
):
    who = mother(**{k: v for k, v in contacts.items() if k != "notification_channels"})
    if "notification_channels" in contacts:
        who.notification_channels = contacts["notification_channels"]
        who.save(update_fields=["notification_channels"])
    case = worked(who)
    with django_capture_on_commit_callbacks(execute=True):
        notify_decision([published(CASE_DECIDED_EVENT, case)])

    email = by_channel(case)["email"]
    assert email.status == NotificationStatus.SKIPPED
    assert reason in email.last_error
    assert mailoutbox == []
    assert by_channel(case)["portal"].status == NotificationStatus.SENT


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("+7 914 123-45-67", "+79141234567"),
        ("8 (914) 123-45-67", "+79141234567"),
        ("9141234567", "+79141234567"),
        ("+1 555 123 4567", None),
        ("12-34", None),
    ],
)
def test_phones_are_written_as_the_gateway_takes_them(raw, normal):
    assert phone_normalize(raw) == normal


def test_staff_of_another_region_do_not_see_the_notifications(
    client, calendar, officer_27, officer_77
):
    case = worked(mother(email="anna@mail.example"))
    notify_decision([published(CASE_DECIDED_EVENT, case)])
    portal = by_channel(case)["portal"]

    client.force_login(officer_27)
    own = client.get(NOTIFICATIONS, {"person": case.person_id, "channel": "portal"}).json()
    assert [n["id"] for n in own["results"]] == [portal.pk]
    assert client.get(NOTIFICATIONS, {"status": "pending"}).json()["count"] == 1  # the e-mail

    client.force_login(officer_77)
    assert client.get(NOTIFICATIONS).json()["count"] == 0
    assert client.get(f"{NOTIFICATIONS}{portal.pk}/").status_code == 404
