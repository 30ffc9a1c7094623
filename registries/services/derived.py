"""The derived fact tables computed in Python, for a bulk load that writes them itself.

A load with triggers off (population.py) cannot rely on the SQL functions of migrations 0004
and 0005 to fill registries_familymember, registries_incomeseries and registries_familyincome;
these functions derive the same rows from the data it generated, row for row:
tests/registries/test_derived.py proves that a generated population's rows equal what
registries_family_refresh() and registries_income_series_refresh() make of it.

Days are date ordinals; a span is [lower, upper) with upper None for "no end".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

Span = tuple[int, int | None]
# A period with no cut before it is tested for membership on this day (as the SQL does).
ANY_DAY = date(2000, 1, 1).toordinal()
ADULT_AGE = 18


@dataclass(frozen=True)
class Series:
    """Running income totals (kopecks) and months with income, from month number `first`."""

    first: int
    totals: list[int]
    months: list[int]

    def at(self, n: int) -> tuple[int, int]:
        """The running values at month n: 0 before the first month, the last after the end."""
        if n < self.first:
            return 0, 0
        k = min(n - self.first, len(self.totals) - 1)
        return self.totals[k], self.months[k]

    @property
    def last(self) -> int:
        return self.first + len(self.totals) - 1


@dataclass(frozen=True)
class Member:
    """A row of registries_familymember: member id, kind, birth and the spans they belong."""

    member: int
    kind: str
    birth: int
    spans: list[Span]


@dataclass(frozen=True)
class Period:
    """A row of registries_familyincome."""

    number: int
    starts: int | None
    ends: int | None
    size: int
    series: Series | None
    child_births: tuple[int, ...] = ()  # sorted


def income_series(records: Iterable[tuple[int, int, int]]) -> dict[int, Series]:
    """Each person's Series from (person, month number, kopecks) income records."""
    by_person: dict[int, dict[int, int]] = {}
    for person, n, kopecks in records:
        months = by_person.setdefault(person, {})
        months[n] = months.get(n, 0) + kopecks
    result = {}
    for person, months in by_person.items():
        first, last = min(months), max(months)
        total = counted = 0
        totals, counts = [], []
        for n in range(first, last + 1):
            if n in months:
                total += months[n]
                counted += 1
            totals.append(total)
            counts.append(counted)
        result[person] = Series(first, totals, counts)
    return result


def merge(spans: list[Span]) -> list[Span]:
    """Overlapping and adjacent spans made one, as PostgreSQL normalises a multirange."""
    if len(spans) == 1:
        return spans
    merged: list[list] = []
    for lower, upper in sorted(spans, key=lambda s: s[0]):
        if merged and (merged[-1][1] is None or lower <= merged[-1][1]):
            if merged[-1][1] is not None and (upper is None or upper > merged[-1][1]):
                merged[-1][1] = upper
            continue
        merged.append([lower, upper])
    return [(lower, upper) for lower, upper in merged]


def adult_day(birth: int) -> int:
    """The first day a person born on `birth` is 18 (1 March for 29 February)."""
    day = date.fromordinal(birth)
    if (day.month, day.day) == (2, 29):
        return date(day.year + ADULT_AGE, 3, 1).toordinal()
    return day.replace(year=day.year + ADULT_AGE).toordinal()


def _belongs(member: Member) -> list[Span]:
    """The spans a member counts in the family: a child only until coming of age."""
    if member.kind != "child":
        return member.spans
    adult = adult_day(member.birth)
    cut = [(lower, adult if upper is None else min(upper, adult)) for lower, upper in member.spans]
    return [(lower, upper) for lower, upper in cut if upper is None or lower < upper]


def family_income(person: int, members: list[Member], series: dict[int, Series]) -> list[Period]:
    """The periods of constant composition of a person's family, without those alone."""
    belongs = [(m, _belongs(m)) for m in members]
    if len(belongs) == 1 and len(belongs[0][1]) == 1:
        # One member, one span (the common case): alone before and after it.
        (only,) = members
        ((lower, upper),) = belongs[0][1]
        earners = [series[m] for m in (person, only.member) if m in series]
        return [Period(1, lower, upper, 2, _sum(earners), _child_births([only]))]
    cuts = sorted(
        {bound for _m, spans in belongs for span in spans for bound in span if bound is not None}
    )
    starts: list[int | None] = [None, *cuts]
    ends: list[int | None] = [*cuts, None]
    periods = []
    sums: dict[tuple[int, ...], Series | None] = {}  # periods often share their earners
    for number, (start, end) in enumerate(zip(starts, ends, strict=True)):
        day = start if start is not None else (end - 1 if end is not None else ANY_DAY)
        inside = [
            member
            for member, spans in belongs
            if any(lower <= day and (upper is None or day < upper) for lower, upper in spans)
        ]
        if not inside:
            continue
        earners = tuple(m for m in (person, *(i.member for i in inside)) if m in series)
        if earners not in sums:
            sums[earners] = _sum([series[m] for m in earners])
        periods.append(
            Period(number, start, end, 1 + len(inside), sums[earners], _child_births(inside))
        )
    return periods


def _child_births(members: list[Member]) -> tuple[int, ...]:
    return tuple(sorted(m.birth for m in members if m.kind == "child"))


def _sum(found: list[Series]) -> Series | None:
    """Running series added month by month over the months any of them spans."""
    if len(found) <= 1:
        return found[0] if found else None
    first, last = min(s.first for s in found), max(s.last for s in found)
    totals, months = [0] * (last - first + 1), [0] * (last - first + 1)
    for s in found:
        before, after = s.first - first, last - s.last
        for column, values in ((totals, s.totals), (months, s.months)):
            padded = [0] * before + values + [values[-1]] * after
            column[:] = [a + b for a, b in zip(column, padded, strict=True)]
    return Series(first, totals, months)


# COPY text, in the columns population.py names.


def _array(values: list[int]) -> str:
    return "{" + ",".join(map(str, values)) + "}"


def _range(lower: int | None, upper: int | None, day: Callable[[int], str]) -> str:
    left = "[" + day(lower) if lower is not None else "("
    return f"{left},{day(upper) if upper is not None else ''})"


def series_line(person: int, series: Series) -> str:
    return f"{person}\t{series.first}\t{_array(series.totals)}\t{_array(series.months)}\n"


def member_line(person: int, member: Member, day: Callable[[int], str]) -> str:
    spans = ",".join(_range(lower, upper, day) for lower, upper in member.spans)
    return f"{person}\t{member.member}\t{member.kind}\t{day(member.birth)}\t{{{spans}}}\n"


def period_line(person: int, period: Period, day: Callable[[int], str]) -> str:
    valid = _range(period.starts, period.ends, day)
    if period.series is None:
        money = "\\N\t\\N\t\\N"
    else:
        s = period.series
        money = f"{s.first}\t{_array(s.totals)}\t{_array(s.months)}"
    births = "{" + ",".join(map(day, period.child_births)) + "}"
    return f"{person}\t{period.number}\t{valid}\t{period.size}\t{money}\t{births}\n"
