"""Schemathesis against our own OpenAPI: whatever an integrator sends, never a 500.

Every operation of the schema is called with generated valid and invalid input, as an
officer of region 27 with data in two regions; any 5xx or a response that breaks the schema
fails the test.
"""

from __future__ import annotations

import base64

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings

from tests.registries.factories import PersonFactory


@pytest.fixture
def web_api(db, officer_27, region_27, region_77):
    PersonFactory(region_id="27")
    PersonFactory(region_id="77")
    # As Django's test client does: keep the test's transaction open across requests.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


AUTH = "Basic " + base64.b64encode(b"officer27:pass-Word-123").decode()


FUZZ = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


def test_api_never_answers_a_server_error(web_api):
    operations = [result.ok() for result in web_api.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:

        @FUZZ
        @given(case=operation.as_strategy())
        def check(case) -> None:
            response = case.call(headers={"Authorization": AUTH})
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} {case.query} {case.body!r}: {response.text[:500]}"
            )

        check()
