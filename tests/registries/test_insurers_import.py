"""Import of insurers from ЕГРЮЛ/ЕГРИП XML extracts and CSV lists."""

from __future__ import annotations

import csv
from datetime import date
from io import StringIO
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from platform_core.validators import (
    inn_individual_from_number,
    inn_legal_from_number,
    ogrn_from_number,
)
from registries.enums import InsurerKind
from registries.models import Insurer
from registries.services import insurers_import as service
from registries.services.insurer_files import CSV_COLUMNS
from registries.services.insurers_import import (
    KEEP_GOOD,
    InsurerImportError,
    insurers_import,
)

SAMPLES = Path(__file__).resolve().parents[2] / "registries" / "data" / "samples"
SAMPLE_XML = SAMPLES / "egrul_sample.xml"
SAMPLE_CSV = SAMPLES / "insurers_sample.csv"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_messages():
    """The exact messages asserted below are the English source strings."""
    with translation.override("en"):
        yield


def ogrnip_from_number(n: int) -> str:
    """A valid OGRNIP for a 14-digit body starting with 3 (validators have no such helper)."""
    return f"{n}{n % 13 % 10}"


def legal_entity(n: int, **changes: str) -> dict[str, str]:
    record = {
        "kind": InsurerKind.LEGAL_ENTITY,
        "name": f"Общество с ограниченной ответственностью «Амурснаб-{n}»",
        "inn": inn_legal_from_number(272_100_000 + n),
        "ogrn": ogrn_from_number(102_270_000_000 + n),
        "kpp": "272101001",
        "okved": "46.90",
        "registration_number": f"{2_701_000_000 + n}",
        "region_code": "27",
        "registered_on": "2002-10-14",
        "deregistered_on": "",
    }
    return record | changes


def entrepreneur(n: int, **changes: str) -> dict[str, str]:
    record = {
        "kind": InsurerKind.ENTREPRENEUR,
        "name": "ИП Ковальчук Ирина Васильевна",
        "inn": inn_individual_from_number(2_721_000_000 + n),
        "ogrn": ogrnip_from_number(30_427_000_000_000 + n),
        "kpp": "",
        "okved": "47.11",
        "registration_number": "",
        "region_code": "27",
        "registered_on": "2004-05-17",
        "deregistered_on": "",
    }
    return record | changes


def write_csv(path: Path, records: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(records)
    return path


def xml_document(record: dict[str, str]) -> str:
    """One Документ on one line, so the n-th record is on line n + 2 of write_xml's file."""
    extras = ""
    if record["okved"]:
        extras += f"<СвОКВЭД><СвОКВЭДОсн КодОКВЭД={quoteattr(record['okved'])}/></СвОКВЭД>"
    if record["registration_number"]:
        extras += f"<СвРегФСС РегНомФСС={quoteattr(record['registration_number'])}/>"
    if record["kind"] == InsurerKind.LEGAL_ENTITY:
        if record["deregistered_on"]:
            extras += f"<СвПрекрЮЛ ДатаПрекрЮЛ={quoteattr(record['deregistered_on'])}/>"
        kpp = f" КПП={quoteattr(record['kpp'])}" if record["kpp"] else ""
        return (
            f"<Документ><СвЮЛ ОГРН={quoteattr(record['ogrn'])} ИНН={quoteattr(record['inn'])}"
            f"{kpp} ДатаОГРН={quoteattr(record['registered_on'])}>"
            f"<СвНаимЮЛ НаимЮЛПолн={quoteattr(record['name'])}/>"
            f"<СвАдресЮЛ><АдресРФ КодРегион={quoteattr(record['region_code'])}/></СвАдресЮЛ>"
            f"{extras}</СвЮЛ></Документ>"
        )
    if record["deregistered_on"]:
        extras += f"<СвПрекрИП ДатаПрекрИП={quoteattr(record['deregistered_on'])}/>"
    kpp = f" КПП={quoteattr(record['kpp'])}" if record["kpp"] else ""
    surname, given_name, patronymic = record["name"].removeprefix("ИП ").split()
    return (
        f"<Документ><СвИП ОГРНИП={quoteattr(record['ogrn'])} ИННФЛ={quoteattr(record['inn'])}"
        f"{kpp} ДатаОГРНИП={quoteattr(record['registered_on'])}>"
        f"<СвФЛ><ФИОРус Фамилия={quoteattr(surname)} Имя={quoteattr(given_name)}"
        f" Отчество={quoteattr(patronymic)}/></СвФЛ>"
        f"<СвАдрМЖ><АдресРФ КодРегион={quoteattr(record['region_code'])}/></СвАдрМЖ>"
        f"{extras}</СвИП></Документ>"
    )


def write_xml(path: Path, records: list[dict[str, str]]) -> Path:
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<Файл ИдФайл="TEST" ВерсФорм="4.08" КолДок="{len(records)}">',
        *(xml_document(record) for record in records),
        "</Файл>",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


WRITERS = {"csv": write_csv, "xml": write_xml}
# Line of the first record: after the header in CSV, after the declaration and Файл in XML.
FIRST_LINE = {"csv": 2, "xml": 3}


def problems_of(excinfo: pytest.ExceptionInfo[InsurerImportError]) -> list[str]:
    return [str(problem) for problem in excinfo.value.problems]


# The samples


def test_xml_sample_creates_legal_entities_and_entrepreneurs(region_27):
    report = insurers_import(path=SAMPLE_XML)

    assert (report.created, report.updated, report.unchanged, report.problems) == (5, 0, 0, [])
    centre = Insurer.objects.get(inn="2721001318")
    assert centre.kind == InsurerKind.LEGAL_ENTITY
    assert centre.name.startswith("Краевое государственное казённое учреждение «Центр")
    assert (centre.ogrn, centre.kpp, centre.okved) == ("1022700001312", "272101001", "88.10")
    assert (centre.registration_number, centre.region_id) == ("2701000131", "27")
    assert (centre.registered_on, centre.deregistered_on) == (date(2002, 10, 14), None)
    assert centre.source == "tax_service"
    logistics = Insurer.objects.get(inn="2724005783")
    assert logistics.deregistered_on == date(2022, 8, 15)
    assert logistics.registration_number == "2701057801"  # from СвРегСФР
    trader = Insurer.objects.get(inn="272100451233")
    assert trader.kind == InsurerKind.ENTREPRENEUR
    assert (trader.name, trader.ogrn, trader.kpp) == (
        "ИП Ковалёв Андрей Петрович",
        "304270010045128",
        "",
    )
    # The director's ФИОРус inside СвЮЛ is not taken for anything.
    assert not Insurer.objects.filter(name__contains="Корнеева").exists()


def test_csv_sample_creates_insurers(region_27):
    report = insurers_import(path=SAMPLE_CSV)

    assert (report.created, report.updated, report.unchanged, report.problems) == (4, 0, 0, [])
    charity = Insurer.objects.get(inn="2721004510")
    assert charity.name.endswith("«Центр социального обслуживания „Забота“», г. Хабаровск")
    closed = Insurer.objects.get(inn="272310563416")
    assert (closed.kind, closed.deregistered_on) == (InsurerKind.ENTREPRENEUR, date(2019, 12, 31))
    assert closed.source == "csv_import"


@pytest.mark.parametrize("sample", [SAMPLE_XML, SAMPLE_CSV], ids=["xml", "csv"])
def test_reimport_of_the_same_file_changes_nothing(region_27, sample):
    insurers_import(path=sample)
    before = list(Insurer.objects.order_by("inn").values())

    report = insurers_import(path=sample)

    assert (report.created, report.updated, report.unchanged) == (0, 0, len(before))
    assert list(Insurer.objects.order_by("inn").values()) == before


@pytest.mark.parametrize("fmt", ["csv", "xml"])
def test_reimport_updates_a_changed_name_only(region_27, tmp_path, fmt):
    write = WRITERS[fmt]
    insurers_import(path=write(tmp_path / f"first.{fmt}", [legal_entity(1), entrepreneur(2)]))
    other_before = Insurer.objects.get(inn=entrepreneur(2)["inn"])

    renamed = legal_entity(1, name="Общество с ограниченной ответственностью «Амурснаб-Восток»")
    report = insurers_import(path=write(tmp_path / f"second.{fmt}", [renamed, entrepreneur(2)]))

    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert Insurer.objects.get(inn=renamed["inn"]).name == renamed["name"]
    assert Insurer.objects.get(inn=entrepreneur(2)["inn"]).name == other_before.name
    assert Insurer.objects.count() == 2


def test_import_spanning_several_batches_counts_every_record(region_27, tmp_path, monkeypatch):
    monkeypatch.setattr(service, "BATCH_SIZE", 3)
    records = [legal_entity(n) for n in range(1, 6)] + [entrepreneur(n) for n in range(1, 6)]
    path = write_csv(tmp_path / "many.csv", records)

    assert insurers_import(path=path).created == 10
    report = insurers_import(path=path)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 10)


@pytest.mark.parametrize("sample", [SAMPLE_XML, SAMPLE_CSV], ids=["xml", "csv"])
def test_progress_is_reported_in_bytes_up_to_the_file_size(region_27, sample):
    seen: list[int] = []

    insurers_import(path=sample, progress=seen.append)

    assert seen
    assert sum(seen) == sample.stat().st_size


# Bad records: each names its line and field, and all_or_nothing writes nothing

BAD_RECORDS = {
    "bad INN checksum": (legal_entity(2, inn=inn_legal_from_number(272_100_002)[:9] + "0"), "inn"),
    "OGRN of wrong length": (legal_entity(2, ogrn=ogrn_from_number(102_270_000_002)[:12]), "ogrn"),
    "OGRNIP where an OGRN belongs": (legal_entity(2, ogrn=entrepreneur(2)["ogrn"]), "ogrn"),
    "KPP on an entrepreneur": (entrepreneur(2, kpp="272101001"), "kpp"),
    "legal entity without KPP": (legal_entity(2, kpp=""), "kpp"),
    "unknown region": (legal_entity(2, region_code="99"), "region_code"),
    "impossible date": (entrepreneur(2, registered_on="2004-02-30"), "registered_on"),
    "deregistration before registration": (
        legal_entity(2, registered_on="2010-05-01", deregistered_on="2010-04-30"),
        "deregistered_on",
    ),
    "duplicate INN in the file": (
        legal_entity(2, inn=legal_entity(1)["inn"]),
        "inn",
    ),
}
# The bad INN above must really be bad, or the case tests nothing.
assert BAD_RECORDS["bad INN checksum"][0]["inn"] != legal_entity(2)["inn"]


@pytest.mark.parametrize("fmt", ["csv", "xml"])
@pytest.mark.parametrize("case", BAD_RECORDS, ids=list(BAD_RECORDS))
def test_bad_record_refuses_the_whole_file_naming_line_and_field(
    region_27, tmp_path, monkeypatch, fmt, case
):
    # One record per batch: the good first record is written before the bad one is read,
    # so this also shows the rollback.
    monkeypatch.setattr(service, "BATCH_SIZE", 1)
    bad, field = BAD_RECORDS[case]
    path = WRITERS[fmt](tmp_path / f"bad.{fmt}", [legal_entity(1), bad])

    with pytest.raises(InsurerImportError) as excinfo:
        insurers_import(path=path)

    bad_line = FIRST_LINE[fmt] + 1
    assert any(
        problem.startswith(f"line {bad_line}, field {field}:") for problem in problems_of(excinfo)
    ), problems_of(excinfo)
    assert {problem.line for problem in excinfo.value.problems} == {bad_line}
    assert not Insurer.objects.exists()


def test_duplicate_inn_names_the_line_of_the_first(region_27, tmp_path):
    path = write_csv(tmp_path / "dup.csv", [legal_entity(1), legal_entity(2), legal_entity(1)])

    with pytest.raises(InsurerImportError) as excinfo:
        insurers_import(path=path)

    assert problems_of(excinfo) == [
        "line 4, field inn: The same INN is on line 2.",
        "line 4, field ogrn: The same OGRN is on line 2.",
    ]


def test_ogrn_of_another_registered_insurer_is_refused(region_27, tmp_path):
    insurers_import(path=write_csv(tmp_path / "first.csv", [legal_entity(1)]))
    other = legal_entity(2, ogrn=legal_entity(1)["ogrn"])

    with pytest.raises(InsurerImportError) as excinfo:
        insurers_import(path=write_csv(tmp_path / "second.csv", [other]))

    assert problems_of(excinfo) == [
        "line 2, field ogrn: Another insurer in the registry has this OGRN."
    ]
    assert Insurer.objects.count() == 1


def test_all_problems_of_a_file_are_reported_in_line_order(region_27, tmp_path):
    records = [
        legal_entity(1, region_code="99"),
        legal_entity(2),
        entrepreneur(3, kpp="272101001", name=""),
    ]
    path = write_csv(tmp_path / "bad.csv", records)

    with pytest.raises(InsurerImportError) as excinfo:
        insurers_import(path=path)

    assert [(p.line, p.field) for p in excinfo.value.problems] == [
        (2, "region_code"),
        (4, "name"),
        (4, "kpp"),
    ]


# Files that cannot be read at all


def test_malformed_xml_names_line_and_column(region_27, tmp_path):
    path = tmp_path / "broken.xml"
    good = xml_document(legal_entity(1))
    path.write_text(
        f'<?xml version="1.0" encoding="utf-8"?>\n<Файл КолДок="2">\n{good}\n'
        "<Документ><СвЮЛ ИНН=2721000010/></Документ>\n</Файл>\n",
        encoding="utf-8",
    )

    with pytest.raises(InsurerImportError) as excinfo:
        insurers_import(path=path)

    # Column of the unquoted value, counted in characters from 1.
    assert problems_of(excinfo) == [
        "line 4, column 21: The XML is not well-formed: not well-formed (invalid token)."
    ]
    assert not Insurer.objects.exists()


def test_truncated_xml_is_refused(region_27, tmp_path):
    path = write_xml(tmp_path / "cut.xml", [legal_entity(1), legal_entity(2)])
    path.write_text(path.read_text(encoding="utf-8").removesuffix("</Файл>\n"), "utf-8")

    with pytest.raises(InsurerImportError) as excinfo:
        insurers_import(path=path, mode=KEEP_GOOD)

    assert problems_of(excinfo) == [
        "line 5, column 1: The XML is not well-formed: no element found."
    ]
    assert not Insurer.objects.exists()


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE Файл [<!ENTITY name "Общество «Сущность»">]>',
        '<!DOCTYPE Файл [<!ENTITY name SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE Файл [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
        '<!DOCTYPE Файл SYSTEM "http://127.0.0.1:9/egrul.dtd">',
    ],
    ids=["internal entity", "external entity", "entity expansion", "external DTD"],
)
def test_xml_with_a_doctype_is_refused(region_27, tmp_path, doctype):
    record = legal_entity(1, name="&name;")
    path = tmp_path / "entities.xml"
    path.write_text(
        f'<?xml version="1.0" encoding="utf-8"?>\n{doctype}\n<Файл КолДок="1">\n'
        f"{xml_document(record).replace('&amp;name;', '&name;')}\n</Файл>\n",
        encoding="utf-8",
    )

    with pytest.raises(InsurerImportError) as excinfo:
        insurers_import(path=path)

    [problem] = problems_of(excinfo)
    assert problem.startswith("line 2: A DOCTYPE is not allowed")
    assert not Insurer.objects.exists()


def test_xml_in_windows_1251_like_the_tax_service_sends(region_27, tmp_path):
    path = tmp_path / "cp1251.xml"
    text = write_xml(tmp_path / "utf8.xml", [entrepreneur(1)]).read_text(encoding="utf-8")
    path.write_bytes(text.replace('encoding="utf-8"', 'encoding="windows-1251"').encode("cp1251"))

    insurers_import(path=path)

    assert Insurer.objects.get().name == "ИП Ковальчук Ирина Васильевна"


def test_xml_whose_document_count_does_not_match_is_refused(region_27, tmp_path):
    path = write_xml(tmp_path / "count.xml", [legal_entity(1)])
    path.write_text(path.read_text(encoding="utf-8").replace('КолДок="1"', 'КолДок="2"'), "utf-8")

    with pytest.raises(InsurerImportError) as excinfo:
        insurers_import(path=path, mode=KEEP_GOOD)

    assert problems_of(excinfo) == [
        "line 2, field КолДок: The file declares 2 documents but holds 1."
    ]
    assert not Insurer.objects.exists()


def test_xml_document_without_insurer_is_reported(region_27, tmp_path):
    path = write_xml(tmp_path / "empty.xml", [legal_entity(1)])
    text = path.read_text(encoding="utf-8").replace('КолДок="1"', 'КолДок="2"')
    path.write_text(text.replace("</Файл>", "<Документ/>\n</Файл>"), encoding="utf-8")

    with pytest.raises(InsurerImportError) as excinfo:
        insurers_import(path=path)

    assert problems_of(excinfo) == [
        "line 4, field kind: A Документ must hold exactly one СвЮЛ or СвИП."
    ]


def test_csv_with_a_wrong_header_is_refused(region_27, tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("kind,name,inn\nlegal_entity,ООО «Ромашка»,2721000010\n", encoding="utf-8")

    with pytest.raises(InsurerImportError) as excinfo:
        insurers_import(path=path, mode=KEEP_GOOD)

    assert problems_of(excinfo)[0].startswith("line 1: The header must name each of the columns")


def test_csv_row_with_missing_values_is_reported(region_27, tmp_path):
    path = write_csv(tmp_path / "short.csv", [legal_entity(1)])
    with path.open("a", encoding="utf-8") as stream:
        stream.write("legal_entity,ООО «Ромашка»,2721000010\n")

    with pytest.raises(InsurerImportError) as excinfo:
        insurers_import(path=path)

    assert problems_of(excinfo) == ["line 3: Expected 10 values, found 3."]


def test_csv_not_in_utf8_is_refused(region_27, tmp_path):
    path = tmp_path / "cp1251.csv"
    header = ",".join(CSV_COLUMNS)
    path.write_bytes(f"{header}\nlegal_entity,ООО «Ромашка»\n".encode("cp1251"))

    with pytest.raises(InsurerImportError) as excinfo:
        insurers_import(path=path)

    assert problems_of(excinfo) == ["line 2: The file is not in UTF-8."]


def test_unknown_extension_is_refused(region_27, tmp_path):
    path = tmp_path / "insurers.xlsx"
    path.write_bytes(b"PK")

    with pytest.raises(InsurerImportError, match=r"Unsupported file type \.xlsx"):
        insurers_import(path=path)


# keep_good


@pytest.mark.parametrize("fmt", ["csv", "xml"])
def test_keep_good_writes_good_records_and_reports_bad_ones(region_27, tmp_path, fmt):
    records = [
        legal_entity(1),
        entrepreneur(2, kpp="272101001"),
        entrepreneur(3),
        legal_entity(4, region_code="99"),
    ]
    path = WRITERS[fmt](tmp_path / f"mixed.{fmt}", records)

    report = insurers_import(path=path, mode=KEEP_GOOD)

    first = FIRST_LINE[fmt]
    assert (report.created, report.updated, report.unchanged, report.rejected) == (2, 0, 0, 2)
    assert [(p.line, p.field) for p in report.problems] == [
        (first + 1, "kpp"),
        (first + 3, "region_code"),
    ]
    assert set(Insurer.objects.values_list("inn", flat=True)) == {
        legal_entity(1)["inn"],
        entrepreneur(3)["inn"],
    }


# The command


@pytest.mark.usefixtures("english_messages")
def test_command_imports_and_prints_a_summary(region_27):
    out = StringIO()

    call_command("import_insurers", str(SAMPLE_XML), stdout=out, stderr=StringIO())

    assert "egrul_sample.xml: 5 created, 0 updated, 0 unchanged, 0 rejected." in out.getvalue()
    assert Insurer.objects.count() == 5


@pytest.mark.usefixtures("english_messages")
def test_command_prints_each_problem_on_stderr_and_fails(region_27, tmp_path):
    path = write_csv(
        tmp_path / "bad.csv", [legal_entity(1, region_code="99"), entrepreneur(2, kpp="272101001")]
    )
    err = StringIO()

    with pytest.raises(CommandError, match=r"bad\.csv was not imported: 2 problem"):
        call_command("import_insurers", str(path), stdout=StringIO(), stderr=err)

    assert err.getvalue().splitlines() == [
        "line 2, field region_code: Unknown region code 99.",
        "line 3, field kpp: An entrepreneur has no KPP.",
    ]
    assert not Insurer.objects.exists()


@pytest.mark.usefixtures("english_messages")
def test_command_keep_good_writes_good_records_and_still_fails(region_27, tmp_path):
    path = write_csv(tmp_path / "mixed.csv", [legal_entity(1), legal_entity(2, region_code="99")])
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="1 record"):
        call_command("import_insurers", str(path), "--keep-good", stdout=out, stderr=err)

    assert "1 created, 0 updated, 0 unchanged, 1 rejected" in out.getvalue()
    assert err.getvalue().splitlines() == ["line 3, field region_code: Unknown region code 99."]
    assert Insurer.objects.count() == 1


@pytest.mark.usefixtures("english_messages")
def test_command_reports_malformed_xml_with_line_and_column(region_27, tmp_path):
    path = tmp_path / "broken.xml"
    path.write_text('<Файл КолДок="1">\n  <Документ>\n</Файл>\n', encoding="utf-8")
    err = StringIO()

    with pytest.raises(CommandError):
        call_command("import_insurers", str(path), stdout=StringIO(), stderr=err)

    assert err.getvalue().splitlines() == [
        "line 3, column 3: The XML is not well-formed: mismatched tag."
    ]


def test_command_reports_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_insurers", str(tmp_path / "missing.xml"))
