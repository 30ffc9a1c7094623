"""Texts the platform writes once and people read later, each in their own language.

A case's timeline is written by a Celery worker in the platform's default language, and read
by a citizen who may have chosen English. A `Said` keeps the English msgid and its
parameters, so the text is stored as data (`as_json`) and translated when it is shown
(`said_plain`); the text as written is kept beside it for search and for the admin.

    said(gettext_noop("Assignment ended on %(day)s: %(reason)s"), day=..., reason=said(...))

The msgid is marked with `gettext_noop` so makemessages finds it; a parameter is a plain
value (a date, a number, a name, an officer's words), or a `Said` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext


@dataclass(frozen=True)
class Said:
    msgid: str
    params: dict[str, Any]

    def __str__(self) -> str:
        """The text in the active language."""
        return _render(self.as_json())

    def as_json(self) -> dict[str, Any]:
        return {
            "msgid": self.msgid,
            "params": {
                k: v.as_json() if isinstance(v, Said) else _plain(v) for k, v in self.params.items()
            },
        }


def said(msgid: str, **params: Any) -> Said:
    return Said(msgid, params)


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _render(data: dict[str, Any]) -> str:
    params = {
        k: _render(v) if isinstance(v, dict) and "msgid" in v else v
        for k, v in (data.get("params") or {}).items()
    }
    text = gettext(data["msgid"])
    return text % params if params else text


def said_plain(data: Any, written: str = "") -> str:
    """A stored `Said` in the active language; what was written where there is none (older
    rows, free text) or where it cannot be read."""
    if not isinstance(data, dict) or not isinstance(data.get("msgid"), str):
        return written
    try:
        return _render(data)
    except (KeyError, TypeError, ValueError):
        return written
