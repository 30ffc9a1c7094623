"""Everything a user sees is Russian first: every string in the code has a Russian translation."""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from django.utils import translation

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "locale" / "ru" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
APPS = [
    "config",
    "platform_core",
    "registries",
    "integration",
    "measures",
    "treasury",
    "frontoffice",
    "contact_center",
    "insurers",
    "analytics",
]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
}


def catalog():
    with PO.open("rb") as handle:
        return read_po(handle)


def code_strings() -> set[str]:
    found = set()
    for app in APPS:
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT / app, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_string_in_the_code_has_a_russian_translation():
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog()
        if m.id and m.string and not m.fuzzy
    }
    missing = sorted(code_strings() - translated)
    assert not missing, "run `make messages` and translate: " + "; ".join(missing[:20])


def test_compiled_catalogue_matches_the_po_file():
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for message in catalog():
        if message.id and isinstance(message.id, str) and message.string:
            assert compiled.gettext(message.id) == message.string, (
                f"stale django.mo: {message.id!r}"
            )


@pytest.mark.parametrize(("language", "expected"), [("ru", "физическое лицо"), ("en", "person")])
def test_verbose_names_follow_the_active_language(language, expected):
    from registries.models import Person

    with translation.override(language):
        assert str(Person._meta.verbose_name) == expected
