"""What the emulated agencies know about a person: made up from the SNILS, the same every time.

Each kind draws from its own generator seeded by a hash of the SNILS digits and the kind, so
one SNILS always gets the same answer, and a person's income does not change when another
agency is asked about them. About one SNILS in twenty has no record at a given agency.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

NOT_FOUND_SHARE = 0.05
REGION = "27"

CITIES = (
    "г. Хабаровск",
    "г. Хабаровск",
    "г. Хабаровск",
    "г. Комсомольск-на-Амуре",
    "г. Амурск",
    "г. Советская Гавань",
    "г. Николаевск-на-Амуре",
    "р.п. Ванино",
    "г. Бикин",
)
STREETS = (
    "ул. Ленина",
    "ул. Карла Маркса",
    "ул. Серышева",
    "ул. Тихоокеанская",
    "ул. Пионерская",
    "ул. Краснодарская",
    "ул. Запарина",
    "пр-кт 60-летия Октября",
    "ул. Дикопольцева",
    "пер. Студенческий",
)
INSTITUTIONS = (
    "ФГБОУ ВО «Тихоокеанский государственный университет»",
    "ФГБОУ ВО «Дальневосточный государственный медицинский университет»",
    "ФГБОУ ВО «Хабаровский государственный университет экономики и права»",
    "ФГБОУ ВО «Амурский гуманитарно-педагогический государственный университет»",
    "КГБ ПОУ «Хабаровский технический колледж»",
    "КГБ ПОУ «Хабаровский педагогический колледж имени Героя Советского Союза Д. Л. Калараша»",
    "КГБ ПОУ «Комсомольский-на-Амуре строительный колледж»",
)
SFR = "Социальный фонд России"
# Measures another body pays: title, payer, monthly amount range in roubles.
BENEFITS = (
    ("Единое пособие в связи с рождением и воспитанием ребенка", SFR, (9000, 32000)),
    ("Ежемесячная денежная выплата инвалидам", SFR, (3500, 6500)),
    ("Ежемесячная выплата из средств материнского (семейного) капитала", SFR, (16000, 17500)),
    ("Ежемесячное пособие по уходу за ребенком до 1,5 лет", SFR, (9300, 49000)),
    ("Ежемесячная денежная выплата ветеранам труда", "КГКУ «ЦСПН по г. Хабаровску»", (900, 1300)),
)


def _rng(digits: str, kind: str) -> random.Random:
    seed = hashlib.sha256(f"{digits}:{kind}".encode()).digest()
    return random.Random(int.from_bytes(seed[:8], "big"))


def _money(value: float) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def _day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def company_inn(rng: random.Random) -> str:
    """Return a valid 10-digit INN of an organisation registered in the demo region."""
    head = REGION + "".join(str(rng.randrange(10)) for _ in range(7))
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    check = sum(int(d) * w for d, w in zip(head, weights, strict=True)) % 11 % 10
    return f"{head}{check}"


def months(first: str, last: str) -> list[str]:
    """Return the months from first to last (YYYY-MM), both included."""
    year, month = map(int, first.split("-"))
    end = tuple(map(int, last.split("-")))
    found = []
    while (year, month) <= end:
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def _line(month: str, amount: float, kind: str, payer_inn: str) -> dict[str, str]:
    return {"month": month, "amount": _money(amount), "kind": kind, "payer_inn": payer_inn}


def _income(rng: random.Random, digits: str, params: dict[str, Any]) -> dict[str, Any]:
    if rng.random() < 0.1:
        return {"incomes": []}  # no taxable income at all: not working, not paid
    employer = company_inn(rng)
    salary = rng.uniform(22000, 130000)
    business = company_inn(rng) if rng.random() < 0.08 else None
    other = rng.random() < 0.2
    incomes = []
    for month in months(params["from"], params["to"]):
        # Each month from its own generator: overlapping periods agree on their common months.
        monthly = _rng(digits, f"income:{month}")
        amount = salary * monthly.uniform(0.9, 1.2)
        incomes.append(_line(month, amount, "salary", employer))
        if business:
            incomes.append(_line(month, monthly.uniform(5000, 60000), "business", business))
        if other and monthly.random() < 0.25:
            payer = company_inn(monthly)
            incomes.append(_line(month, monthly.uniform(1000, 15000), "other", payer))
    return {"incomes": incomes}


def _benefits(rng: random.Random, digits: str, params: dict[str, Any]) -> dict[str, Any]:
    if rng.random() < 0.45:
        return {"payments": []}
    payments = []
    for title, payer, (low, high) in rng.sample(BENEFITS, rng.choice((1, 1, 2))):
        amount = _money(round(rng.uniform(low, high), -1))
        since = rng.choice(months("2018-01", "2026-12"))
        payments += [
            {"month": month, "amount": amount, "measure": title, "payer": payer}
            for month in months(params["from"], params["to"])
            if month >= since
        ]
    payments.sort(key=lambda p: p["month"])
    return {"payments": payments}


def _address(rng: random.Random, digits: str, params: dict[str, Any]) -> dict[str, Any]:
    city = rng.choice(CITIES)
    text = f"Хабаровский край, {city}, {rng.choice(STREETS)}, д. {rng.randint(1, 120)}"
    if rng.random() < 0.85:
        text += f", кв. {rng.randint(1, 240)}"
    registered = _day(rng, date(1995, 1, 1), date(2025, 12, 31))
    return {"address": {"region": REGION, "text": text, "registered_from": registered.isoformat()}}


def _education(rng: random.Random, digits: str, params: dict[str, Any]) -> dict[str, Any]:
    enrolled = rng.random() < 0.75
    institution = rng.choice(INSTITUTIONS)
    full_time = rng.random() < 0.85
    if enrolled:
        start, end = date(rng.randint(2020, 2025), 9, 1), None
    else:
        # Finished: the record of the last enrolment, with its end.
        first = rng.randint(2012, 2020)
        start, end = date(first, 9, 1), date(first + rng.randint(2, 4), 6, 30)
    return {
        "enrolled": enrolled,
        "institution": institution,
        "full_time": full_time,
        "from": start.isoformat(),
        "to": end.isoformat() if end else None,
    }


def _disability(rng: random.Random, digits: str, params: dict[str, Any]) -> dict[str, Any]:
    group = rng.choices(("1", "2", "3", "child"), weights=(15, 40, 35, 10))[0]
    start = _day(rng, date(2008, 1, 1), date(2025, 12, 31))
    if group == "child":
        end: date | None = date(start.year + rng.randint(2, 10), start.month, 1)
    else:
        # Groups 2 and 3 are often set until the next examination; group 1 more often for life.
        end = date(start.year + rng.choice((1, 2)), start.month, 1) if rng.random() < 0.5 else None
    return {
        "group": group,
        "from": start.isoformat(),
        "to": end.isoformat() if end else None,
        "from_childhood": group != "child" and rng.random() < 0.15,
    }


def _pension(rng: random.Random, digits: str, params: dict[str, Any]) -> dict[str, Any]:
    if rng.random() >= 0.35:
        return {"pensioner": False, "kind": None, "since": None, "amount": None}
    kind = rng.choices(("old_age", "disability", "survivor"), weights=(80, 15, 5))[0]
    since = _day(rng, date(2008, 1, 1), date(2025, 12, 31))
    return {
        "pensioner": True,
        "kind": kind,
        "since": since.isoformat(),
        "amount": _money(round(rng.uniform(12500, 45000), 2)),
    }


MAKERS: dict[str, Callable[[random.Random, str, dict[str, Any]], dict[str, Any]]] = {
    "income": _income,
    "benefits": _benefits,
    "address": _address,
    "education": _education,
    "disability": _disability,
    "pension": _pension,
}


def answer(*, kind: str, snils: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """Return the agency's data about the person for a kind, or None when it has no record."""
    digits = "".join(c for c in snils if c.isdigit())
    rng = _rng(digits, kind)
    if rng.random() < NOT_FOUND_SHARE:
        return None
    return MAKERS[kind](rng, digits, params)
