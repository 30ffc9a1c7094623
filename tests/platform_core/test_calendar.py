"""Working days and deadlines from the production calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from platform_core.calendar import (
    CalendarYearMissing,
    calendar_load_year,
    deadline_at,
    working_day_add,
)
from platform_core.enums import DayKind
from platform_core.models import CalendarDay

pytestmark = pytest.mark.django_db


@pytest.fixture
def calendar_2025_2027(db):
    for year in (2025, 2026, 2027):
        calendar_load_year(year=year)


def test_year_has_transferred_days_off_and_working_saturdays(calendar_2025_2027):
    assert CalendarDay.objects.get(date=date(2026, 1, 9)).kind == DayKind.TRANSFERRED
    assert CalendarDay.objects.get(date=date(2025, 11, 1)).kind in (
        DayKind.WORKING,
        DayKind.SHORTENED,
    )
    assert CalendarDay.objects.get(date=date(2025, 11, 3)).kind == DayKind.TRANSFERRED
    assert CalendarDay.objects.get(date=date(2025, 12, 31)).kind == DayKind.TRANSFERRED
    assert (
        CalendarDay.objects.get(date=date(2026, 6, 11)).kind == DayKind.SHORTENED
    )  # eve of 12 June
    assert CalendarDay.objects.filter(date__year=2026).count() == 365


def test_two_working_days_skip_the_new_year_holidays(calendar_2025_2027):
    # Data arrived on Tuesday 30 December 2025; 31 Dec and 1-11 Jan are days off in 2026.
    assert working_day_add(start=date(2025, 12, 30), days=1) == date(2026, 1, 12)
    assert working_day_add(start=date(2025, 12, 30), days=2) == date(2026, 1, 13)
    # An ordinary week: Friday + 2 working days = Tuesday.
    assert working_day_add(start=date(2026, 3, 13), days=2) == date(2026, 3, 17)


def test_edited_day_changes_deadlines_and_survives_reload(calendar_2025_2027):
    CalendarDay.objects.filter(date=date(2026, 3, 16)).update(kind=DayKind.HOLIDAY, note="decree")
    assert working_day_add(start=date(2026, 3, 13), days=2) == date(2026, 3, 18)
    assert calendar_load_year(year=2026) == 0
    assert CalendarDay.objects.get(date=date(2026, 3, 16)).kind == DayKind.HOLIDAY


def test_deadline_counts_from_the_regions_own_date(calendar_2025_2027):
    # 14:30 UTC on Friday 13 March is already Saturday 14 March in Khabarovsk (UTC+10).
    moment = datetime(2026, 3, 13, 14, 30, tzinfo=UTC)
    khabarovsk = deadline_at(moment=moment, working_days=2, tz="Asia/Vladivostok")
    moscow = deadline_at(moment=moment, working_days=2, tz="Europe/Moscow")
    assert khabarovsk.date() == date(2026, 3, 17)  # from Saturday: Mon 16, Tue 17
    assert moscow.date() == date(2026, 3, 17)  # from Friday: Mon 16, Tue 17
    late = datetime(
        2026, 3, 12, 14, 30, tzinfo=UTC
    )  # Thursday in Moscow, Friday 00:30 in Khabarovsk
    assert deadline_at(moment=late, working_days=1, tz="Asia/Vladivostok").date() == date(
        2026, 3, 16
    )
    assert deadline_at(moment=late, working_days=1, tz="Europe/Moscow").date() == date(2026, 3, 13)
    assert khabarovsk.utcoffset().total_seconds() == 10 * 3600


def test_missing_year_is_a_clear_error_not_a_wrong_date(db):
    calendar_load_year(year=2026)
    with pytest.raises(CalendarYearMissing, match="2027"):
        working_day_add(start=date(2026, 12, 28), days=5)


def test_deadline_api(client, officer_27, region_27, calendar_2025_2027):
    client.force_login(officer_27)
    url = reverse("calendar-day-deadline")
    ok = client.get(url, {"start": "2025-12-30T09:00:00+03:00", "working_days": 2, "region": "27"})
    assert ok.status_code == 200
    assert ok.json()["deadline_local"] == "2026-01-13T23:59:59+10:00"
    assert ok.json()["deadline"] == "2026-01-13T13:59:59Z"
    bad = client.get(url, {"start": "yesterday", "working_days": -1, "region": "27"})
    assert bad.status_code == 400
    assert set(bad.json()) == {"start", "working_days"}
