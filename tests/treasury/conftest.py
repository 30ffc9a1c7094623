"""The treasury pays what the measures assigned: their fixtures are the treasury's too."""

from tests.measures.conftest import loaded_catalogue  # noqa: F401 (a fixture)
