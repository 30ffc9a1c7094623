"""The kernel's API: OpenAPI schema, event log, replay, audit of views; powers decide access."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from platform_core import bus
from platform_core.enums import DeliveryStatus, OrganisationKind, Power, Role
from platform_core.models import EventDelivery, Organisation, PersonalFileView
from platform_core.roles import roles_sync, user_role_apply
from tests.conftest import make_staff
from tests.registries.factories import PersonFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def platform_operator(db):
    sfr = Organisation.objects.create(
        name="СФР", kind=OrganisationKind.FEDERAL_BODY, powers=[Power.OPERATE_PLATFORM]
    )
    return make_staff("ops", sfr, role=Role.PLATFORM_OPERATOR)


def test_openapi_schema_generates_without_warnings(tmp_path, capsys):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(out), "--validate", "--fail-on-warn")
    text = out.read_text()
    assert "/api/v1/registries/persons/by-snils/{snils}/" in text
    assert "/api/v1/core/deliveries/{id}/replay/" in text


def test_swagger_ui_is_served_without_external_assets(client, officer_27):
    client.force_login(officer_27)
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert "cdn.jsdelivr" not in page.content.decode()


def test_event_stats_and_replay_for_platform_operators_only(
    client, settings, platform_operator, officer_27
):
    settings.EVENTS_MAX_ATTEMPTS = 1
    event = bus.publish("tests.flaky", {"fail_times": 1})
    delivery = EventDelivery.objects.get(event=event)
    assert delivery.status == DeliveryStatus.DEAD

    client.force_login(officer_27)  # a regional officer has no power over the platform
    assert client.get(reverse("event-stats")).status_code == 403
    assert client.post(reverse("delivery-replay", args=[delivery.pk])).status_code == 404

    client.force_login(platform_operator)
    stats = {row["event_type"]: row for row in client.get(reverse("event-stats")).json()}
    assert stats["tests.flaky"]["dead"] == 1
    listed = client.get(reverse("delivery-list"), {"status": "dead"}).json()["results"]
    assert [d["id"] for d in listed] == [delivery.pk]
    replayed = client.post(reverse("delivery-replay", args=[delivery.pk]))
    assert replayed.status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DONE
    again = client.post(reverse("delivery-replay", args=[delivery.pk]))
    assert again.status_code == 409
    assert "detail" in again.json()


def test_admin_view_of_a_personal_file_is_logged(client, officer_27, region_27):
    roles_sync()
    user_role_apply(user=officer_27)
    person = PersonFactory()
    client.force_login(officer_27)
    response = client.get(reverse("admin:registries_person_change", args=[person.pk]))
    assert response.status_code == 200
    view = PersonalFileView.objects.get()
    assert (view.actor, view.subject_id, view.channel) == (officer_27, str(person.pk), "admin")


def test_admin_event_log_shows_counts(client, platform_operator):
    roles_sync()
    user_role_apply(user=platform_operator)
    bus.publish("tests.ping", {"n": 1})
    client.force_login(platform_operator)
    page = client.get(reverse("admin:platform_core_outboxevent_changelist"))
    assert page.status_code == 200
    assert "tests.ping" in page.content.decode()
