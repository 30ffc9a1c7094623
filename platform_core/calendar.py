"""Working days and deadlines from the production calendar.

Deadlines of law count working days. The calendar is reference data (CalendarDay rows,
seeded from the `holidays` package and editable), so a decree moving a day off is one edit.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from django.utils.translation import gettext_lazy as _

from platform_core.enums import DayKind
from platform_core.errors import DomainError
from platform_core.models import CalendarDay
from platform_core.models.calendar import WORKING_KINDS


class CalendarYearMissing(DomainError):
    code = "calendar_year_missing"


def calendar_year_days(*, year: int) -> list[CalendarDay]:
    """Build the days of one year from the Russian production calendar (not saved)."""
    ru = holidays.country_holidays("RU", years=year, language="ru")
    weekend_workdays = set(ru.weekend_workdays)
    days = []
    current = date(year, 1, 1)
    while current.year == year:
        name = ru.get(current)
        if name and current not in weekend_workdays:
            kind = DayKind.TRANSFERRED if name.startswith("Выходной") else DayKind.HOLIDAY
        elif current.weekday() >= 5 and current not in weekend_workdays:
            kind, name = DayKind.WEEKEND, ""
        else:
            # Labour Code art. 95: the working day before a public holiday is one hour shorter.
            next_day = current + timedelta(days=1)
            is_eve = next_day in ru and not ru[next_day].startswith("Выходной")
            kind = DayKind.SHORTENED if is_eve else DayKind.WORKING
            name = "Рабочий день (перенесён)" if current in weekend_workdays else ""
        days.append(CalendarDay(date=current, kind=kind, note=name or ""))
        current += timedelta(days=1)
    return days


def calendar_load_year(*, year: int) -> int:
    """Seed one year of the calendar, keeping days edited before; return days added."""
    existing = set(CalendarDay.objects.filter(date__year=year).values_list("date", flat=True))
    new_days = [day for day in calendar_year_days(year=year) if day.date not in existing]
    CalendarDay.objects.bulk_create(new_days, ignore_conflicts=True)
    return len(new_days)


def _working_days_from(start: date, horizon_days: int) -> list[date]:
    rows = list(
        CalendarDay.objects.filter(date__gt=start, date__lte=start + timedelta(days=horizon_days))
        .order_by("date")
        .values_list("date", "kind")
    )
    expected = horizon_days
    if len(rows) < expected:
        missing_year = (start + timedelta(days=len(rows) + 1)).year
        raise CalendarYearMissing(
            _("The production calendar for %(year)s is not loaded.") % {"year": missing_year}
        )
    return [d for d, kind in rows if kind in WORKING_KINDS]


def working_day_add(*, start: date, days: int) -> date:
    """Return the date that is `days` working days after start (start itself not counted).

    Raises CalendarYearMissing if the calendar does not cover the period.
    """
    if days <= 0:
        return start
    # Russia's longest run of days off is about two weeks; 3x + 30 days covers any count.
    working = _working_days_from(start, days * 3 + 30)
    return working[days - 1]


def deadline_at(*, moment: datetime, working_days: int, tz: str) -> datetime:
    """Return the end of the working day that is working_days after moment, in zone tz.

    The day counts in the region's own time zone: data that arrives at 23:30 in Khabarovsk
    starts the count from Khabarovsk's date, not Moscow's.
    """
    zone = ZoneInfo(tz)
    local_day = moment.astimezone(zone).date()
    last_day = working_day_add(start=local_day, days=working_days)
    return datetime.combine(last_day, time(23, 59, 59), tzinfo=zone)
