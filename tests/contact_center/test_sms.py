"""SMS go to the emulated gateway over real HTTP (a separate process), signed, once per
notification, and are retried with backoff when the gateway fails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings
from django.utils import timezone

from contact_center.enums import NotificationStatus
from contact_center.events import notify_decision
from contact_center.models import Notification
from contact_center.services import notification_send
from contact_center.tasks import send_due
from measures.services.cases import CASE_DECIDED_EVENT
from tests.contact_center.conftest import mother, published, worked
from tests.peers import Peers

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway(peers: Peers) -> Iterator[Peers]:
    """The session's SMS gateway as the platform's, put back to normal after the test."""
    with override_settings(SMS_GATEWAY_URL=peers.sms, SMS_GATEWAY_SECRET="demo-sms"):
        try:
            yield peers
        finally:
            peers.reset()


def sms_of(case) -> Notification:  # type: ignore[no-untyped-def]
    return Notification.objects.get(person=case.person, channel="sms")


def test_an_sms_reaches_the_gateway_over_http(
    calendar, gateway, django_capture_on_commit_callbacks
):
    before = gateway.stats("sms")
    case = worked(mother(phone="8 (914) 123-45-67"))
    with django_capture_on_commit_callbacks(execute=True):
        notify_decision([published(CASE_DECIDED_EVENT, case)])

    sms = sms_of(case)
    assert sms.status == NotificationStatus.SENT, sms.last_error
    assert sms.recipient == "+79141234567"
    received = gateway.call("sms", "GET", f"v1/messages/{sms.message_id}")
    assert received.status == 200
    assert received.body["phone"] == "+79141234567"
    assert received.body["text"] == sms.body
    assert case.decision.number in sms.body and f"/my/cases/{case.pk}/" in sms.body
    assert gateway.stats("sms")["accepted"] == before.get("accepted", 0) + 1


def test_an_sms_is_skipped_without_a_phone(calendar, gateway, django_capture_on_commit_callbacks):
    before = gateway.stats("sms")
    case = worked(mother(phone=""))
    with django_capture_on_commit_callbacks(execute=True):
        notify_decision([published(CASE_DECIDED_EVENT, case)])

    sms = sms_of(case)
    assert sms.status == NotificationStatus.SKIPPED
    assert "телефона" in sms.last_error
    assert gateway.stats("sms").get("accepted", 0) == before.get("accepted", 0)


def test_an_sms_is_retried_with_backoff_after_the_gateway_answers_503(
    calendar, gateway, django_capture_on_commit_callbacks
):
    case = worked(mother(phone="+79141234567"))
    gateway.control("sms", error_share=1)
    with django_capture_on_commit_callbacks(execute=True):
        notify_decision([published(CASE_DECIDED_EVENT, case)])

    failed = sms_of(case)
    assert failed.status == NotificationStatus.FAILED and failed.attempts == 1
    assert "503" in failed.last_error
    assert failed.next_attempt_at > timezone.now()  # the backoff
    assert send_due() == 0  # not due yet

    gateway.control("sms", error_share=0)
    assert notification_send(notification_id=failed.pk, now=failed.next_attempt_at) is not None
    sent = sms_of(case)
    assert sent.status == NotificationStatus.SENT and sent.attempts == 2
    assert sent.last_error == "" and sent.next_attempt_at is None
    received = gateway.call("sms", "GET", f"v1/messages/{sent.message_id}")
    assert received.status == 200


def test_a_notification_that_keeps_failing_is_given_up_then_sent_again_by_an_operator(
    admin_client, calendar, gateway, django_capture_on_commit_callbacks
):
    case = worked(mother(phone="+79141234567"))
    gateway.control("sms", error_share=1)
    with override_settings(NOTIFICATIONS_MAX_ATTEMPTS=2, NOTIFICATIONS_RETRY_BASE_SECONDS=0):
        with django_capture_on_commit_callbacks(execute=True):
            notify_decision([published(CASE_DECIDED_EVENT, case)])
        assert send_due() == 1  # the second and last attempt
    given_up = sms_of(case)
    assert given_up.status == NotificationStatus.FAILED and given_up.attempts == 2
    assert given_up.next_attempt_at is None and send_due() == 0

    gateway.control("sms", error_share=0)
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin_client.post(
            "/admin/contact_center/notification/",
            {"action": "send_again", "_selected_action": [given_up.pk]},
        )
    assert answer.status_code == 302
    assert sms_of(case).status == NotificationStatus.SENT
