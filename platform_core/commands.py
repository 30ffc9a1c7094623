"""Helpers shared by the operators' management commands of every app."""

from __future__ import annotations

import argparse
from datetime import date

from django.utils.formats import number_format
from django.utils.translation import gettext as _


def iso_date(text: str) -> date:
    """An argparse type: a date as 2025-01-31, or a clear message naming the value."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("%(value)r is not a date in the form 2025-01-31.") % {"value": text}
        ) from None


def grouped(number: int) -> str:
    """A count with the active language's thousands separator (12 345 in Russian)."""
    return number_format(number, force_grouping=True)
