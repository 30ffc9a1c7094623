"""The emulated civil registry posts signed births over real HTTP to a running server."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from integration.enums import InboxStatus
from integration.models import InboundEvent
from registries.enums import LifeEventKind
from registries.models import LifeEvent, Person
from tests.integration.helpers import make_system
from tests.registries.factories import PersonFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_births_sent_over_http_are_received_and_applied(live_server, region_27):
    make_system("zags-27")
    mothers = [
        PersonFactory(first_name=f"Мать{n}", sex="F", birth_date=date(1995, 1, 1 + n))
        for n in range(3)
    ]
    out = io.StringIO()

    call_command(
        "emulate",
        "births",
        "--count",
        "3",
        "--url",
        live_server.url,
        "--date",
        "2026-11-20",
        "--seed",
        "1",
        stdout=out,
    )

    assert "received 3" in out.getvalue()
    assert InboundEvent.objects.filter(status=InboxStatus.APPLIED).count() == 3
    births = LifeEvent.objects.filter(kind=LifeEventKind.BIRTH, occurred_on=date(2026, 11, 20))
    assert sorted(e.details["mother_id"] for e in births) == sorted(m.pk for m in mothers)
    assert Person.objects.filter(birth_date=date(2026, 11, 20)).count() == 3


def test_batches_and_an_unknown_system_are_told(live_server, region_27):
    make_system("zags-27")
    for n in range(4):
        PersonFactory(first_name=f"Мать{n}", sex="F", birth_date=date(1996, 2, 1 + n))
    out = io.StringIO()

    call_command(
        "emulate",
        "births",
        "--count",
        "4",
        "--batch",
        "3",
        "--url",
        live_server.url,
        stdout=out,
    )

    assert "received 4" in out.getvalue()
    with pytest.raises(CommandError, match="zags-99"):
        call_command("emulate", "births", "--system", "zags-99", "--url", live_server.url)


def test_a_platform_that_does_not_answer_is_a_clear_error(region_27):
    make_system("zags-27")
    PersonFactory(sex="F", birth_date=date(1995, 1, 1))
    with pytest.raises(CommandError, match=r"127\.0\.0\.1:9"):
        call_command("emulate", "births", "--count", "1", "--url", "http://127.0.0.1:9")
