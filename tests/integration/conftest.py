"""Integration tests ask the API for answers in the language their messages are checked in."""

from __future__ import annotations

import pytest
from django.utils import translation

from tests.integration import helpers


@pytest.fixture
def english_messages():
    """English source strings, in the services and in the API's answers."""
    helpers.LANGUAGE[0] = "en"
    try:
        with translation.override("en"):
            yield
    finally:
        helpers.LANGUAGE[0] = "ru"
