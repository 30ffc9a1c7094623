"""Loading the unified reference data (единая НСИ) from the CSV files shipped with the code.

The folder holds one UTF-8 CSV file with a header per kind of reference data (``FILES``
names them and their columns). Every row of every file is checked first; any problem refuses
the whole load, listing each as "file.csv, line N, column X: what is wrong", and nothing is
written. A good folder is upserted by natural key (plus valid_from for versioned rows) in one
transaction: a second load of the same files changes nothing. Rows in the database that a file
no longer lists are left alone: reference rows are referenced by history, never deleted here.

The production calendar of CALENDAR_YEARS is seeded too, keeping days edited before.
"""

from __future__ import annotations

import csv
import re
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils.translation import gettext as _

from platform_core.calendar import calendar_load_year
from platform_core.errors import DomainError
from platform_core.models import CalendarDay, Municipality, Region
from platform_core.validators import validate_account_for_bic, validate_bic
from registries.enums import SubsistenceGroup
from registries.models import Bank, ClassifierItem, SubsistenceMinimum

__all__ = [
    "CALENDAR_YEARS",
    "REFERENCE_DATA_DIR",
    "LoadCounts",
    "ReferenceDataError",
    "ReferenceLoadSummary",
    "reference_data_load",
]

REFERENCE_DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "reference"
CALENDAR_YEARS = range(2020, 2031)


@dataclass(frozen=True)
class _FileSpec:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


# In load order: municipalities and subsistence minimums refer to regions.
FILES = (
    _FileSpec(
        "regions.csv",
        ("code", "name", "name_en", "okato", "oktmo", "timezone", "federal_district"),
    ),
    _FileSpec("municipalities.csv", ("oktmo", "region_code", "name", "kind")),
    _FileSpec(
        "classifiers.csv",
        (
            "classifier",
            "code",
            "name",
            "name_en",
            "parent_code",
            "valid_from",
            "valid_to",
            "is_demo",
            "source",
        ),
    ),
    _FileSpec(
        "banks.csv",
        ("bic", "name", "correspondent_account", "city", "valid_from", "is_demo"),
        optional=("valid_to", "source"),
    ),
    _FileSpec(
        "subsistence_minimum.csv",
        ("region_code", "year", "group", "amount", "valid_from", "is_demo", "source"),
        optional=("valid_to",),
    ),
)

# [0-9] rather than \d: \d also matches non-ASCII digits.
_REGION_CODE_RE = re.compile(r"[0-9]{2}")
# A subject's OKATO is two digits, or five for an autonomous okrug inside an oblast (11100).
_OKATO_RE = re.compile(r"[0-9]{2}([0-9]{3})?")
_REGION_OKTMO_RE = re.compile(r"[0-9]{8}")
_MUNICIPALITY_OKTMO_RE = re.compile(r"[0-9]{8}([0-9]{3})?")
_CLASSIFIER_RE = re.compile(r"[a-z][a-z0-9_]*")
_CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_YEAR_RE = re.compile(r"[0-9]{4}")
# date.fromisoformat alone also takes 20240101 and 2024-W01-1.
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_AMOUNT_RE = re.compile(r"-?[0-9]+(\.[0-9]{1,2})?")
_BOOLEANS = {"true": True, "false": False}
# The Bank of Russia opens a bank's correspondent account in 30101 (balance account, roubles).
_CORRESPONDENT_PREFIX = "30101810"


class ReferenceDataError(DomainError):
    code = "reference_data_invalid"

    def __init__(self, errors: list[str]):
        super().__init__(
            _("The reference data was not loaded: %(count)s problem(s).") % {"count": len(errors)}
        )
        self.errors = errors


@dataclass
class LoadCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ReferenceLoadSummary:
    # Kind (file stem, or "calendar") -> counts, in load order.
    counts: dict[str, LoadCounts] = field(default_factory=dict)

    @property
    def created(self) -> int:
        return sum(c.created for c in self.counts.values())

    @property
    def updated(self) -> int:
        return sum(c.updated for c in self.counts.values())


class _Writer(Protocol):
    def write(self, msg: str, /) -> Any: ...


@dataclass
class _Row:
    """One data row of a file, with the checker that records its problems."""

    file: str
    line: int
    values: dict[str, str]
    errors: list[str]

    def fail(self, column: str, message: str) -> None:
        self.errors.append(f"{self.file}, line {self.line}, column {column}: {message}")

    def text(self, column: str, *, model: type[models.Model]) -> str:
        """Return the value, checking the length against the model field of that name."""
        value = self.values.get(column, "")
        max_length = model._meta.get_field(column).max_length
        if max_length and len(value) > max_length:
            self.fail(column, _("Longer than %(max)s characters.") % {"max": max_length})
        return value

    def required(self, column: str, *, model: type[models.Model]) -> str:
        value = self.text(column, model=model)
        if not value:
            self.fail(column, _("The value is missing."))
        return value

    def matching(self, column: str, pattern: re.Pattern[str], message: str) -> str:
        value = self.values.get(column, "")
        if not pattern.fullmatch(value):
            self.fail(column, message if value else _("The value is missing."))
        return value

    def date(self, column: str, *, optional: bool = False) -> date | None:
        value = self.values.get(column, "")
        if not value and optional:
            return None
        try:
            if _DATE_RE.fullmatch(value):
                return date.fromisoformat(value)
        except ValueError:
            pass
        self.fail(column, _("Enter a valid date as YYYY-MM-DD."))
        return None

    def boolean(self, column: str) -> bool:
        value = self.values.get(column, "").lower()
        if value not in _BOOLEANS:
            self.fail(column, _("Enter true or false."))
        return _BOOLEANS.get(value, False)

    def period(self) -> tuple[date | None, date | None]:
        valid_from = self.date("valid_from")
        valid_to = self.date("valid_to", optional=True)
        if valid_from and valid_to and valid_to < valid_from:
            self.fail("valid_to", _("The end of the period is before its start."))
        return valid_from, valid_to


def _rows(directory: Path, spec: _FileSpec, errors: list[str]) -> Iterator[_Row]:
    """Yield the data rows of one file; record file-level problems in errors."""
    path = directory / spec.name
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        errors.append(f"{spec.name}: " + _("The file is missing."))
        return
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = [name.strip() for name in reader.fieldnames or []]
            reader.fieldnames = header
            missing = [column for column in spec.required if column not in header]
            for column in missing:
                errors.append(
                    f"{spec.name}, line 1, column {column}: " + _("The column is missing.")
                )
            if missing:
                return
            for raw in reader:
                row = _Row(spec.name, reader.line_num, {}, errors)
                # A line of the wrong shape is reported once and not checked further: its
                # values may sit under the wrong columns.
                if None in raw:
                    row.fail(header[-1], _("The line has more fields than the header."))
                    continue
                short = [column for column in header if raw[column] is None]
                if short:
                    row.fail(short[0], _("The line has fewer fields than the header."))
                    continue
                row.values = {
                    column: (raw.get(column) or "").strip()
                    for column in spec.required + spec.optional
                }
                yield row
        except UnicodeDecodeError:
            errors.append(f"{spec.name}: " + _("The file is not UTF-8 text."))
        except csv.Error as exc:
            errors.append(f"{spec.name}, line {reader.line_num}: {exc}")


def _once(row: _Row, seen: dict[Any, int], key: Any, column: str) -> None:
    """Record a problem if key was already on an earlier line of the file."""
    if not all(key if isinstance(key, tuple) else (key,)):
        return  # A part of the key is wrong: that problem is reported already.
    if key in seen:
        row.fail(column, _("The same key is on line %(line)s.") % {"line": seen[key]})
    else:
        seen[key] = row.line


def _validator_messages(check: Callable[[], None]) -> list[str]:
    try:
        check()
    except ValidationError as exc:
        return list(exc.messages)
    return []


def _regions(rows: Iterator[_Row]) -> dict[str, dict[str, Any]]:
    timezones = zoneinfo.available_timezones()
    result: dict[str, dict[str, Any]] = {}
    seen: dict[Any, int] = {}
    for row in rows:
        before = len(row.errors)
        code = row.matching("code", _REGION_CODE_RE, _("Enter a two-digit region code."))
        _once(row, seen, code, "code")
        values = {
            "name": row.required("name", model=Region),
            "name_en": row.text("name_en", model=Region),
            "okato": row.matching("okato", _OKATO_RE, _("Enter an OKATO code of 2 or 5 digits.")),
            "oktmo": row.matching("oktmo", _REGION_OKTMO_RE, _("Enter an OKTMO code of 8 digits.")),
            "timezone": row.values["timezone"],
            "federal_district": row.text("federal_district", model=Region),
        }
        if values["timezone"] not in timezones:
            row.fail("timezone", _("Enter a valid IANA time zone, for example Asia/Vladivostok."))
        if len(row.errors) == before:
            result[code] = values
    return result


def _municipalities(
    rows: Iterator[_Row], *, region_oktmo: dict[str, str]
) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    seen: dict[Any, int] = {}
    for row in rows:
        before = len(row.errors)
        oktmo = row.matching(
            "oktmo", _MUNICIPALITY_OKTMO_RE, _("Enter an OKTMO code of 8 or 11 digits.")
        )
        _once(row, seen, oktmo, "oktmo")
        region = row.values["region_code"]
        if region not in region_oktmo:
            row.fail("region_code", _("Unknown region code %(code)s.") % {"code": region or '""'})
        elif oktmo and region_oktmo[region] and oktmo[:2] != region_oktmo[region][:2]:
            row.fail(
                "oktmo",
                _("The OKTMO code does not start with the region's %(prefix)s.")
                % {"prefix": region_oktmo[region][:2]},
            )
        values = {
            "region_id": region,
            "name": row.required("name", model=Municipality),
            "kind": row.text("kind", model=Municipality),
        }
        if len(row.errors) == before:
            result[oktmo] = values
    return result


def _classifier_items(rows: Iterator[_Row]) -> dict[tuple[Any, ...], dict[str, Any]]:
    result: dict[tuple[Any, ...], dict[str, Any]] = {}
    seen: dict[Any, int] = {}
    parents: list[tuple[_Row, str, str, tuple[Any, ...]]] = []
    known_codes = set(ClassifierItem.objects.values_list("classifier", "code"))
    for row in rows:
        before = len(row.errors)
        classifier = row.matching(
            "classifier", _CLASSIFIER_RE, _("Enter a classifier name of lower-case Latin letters.")
        )
        row.text("classifier", model=ClassifierItem)
        code = row.matching(
            "code", _CODE_RE, _("Enter a code of Latin letters, digits, '_', '.' or '-'.")
        )
        row.text("code", model=ClassifierItem)
        valid_from, valid_to = row.period()
        _once(row, seen, (classifier, code, valid_from), "code")
        known_codes.add((classifier, code))
        values = {
            "name": row.required("name", model=ClassifierItem),
            "name_en": row.text("name_en", model=ClassifierItem),
            "parent_code": row.text("parent_code", model=ClassifierItem),
            "valid_to": valid_to,
            "is_demo": row.boolean("is_demo"),
            "source": row.text("source", model=ClassifierItem),
        }
        key = (classifier, code, valid_from)
        if values["parent_code"]:
            parents.append((row, classifier, values["parent_code"], key))
        if len(row.errors) == before:
            result[key] = values
    # A parent may come later in the file than its children.
    for row, classifier, parent_code, key in parents:
        if (classifier, parent_code) not in known_codes:
            row.fail(
                "parent_code",
                _("Unknown parent code %(code)s in classifier %(classifier)s.")
                % {"code": parent_code, "classifier": classifier},
            )
            result.pop(key, None)
    return result


def _banks(rows: Iterator[_Row]) -> dict[tuple[Any, ...], dict[str, Any]]:
    result: dict[tuple[Any, ...], dict[str, Any]] = {}
    seen: dict[Any, int] = {}
    for row in rows:
        before = len(row.errors)
        bic = row.values["bic"]
        bic_errors = _validator_messages(lambda bic=bic: validate_bic(bic))
        for message in bic_errors:
            row.fail("bic", message)
        account = row.values["correspondent_account"]
        if account and not bic_errors:
            for message in _correspondent_account_messages(account, bic):
                row.fail("correspondent_account", message)
        valid_from, valid_to = row.period()
        _once(row, seen, (bic, valid_from), "bic")
        values = {
            "name": row.required("name", model=Bank),
            "correspondent_account": account,
            "city": row.text("city", model=Bank),
            "valid_to": valid_to,
            "is_demo": row.boolean("is_demo"),
            "source": row.text("source", model=Bank),
        }
        if len(row.errors) == before:
            result[bic, valid_from] = values
    return result


def _correspondent_account_messages(account: str, bic: str) -> list[str]:
    """Check a bank's correspondent account against its BIC; return the problems."""
    if not (account.isascii() and account.isdigit() and len(account) == 20):
        return [_("Enter a valid account number: 20 digits.")]
    problems = []
    if not account.startswith(_CORRESPONDENT_PREFIX):
        problems.append(_("A correspondent account starts with 30101810."))
    if account[-3:] != bic[-3:]:
        problems.append(_("The last 3 digits must be the BIC's last 3 digits."))
    # The account is held at a Bank of Russia division, so its control key is computed with
    # that division's conventional number "0" + BIC digits 5-6, not with the bank's own BIC
    # digits 7-9 as for a client's account: validate_account_for_bic applies that rule to
    # a BIC ending in 000.
    problems += _validator_messages(lambda: validate_account_for_bic(account, bic[:6] + "000"))
    return problems


def _subsistence_minimums(
    rows: Iterator[_Row], *, region_codes: set[str]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    result: dict[tuple[Any, ...], dict[str, Any]] = {}
    seen: dict[Any, int] = {}
    max_digits = SubsistenceMinimum._meta.get_field("amount").max_digits or 10
    for row in rows:
        before = len(row.errors)
        region = row.values["region_code"]
        if region not in region_codes:
            row.fail("region_code", _("Unknown region code %(code)s.") % {"code": region or '""'})
        year_text = row.matching("year", _YEAR_RE, _("Enter a four-digit year."))
        year = int(year_text) if _YEAR_RE.fullmatch(year_text) else None
        group = row.values["group"]
        if group not in SubsistenceGroup.values:
            row.fail(
                "group",
                _("The group must be one of: %(groups)s.")
                % {"groups": ", ".join(SubsistenceGroup.values)},
            )
        amount = _amount(row, max_digits=max_digits)
        valid_from, valid_to = row.period()
        if year and valid_from and valid_from.year != year:
            row.fail(
                "valid_from", _("The date must fall within the year %(year)s.") % {"year": year}
            )
        _once(row, seen, (region, year, group, valid_from), "group")
        values = {
            "amount": amount,
            "valid_to": valid_to,
            "is_demo": row.boolean("is_demo"),
            "source": row.text("source", model=SubsistenceMinimum),
        }
        if len(row.errors) == before:
            result[region, year, group, valid_from] = values
    return result


def _amount(row: _Row, *, max_digits: int) -> Decimal | None:
    text = row.values["amount"]
    try:
        amount = Decimal(text) if _AMOUNT_RE.fullmatch(text) else None
    except InvalidOperation:
        amount = None
    if amount is None:
        row.fail("amount", _("Enter an amount in roubles, for example 17733.00."))
    elif amount <= 0:
        row.fail("amount", _("The amount must be positive."))
    elif amount >= 10 ** (max_digits - 2):
        row.fail("amount", _("The amount is too large."))
    return amount


def _upsert(
    model: type[models.Model], key_fields: tuple[str, ...], rows: dict[Any, dict[str, Any]]
) -> LoadCounts:
    """Create new rows and update changed ones by natural key; count each outcome."""
    manager = model._default_manager
    value_fields = list(next(iter(rows.values()), {}))
    stored = {tuple(getattr(obj, name) for name in key_fields): obj for obj in manager.all()}
    counts = LoadCounts()
    new, changed = [], []
    for key, values in rows.items():
        key_tuple = key if isinstance(key, tuple) else (key,)
        obj = stored.get(key_tuple)
        if obj is None:
            new.append(model(**dict(zip(key_fields, key_tuple, strict=True)), **values))
        elif any(getattr(obj, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(obj, name, value)
            changed.append(obj)
        else:
            counts.unchanged += 1
    manager.bulk_create(new, batch_size=1000)
    if changed:
        manager.bulk_update(changed, value_fields, batch_size=1000)
    counts.created, counts.updated = len(new), len(changed)
    return counts


def _calendar_seed() -> LoadCounts:
    """Seed the production calendar of CALENDAR_YEARS, keeping existing (maybe edited) days."""
    created = sum(calendar_load_year(year=year) for year in CALENDAR_YEARS)
    total = CalendarDay.objects.filter(date__year__in=list(CALENDAR_YEARS)).count()
    return LoadCounts(created=created, unchanged=total - created)


def reference_data_load(*, directory: Path, stdout: _Writer | None = None) -> ReferenceLoadSummary:
    """Check and load every reference data file of directory, and seed the calendar.

    Raises ReferenceDataError, listing every problem as "file, line, column: problem" and
    writing nothing, if any file is missing or any row is wrong.
    """

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message)

    errors: list[str] = []
    spec = {s.name: s for s in FILES}
    with transaction.atomic():
        # Loads run one at a time: two would race past each other's key checks.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('registries.reference_load'))")
        regions = _regions(_rows(directory, spec["regions.csv"], errors))
        region_oktmo = dict(Region.objects.values_list("code", "oktmo"))
        region_oktmo.update({code: values["oktmo"] for code, values in regions.items()})
        # A row refused in regions.csv is still a region the other files may name: its
        # own problem is reported once, not again on every line that refers to it.
        for code in _row_keys(directory, "regions.csv", "code"):
            region_oktmo.setdefault(code, "")
        municipalities = _municipalities(
            _rows(directory, spec["municipalities.csv"], errors), region_oktmo=region_oktmo
        )
        classifier_items = _classifier_items(_rows(directory, spec["classifiers.csv"], errors))
        banks = _banks(_rows(directory, spec["banks.csv"], errors))
        minimums = _subsistence_minimums(
            _rows(directory, spec["subsistence_minimum.csv"], errors),
            region_codes=set(region_oktmo),
        )
        if errors:
            raise ReferenceDataError(errors)
        summary = ReferenceLoadSummary()
        for kind, model, key_fields, rows in (
            ("regions", Region, ("code",), regions),
            ("municipalities", Municipality, ("oktmo",), municipalities),
            ("classifiers", ClassifierItem, ("classifier", "code", "valid_from"), classifier_items),
            ("banks", Bank, ("bic", "valid_from"), banks),
            (
                "subsistence_minimum",
                SubsistenceMinimum,
                ("region_id", "year", "group", "valid_from"),
                minimums,
            ),
        ):
            summary.counts[kind] = _upsert(model, key_fields, rows)
            say(f"{kind}: {len(rows)} rows checked and loaded.")
        summary.counts["calendar"] = _calendar_seed()
        say(f"calendar: {CALENDAR_YEARS.start}-{CALENDAR_YEARS.stop - 1} seeded.")
    return summary


def _row_keys(directory: Path, file_name: str, column: str) -> set[str]:
    """Return the stripped values of one column of a file, ignoring any problem."""
    try:
        with (directory / file_name).open(encoding="utf-8-sig", newline="") as handle:
            return {(row.get(column) or "").strip() for row in csv.DictReader(handle)} - {""}
    except (OSError, UnicodeDecodeError, csv.Error):
        return set()
