"""Schemathesis against our own OpenAPI: whatever an integrator sends, never a 500.

Every operation of the schema is called with generated valid and invalid input, as an
officer of region 27 with data in two regions; any 5xx or a response that breaks the schema
fails the test.
"""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings

from tests.registries.factories import PersonFactory


@pytest.fixture
def web_api(openapi_over_wsgi, officer_27, region_27, region_77):
    PersonFactory(region_id="27")
    PersonFactory(region_id="77")
    return openapi_over_wsgi


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
