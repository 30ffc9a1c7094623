"""Import of insurers from the tax service's registers (ЕГРЮЛ, ЕГРИП) and small CSV lists.

Each record is checked (identifiers and their check digits by kind, region, dates, name,
repeats within the file, an OGRN held by another insurer) and upserted by INN in batches,
all in one transaction. Problems name the record's line (in XML, the line of its Документ
start tag) and the field, as named in the CSV header. Modes:

* all_or_nothing (default): any problem refuses the whole file.
* keep_good: good records are written; the bad ones come back in the report.

A file that cannot be read as a whole (unknown extension, XML not well-formed or with a
DOCTYPE, a wrong CSV header) is refused in both modes. The formats are read by
registries.services.insurer_files.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from platform_core.models import Region
from platform_core.validators import (
    validate_inn_individual,
    validate_inn_legal,
    validate_kpp,
    validate_ogrn,
    validate_ogrnip,
)
from registries.enums import InsurerKind
from registries.models import Insurer
from registries.services.insurer_files import (
    ImportProblem,
    InsurerImportError,
    InsurerRecord,
    Progress,
    insurer_file_records,
)

__all__ = [
    "ALL_OR_NOTHING",
    "KEEP_GOOD",
    "ImportProblem",
    "InsurerImportError",
    "InsurerImportReport",
    "insurers_import",
]

ALL_OR_NOTHING = "all_or_nothing"
KEEP_GOOD = "keep_good"
IMPORT_MODES = (ALL_OR_NOTHING, KEEP_GOOD)

# Records checked against the database and written per round trip.
BATCH_SIZE = 2000

# Compared on re-import and overwritten on a change; inn is the key of the upsert.
_UPDATED_FIELDS = (
    "kind", "name", "ogrn", "kpp", "okved", "registration_number", "region",
    "registered_on", "deregistered_on", "source",
)  # fmt: skip
_ATTNAMES = tuple(Insurer._meta.get_field(name).attname for name in _UPDATED_FIELDS)
_NAME_MAX_LENGTH = Insurer._meta.get_field("name").max_length

# date.fromisoformat alone also takes 20240101 and 2024-W01-1.
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# OKVED 2: class, subclass, group, subgroup, kind: 88, 88.1, 88.10, 01.11.1, 01.11.11.
_OKVED_RE = re.compile(r"[0-9]{2}(\.[0-9]{1,2}){0,2}")
_REGISTRATION_NUMBER_RE = re.compile(r"[0-9]{10}")


@dataclass(frozen=True)
class InsurerImportReport:
    created: int
    updated: int
    unchanged: int
    # keep_good mode: the records not written and why, in file order.
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len({problem.line for problem in self.problems})


def _record_values(
    record: InsurerRecord, *, region_codes: set[str]
) -> tuple[dict[str, Any] | None, list[ImportProblem]]:
    """Check one record; return the Insurer's field values, or None and the problems."""
    problems: list[ImportProblem] = []

    def fail(field_name: str, message: str) -> None:
        problems.append(ImportProblem(record.line, field_name, message))

    def check(field_name: str, validator: Callable[[str], None], value: str) -> None:
        try:
            validator(value)
        except ValidationError as exc:
            for message in exc.messages:
                fail(field_name, message)

    def parse_date(field_name: str, value: str) -> date | None:
        try:
            if _DATE_RE.fullmatch(value):
                return date.fromisoformat(value)
        except ValueError:
            pass
        fail(field_name, _("Enter a valid date as YYYY-MM-DD."))
        return None

    name = " ".join(record.name.split())
    if not name:
        fail("name", _("The name is missing."))
    elif len(name) > _NAME_MAX_LENGTH:
        fail("name", _("The name is longer than %(max)s characters.") % {"max": _NAME_MAX_LENGTH})

    if record.kind == InsurerKind.LEGAL_ENTITY:
        check("inn", validate_inn_legal, record.inn)
        check("ogrn", validate_ogrn, record.ogrn)
        if record.kpp:
            check("kpp", validate_kpp, record.kpp)
        else:
            fail("kpp", _("A legal entity must have a KPP."))
    elif record.kind == InsurerKind.ENTREPRENEUR:
        check("inn", validate_inn_individual, record.inn)
        check("ogrn", validate_ogrnip, record.ogrn)
        if record.kpp:
            fail("kpp", _("An entrepreneur has no KPP."))
    else:
        fail(
            "kind",
            _("The kind must be one of: %(kinds)s.") % {"kinds": ", ".join(InsurerKind.values)},
        )

    if record.okved and not _OKVED_RE.fullmatch(record.okved):
        fail("okved", _("Enter a valid OKVED code, for example 88.10."))
    if record.registration_number and not _REGISTRATION_NUMBER_RE.fullmatch(
        record.registration_number
    ):
        fail("registration_number", _("Enter a valid Social Fund registration number: 10 digits."))
    if not record.region_code:
        fail("region_code", _("The region is missing."))
    elif record.region_code not in region_codes:
        fail("region_code", _("Unknown region code %(code)s.") % {"code": record.region_code})

    registered_on = parse_date("registered_on", record.registered_on)
    deregistered_on = (
        parse_date("deregistered_on", record.deregistered_on) if record.deregistered_on else None
    )
    if registered_on and deregistered_on and deregistered_on < registered_on:
        fail("deregistered_on", _("Deregistration cannot be before registration."))

    if problems:
        return None, problems
    return {
        "inn": record.inn,
        "kind": record.kind,
        "name": name,
        "ogrn": record.ogrn,
        "kpp": record.kpp,
        "okved": record.okved,
        "registration_number": record.registration_number,
        "region_id": record.region_code,
        "registered_on": registered_on,
        "deregistered_on": deregistered_on,
        "source": record.source,
    }, []


def _batch_upsert(
    batch: list[tuple[int, dict[str, Any]]], *, problems: list[ImportProblem], write: bool
) -> tuple[int, int, int]:
    """Create or update one batch of checked records; return (created, updated, unchanged)."""
    inns = [values["inn"] for _line, values in batch]
    ogrns = [values["ogrn"] for _line, values in batch]
    stored = {
        inn: tuple(old)
        for inn, *old in Insurer.objects.filter(inn__in=inns).values_list("inn", *_ATTNAMES)
    }
    # Two queries: one with Q(...) | Q(...) made the first import of 100k rows 40% slower.
    ogrn_owners = dict(Insurer.objects.filter(ogrn__in=ogrns).values_list("ogrn", "inn"))
    rows: list[Insurer] = []
    created = unchanged = 0
    for line, values in batch:
        if ogrn_owners.get(values["ogrn"], values["inn"]) != values["inn"]:
            problems.append(
                ImportProblem(line, "ogrn", _("Another insurer in the registry has this OGRN."))
            )
            continue
        old = stored.get(values["inn"])
        if old is None:
            created += 1
        elif old == tuple(values[attname] for attname in _ATTNAMES):
            unchanged += 1
            continue
        rows.append(Insurer(**values))
    if write:
        # One INSERT ... ON CONFLICT (inn) DO UPDATE per batch for new and changed rows
        # alike: bulk_update's CASE per field and row took minutes for 100k changed rows.
        Insurer.objects.bulk_create(
            rows,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["inn"],
            update_fields=_UPDATED_FIELDS,
        )
    return created, len(rows) - created, unchanged


def insurers_import(
    *, path: Path, mode: str = ALL_OR_NOTHING, progress: Progress | None = None
) -> InsurerImportReport:
    """Create or update insurers by INN from a ЕГРЮЛ/ЕГРИП XML extract or a CSV list.

    Raises InsurerImportError, listing every problem and writing nothing, on any problem in
    all_or_nothing mode and in both modes if the file cannot be read as a whole; OSError
    if it cannot be opened. Rows are written in bulk, so django-simple-history records no
    history of these changes.
    """
    if mode not in IMPORT_MODES:
        raise ValueError(f"mode must be one of {IMPORT_MODES}, got {mode!r}")
    records = insurer_file_records(path=path, progress=progress)
    region_codes = set(Region.objects.values_list("code", flat=True))
    problems: list[ImportProblem] = []
    first_lines: dict[str, dict[str, int]] = {"inn": {}, "ogrn": {}}
    repeated = {
        "inn": _("The same INN is on line %(line)s."),
        "ogrn": _("The same OGRN is on line %(line)s."),
    }
    batch: list[tuple[int, dict[str, Any]]] = []
    counts = [0, 0, 0]

    def flush() -> None:
        # all_or_nothing: after the first problem, batches are still checked against the
        # database, so that every problem is reported, but no longer written.
        written = _batch_upsert(batch, problems=problems, write=mode == KEEP_GOOD or not problems)
        counts[:] = [total + more for total, more in zip(counts, written, strict=True)]
        batch.clear()

    with transaction.atomic():
        # Imports run one at a time: two files upserting overlapping INNs or OGRNs at once
        # would otherwise race past each other's checks into a unique-constraint error.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('registries.insurers_import'))")
        for record in records:
            if isinstance(record, ImportProblem):
                problems.append(record)
                continue
            values, record_problems = _record_values(record, region_codes=region_codes)
            for key, seen in first_lines.items():
                value = getattr(record, key)
                if value in seen:
                    record_problems.append(
                        ImportProblem(record.line, key, repeated[key] % {"line": seen[value]})
                    )
                elif value:
                    seen[value] = record.line
            if record_problems:
                problems.extend(record_problems)
            elif values is not None:
                batch.append((record.line, values))
                if len(batch) >= BATCH_SIZE:
                    flush()
        if batch:
            flush()
        # Database checks report a batch's problems after later lines' own.
        problems.sort(key=lambda problem: problem.line or 0)
        if problems and mode == ALL_OR_NOTHING:
            # Raised inside the atomic block: batches written before the first problem
            # are rolled back.
            raise InsurerImportError(problems)
    created, updated, unchanged = counts
    return InsurerImportReport(
        created=created, updated=updated, unchanged=unchanged, problems=problems
    )
