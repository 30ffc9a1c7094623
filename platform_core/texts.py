"""Texts the platform writes once and people read later, each in their own language.

A case's timeline is written by a Celery worker in the platform's default language, and read
by a citizen who may have chosen English. A `Said` keeps the English msgid and its
parameters, so the text is stored as data (`as_json`) and translated when it is shown
(`said_plain`); the text as written is kept beside it for search and for the admin.

    said(gettext_noop("Assignment ended on %(day)s: %(reason)s"), day=..., reason=said(...))

The msgid is marked with `gettext_noop` so makemessages finds it; a parameter is a plain
value (a name, an officer's words), a date or a number (written in the reader's locale:
"1 марта 2026 г.", "1 234,50"), or a `Said` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext


@dataclass(frozen=True)
class Said:
    msgid: str
    params: dict[str, Any]

    def __str__(self) -> str:
        """The text in the active language."""
        return _render(self.as_json())

    def as_json(self) -> dict[str, Any]:
        return {"msgid": self.msgid, "params": {k: _plain(v) for k, v in self.params.items()}}


def said(msgid: str, **params: Any) -> Said:
    return Said(msgid, params)


def number_grouped(number: Decimal) -> str:
    """A number as the active locale writes it, grouped, with two decimals unless whole."""
    places = 0 if number == number.to_integral_value() else 2
    return number_format(round(number, places), decimal_pos=places, force_grouping=True)


def _plain(value: Any) -> Any:
    if isinstance(value, Said):
        return value.as_json()
    if isinstance(value, date) and not isinstance(value, datetime):
        return {"date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"number": str(value)}
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _param(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "msgid" in value:
        return _render(value)
    if "date" in value:
        return date_format(date.fromisoformat(value["date"]), "DATE_FORMAT")
    if "number" in value:
        return number_grouped(Decimal(value["number"]))
    raise ValueError(value)


def _render(data: dict[str, Any]) -> str:
    params = {k: _param(v) for k, v in (data.get("params") or {}).items()}
    text = gettext(data["msgid"])
    return text % params if params else text


def said_plain(data: Any, written: str = "") -> str:
    """A stored `Said` in the active language; what was written where there is none (older
    rows, free text) or where it cannot be read."""
    if not isinstance(data, dict) or not isinstance(data.get("msgid"), str):
        return written
    try:
        return _render(data)
    except (KeyError, TypeError, ValueError, InvalidOperation):
        return written
