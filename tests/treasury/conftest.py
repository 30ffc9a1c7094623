"""The treasury pays what the measures assigned: their fixtures are the treasury's too."""

import pytest

from tests.measures.conftest import loaded_catalogue  # noqa: F401 (a fixture)


@pytest.fixture(autouse=True)
def _treasury(settings, tmp_path):  # type: ignore[no-untyped-def]
    """The tests' months are in 2025; their payment files go to a temporary folder."""
    settings.TREASURY_FIRST_PERIOD = "2025-01-01"
    settings.TREASURY_FILES_DIR = tmp_path
