import pytest
from django.core.cache import cache

from tests.measures.conftest import loaded_catalogue  # noqa: F401 (a fixture)
from tests.measures.test_applications import calendar  # noqa: F401 (a fixture)


@pytest.fixture(autouse=True)
def _fresh_login_counts():
    """The login rate limit counts in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()
