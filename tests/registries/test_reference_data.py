"""The unified reference data (НСИ): the shipped files and `manage.py load_reference_data`."""

from __future__ import annotations

import csv
import shutil
import zoneinfo
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from platform_core.enums import DayKind
from platform_core.models import CalendarDay, Municipality, Region
from platform_core.validators import validate_account_for_bic
from registries.enums import SubsistenceGroup
from registries.management.commands.load_reference_data import Command
from registries.models import Bank, ClassifierItem, SubsistenceMinimum
from registries.services.reference import (
    CALENDAR_YEARS,
    REFERENCE_DATA_DIR,
    ReferenceDataError,
    reference_data_load,
)

pytestmark = pytest.mark.django_db

YEARS = (2024, 2025, 2026)
STORED_MODELS = (Region, Municipality, ClassifierItem, Bank, SubsistenceMinimum, CalendarDay)


@pytest.fixture(autouse=True)
def english_messages():
    """The exact messages asserted below are the English source strings."""
    with translation.override("en"):
        yield


@pytest.fixture
def reference_dir(tmp_path: Path) -> Path:
    """A copy of the shipped files that a test may break."""
    return Path(shutil.copytree(REFERENCE_DATA_DIR, tmp_path / "reference"))


def stored_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in STORED_MODELS}


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def edit_row(path: Path, match: Callable[[dict[str, str]], bool], **changes: str) -> int:
    """Change the first row that match accepts; return its line number (header is line 1)."""
    header, rows = read_csv(path)
    index = next(i for i, row in enumerate(rows) if match(row))
    rows[index].update(changes)
    write_csv(path, header, rows)
    return index + 2


def load(directory: Path = REFERENCE_DATA_DIR):
    return reference_data_load(directory=directory)


def load_errors(directory: Path) -> list[str]:
    with pytest.raises(ReferenceDataError) as caught:
        load(directory)
    return caught.value.errors


# The shipped files


def test_shipped_regions_file_lists_89_subjects_once_each():
    _header, rows = read_csv(REFERENCE_DATA_DIR / "regions.csv")
    codes = [row["code"] for row in rows]
    assert len(codes) == 89
    assert len(set(codes)) == 89
    for code in ("27", "77", "78", "50", "91", "92", "90", "93", "94", "95"):
        assert code in codes


def test_shipped_files_load_every_region_with_a_valid_time_zone():
    load()

    assert Region.objects.count() == 89
    known_zones = zoneinfo.available_timezones()
    for region in Region.objects.all():
        assert region.timezone in known_zones, region
        zoneinfo.ZoneInfo(region.timezone)
        assert len(region.oktmo) == 8 and region.oktmo.isdigit(), region
    assert Region.objects.get(code="27").timezone == "Asia/Vladivostok"
    assert Region.objects.get(code="41").timezone == "Asia/Kamchatka"
    assert Region.objects.get(code="39").timezone == "Europe/Kaliningrad"
    assert Region.objects.get(code="87").timezone == "Asia/Anadyr"
    assert Region.objects.get(code="27").oktmo == "08000000"
    assert Region.objects.values("federal_district").distinct().count() == 8


def test_shipped_municipalities_include_khabarovsk_and_the_moscow_okrugs():
    load()

    assert Municipality.objects.get(oktmo="08701000").name == "г. Хабаровск"
    assert Municipality.objects.get(oktmo="08709000").name == "г. Комсомольск-на-Амуре"
    assert Municipality.objects.filter(region_id="27").count() == 19
    moscow = Municipality.objects.filter(region_id="77")
    assert moscow.count() == 12
    assert all("демо" in m.kind for m in moscow)


def test_shipped_subsistence_minimums_cover_every_region_year_and_group():
    load()

    assert SubsistenceMinimum.objects.count() == 89 * len(YEARS) * len(SubsistenceGroup.values)
    covered = set(SubsistenceMinimum.objects.values_list("region_id", "year", "group"))
    for code in Region.objects.values_list("code", flat=True):
        for year in YEARS:
            for group in SubsistenceGroup.values:
                assert (code, year, group) in covered
    khabarovsk_2025 = SubsistenceMinimum.objects.get(region_id="27", year=2025, group="per_capita")
    assert khabarovsk_2025.amount == Decimal("21634.00")
    assert not khabarovsk_2025.is_demo
    for row in SubsistenceMinimum.objects.all():
        assert row.source.startswith("демо" if row.is_demo else "официально"), row


def test_shipped_banks_are_a_demo_directory_with_valid_correspondent_accounts():
    load()

    banks = Bank.objects.all()
    assert banks.count() >= 20
    assert all(bank.is_demo for bank in banks)
    for bank in banks:
        # A correspondent account's key is computed as for an account at the Bank of Russia
        # division: with "0" + BIC digits 5-6, which a BIC ending in 000 gives.
        validate_account_for_bic(bank.correspondent_account, bank.bic[:6] + "000")
    assert Bank.objects.get(bic="044525225").correspondent_account == "30101810400000000225"


def test_shipped_classifiers_mark_what_is_not_official_as_demo():
    load()

    classifiers = set(ClassifierItem.objects.values_list("classifier", flat=True))
    assert {
        "recipient_category",
        "measure_kind",
        "document_kind",
        "provision_form",
        "payment_channel",
    } <= classifiers
    assert ClassifierItem.objects.get(classifier="recipient_category", code="disabled_group_1")
    official = ClassifierItem.objects.filter(is_demo=False)
    assert set(official.values_list("classifier", flat=True)) == {"identity_document"}


def test_load_seeds_the_production_calendar():
    summary = load()

    assert CalendarDay.objects.get(date=date(2026, 1, 9)).kind == DayKind.TRANSFERRED
    working_saturday = CalendarDay.objects.get(date=date(2025, 11, 1))
    assert working_saturday.date.weekday() == 5
    assert working_saturday.is_working
    assert CalendarDay.objects.count() == sum(
        366 if year % 4 == 0 else 365 for year in CALENDAR_YEARS
    )
    assert summary.counts["calendar"].created == CalendarDay.objects.count()


# Idempotence and updates


def test_second_load_changes_nothing():
    first = load()
    stored = stored_counts()

    second = load()

    assert first.created == sum(stored.values())
    assert second.created == 0
    assert second.updated == 0
    assert {kind: counts.unchanged for kind, counts in second.counts.items()} == {
        kind: counts.created for kind, counts in first.counts.items()
    }
    assert stored_counts() == stored


def test_changed_name_updates_the_row(reference_dir):
    load()
    edit_row(
        reference_dir / "regions.csv", lambda r: r["code"] == "27", name="Хабаровский край (новое)"
    )

    summary = load(reference_dir)

    assert Region.objects.get(code="27").name == "Хабаровский край (новое)"
    assert (summary.counts["regions"].updated, summary.counts["regions"].unchanged) == (1, 88)


def test_new_valid_from_adds_a_version_and_keeps_the_old_one(reference_dir):
    load()
    path = reference_dir / "classifiers.csv"
    header, rows = read_csv(path)
    newer = dict(rows[0], valid_from="2027-01-01", name="Многодетная семья (ред. 2027)")
    write_csv(path, header, [*rows, newer])

    summary = load(reference_dir)

    assert summary.counts["classifiers"].created == 1
    versions = ClassifierItem.objects.filter(classifier=rows[0]["classifier"], code=rows[0]["code"])
    assert [v.valid_from for v in versions] == [date(2020, 1, 1), date(2027, 1, 1)]


def test_reload_keeps_an_edited_calendar_day():
    load()
    CalendarDay.objects.filter(date=date(2026, 6, 15)).update(
        kind=DayKind.HOLIDAY, note="Региональный праздник"
    )

    load()

    assert CalendarDay.objects.get(date=date(2026, 6, 15)).kind == DayKind.HOLIDAY


# Bad input: every problem is reported with its place, and nothing is written


def unknown_region(directory: Path) -> tuple[str, int, str]:
    line = edit_row(directory / "municipalities.csv", lambda r: True, region_code="00")
    return "municipalities.csv", line, "region_code: Unknown region code 00."


def bad_time_zone(directory: Path) -> tuple[str, int, str]:
    line = edit_row(
        directory / "regions.csv", lambda r: r["code"] == "27", timezone="Asia/Habarovsk"
    )
    return "regions.csv", line, "timezone: Enter a valid IANA time zone"


def negative_amount(directory: Path) -> tuple[str, int, str]:
    line = edit_row(
        directory / "subsistence_minimum.csv", lambda r: r["region_code"] == "27", amount="-100.00"
    )
    return "subsistence_minimum.csv", line, "amount: The amount must be positive."


def malformed_date(directory: Path) -> tuple[str, int, str]:
    line = edit_row(directory / "classifiers.csv", lambda r: True, valid_from="2024-13-01")
    return "classifiers.csv", line, "valid_from: Enter a valid date as YYYY-MM-DD."


def missing_column(directory: Path) -> tuple[str, int, str]:
    header, rows = read_csv(directory / "regions.csv")
    header.remove("timezone")
    for row in rows:
        del row["timezone"]
    write_csv(directory / "regions.csv", header, rows)
    return "regions.csv", 1, "timezone: The column is missing."


def bad_bic(directory: Path) -> tuple[str, int, str]:
    line = edit_row(directory / "banks.csv", lambda r: r["bic"] == "040813608", bic="140813608")
    return "banks.csv", line, "bic: Enter a valid BIC: 9 digits starting with 04."


def wrong_account_key(directory: Path) -> tuple[str, int, str]:
    line = edit_row(
        directory / "banks.csv",
        lambda r: r["bic"] == "044525225",
        correspondent_account="30101810500000000225",
    )
    return "banks.csv", line, "correspondent_account: Account number does not match the BIC"


def short_line(directory: Path) -> tuple[str, int, str]:
    path = directory / "municipalities.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = "08701000,27"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return "municipalities.csv", 2, "name: The line has fewer fields than the header."


@pytest.mark.parametrize(
    "breakage",
    [
        unknown_region,
        bad_time_zone,
        negative_amount,
        malformed_date,
        missing_column,
        bad_bic,
        wrong_account_key,
        short_line,
    ],
)
def test_broken_line_is_reported_with_its_place_and_nothing_is_written(reference_dir, breakage):
    file_name, line, problem = breakage(reference_dir)

    errors = load_errors(reference_dir)

    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{file_name}, line {line}, column {problem}")
    assert set(stored_counts().values()) == {0}


def test_every_problem_of_every_file_is_reported_at_once(reference_dir):
    unknown_region(reference_dir)
    negative_amount(reference_dir)
    bad_bic(reference_dir)

    errors = load_errors(reference_dir)

    assert [e.split(",")[0] for e in errors] == [
        "municipalities.csv",
        "banks.csv",
        "subsistence_minimum.csv",
    ]


def test_refused_load_leaves_a_loaded_database_as_it_was(reference_dir):
    load()
    stored = stored_counts()
    edit_row(reference_dir / "regions.csv", lambda r: r["code"] == "27", name="Переименован")
    negative_amount(reference_dir)

    load_errors(reference_dir)

    assert stored_counts() == stored
    assert Region.objects.get(code="27").name == "Хабаровский край"


def test_bad_region_line_is_reported_once_not_on_every_line_naming_it(reference_dir):
    bad_time_zone(reference_dir)

    assert len(load_errors(reference_dir)) == 1


def test_duplicate_key_names_the_first_line(reference_dir):
    header, rows = read_csv(reference_dir / "banks.csv")
    write_csv(reference_dir / "banks.csv", header, [*rows, rows[0]])

    errors = load_errors(reference_dir)

    assert errors == [f"banks.csv, line {len(rows) + 2}, column bic: The same key is on line 2."]


def test_missing_file_is_reported(reference_dir):
    (reference_dir / "banks.csv").unlink()

    assert load_errors(reference_dir) == ["banks.csv: The file is missing."]


def test_unknown_parent_code_is_reported(reference_dir):
    line = edit_row(
        reference_dir / "classifiers.csv",
        lambda r: r["code"] == "disabled_group_1",
        parent_code="x",
    )

    assert load_errors(reference_dir) == [
        f"classifiers.csv, line {line}, column parent_code: "
        "Unknown parent code x in classifier recipient_category."
    ]


# The command


def test_command_prints_a_summary_table():
    out = StringIO()

    call_command("load_reference_data", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["kind", "created", "updated", "unchanged"]
    assert lines[1].split() == ["regions", "89", "0", "0"]
    assert "Reference data loaded" in lines[-1]


def test_command_writes_every_problem_to_stderr_and_fails(reference_dir):
    _file, line, _problem = unknown_region(reference_dir)
    bad_bic(reference_dir)
    err = StringIO()

    with pytest.raises(CommandError, match=r"not loaded: 2 problem"):
        call_command(
            "load_reference_data", "--dir", str(reference_dir), stdout=StringIO(), stderr=err
        )

    messages = err.getvalue().splitlines()
    assert len(messages) == 2
    assert messages[0].startswith(f"municipalities.csv, line {line}, column region_code:")
    assert messages[1].startswith("banks.csv, line ")
    assert set(stored_counts().values()) == {0}


def test_command_exits_with_status_1_and_no_traceback(reference_dir, monkeypatch):
    bad_bic(reference_dir)
    # run_from_argv closes the connections when done, which would break the test's transaction.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)
    out, err = StringIO(), StringIO()

    with pytest.raises(SystemExit) as exited:
        Command(stdout=out, stderr=err).run_from_argv(
            ["manage.py", "load_reference_data", "--dir", str(reference_dir)]
        )

    assert exited.value.code == 1
    assert "banks.csv, line" in err.getvalue()
    assert "CommandError: The reference data was not loaded: 1 problem(s)." in err.getvalue()
    assert "Traceback" not in err.getvalue()


def test_command_refuses_a_folder_that_does_not_exist(tmp_path):
    with pytest.raises(CommandError, match="not a folder"):
        call_command("load_reference_data", "--dir", str(tmp_path / "missing"))
