"""A text written once and read in each reader's language (platform_core/texts.py)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext_noop

from platform_core.texts import said, said_plain


def test_a_said_text_is_stored_as_data_and_read_in_the_readers_language():
    text = said(
        gettext_noop("Assignment ended on %(day)s: %(reason)s"),
        day=date(2026, 3, 1),
        reason=said(gettext_noop("Death.")),
    )
    with translation.override("ru"):
        written = str(text)
    stored = json.loads(json.dumps(text.as_json()))  # as a JSON column keeps it

    assert written == "Назначение прекращено, последний день 1 марта 2026 г.: Смерть."
    with translation.override("en"):
        assert said_plain(stored, written) == "Assignment ended on March 1, 2026: Death."
    with translation.override("ru"):
        assert said_plain(stored, written) == written


def test_a_row_without_a_said_text_or_with_a_broken_one_shows_what_was_written():
    assert said_plain(None, "Как написано") == "Как написано"
    assert said_plain({}, "Как написано") == "Как написано"
    broken = {"msgid": "Assignment ended on %(day)s: %(reason)s", "params": {"day": "1"}}
    assert said_plain(broken, "Как написано") == "Как написано"
    money = said(
        gettext_noop(
            "Recalculated: %(difference)s RUB to %(day)s (arrears if positive, overpayment if negative)."
        ),
        difference=Decimal("-1234.50"),
        day=date(2026, 3, 1),
    )
    with translation.override("ru"):
        assert said_plain(money.as_json()).startswith(
            "Пересчитано: -1\xa0234,50 руб. по 1 марта 2026 г."
        )
    # An officer's own words are a parameter, never translated or read as a format.
    officer = said(gettext_noop("Refusal proposed: %(reason)s"), reason="100% %(x)s")
    with translation.override("en"):
        assert said_plain(officer.as_json(), "") == "Refusal proposed: 100% %(x)s"
