"""Reading files of insurers: the tax service's ЕГРЮЛ/ЕГРИП XML extracts and CSV lists.

The format is chosen by the file's extension:

* ``.xml``: shaped like the tax service's extract, format 4.08 simplified:
  ``<Файл КолДок="N"><Документ><СвЮЛ …>`` for a legal entity or ``<Документ><СвИП …>``
  for an entrepreneur; ``_XML_ATTRIBUTES`` lists what is read. Parsed by expat, the
  standard library parser ElementTree itself uses, fed in chunks so memory does not grow
  with the file; its position gives each Документ's line, which ElementTree's iterparse
  does not expose. A DOCTYPE is refused outright: the registers never carry one, and
  refusing it shuts out entity expansion ("billion laughs") and external entities without
  defusedxml, which is not installed.
* ``.csv``: UTF-8 (a byte-order mark is allowed), comma-separated, with a header naming
  the columns of ``CSV_COLUMNS`` in any order.

Readers yield one record per Документ or data line, or an ImportProblem for a record that
cannot even be read; a file that cannot be read as a whole raises InsurerImportError.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from xml.parsers import expat

from django.utils.translation import gettext as _

from platform_core.errors import DomainError
from registries.enums import InsurerKind

CSV_COLUMNS = (
    "kind", "name", "inn", "ogrn", "kpp", "okved", "registration_number", "region_code",
    "registered_on", "deregistered_on",
)  # fmt: skip
SOURCE_TAX_SERVICE = "tax_service"
SOURCE_CSV = "csv_import"

_CHUNK_BYTES = 1 << 16

# Element path below Документ -> {attribute: field}. Whole paths are matched, so that the
# director's ФИОРус or another address inside a full extract is not taken for the
# entrepreneur's name or the entity's address.
_XML_ATTRIBUTES: dict[tuple[str, ...], dict[str, str]] = {
    ("СвЮЛ",): {"ИНН": "inn", "ОГРН": "ogrn", "КПП": "kpp", "ДатаОГРН": "registered_on"},
    ("СвЮЛ", "СвНаимЮЛ"): {"НаимЮЛПолн": "name"},
    ("СвЮЛ", "СвАдресЮЛ", "АдресРФ"): {"КодРегион": "region_code"},
    ("СвЮЛ", "СвОКВЭД", "СвОКВЭДОсн"): {"КодОКВЭД": "okved"},
    ("СвЮЛ", "СвПрекрЮЛ"): {"ДатаПрекрЮЛ": "deregistered_on"},
    ("СвЮЛ", "СвРегФСС"): {"РегНомФСС": "registration_number"},
    ("СвЮЛ", "СвРегСФР"): {"РегНомСФР": "registration_number", "РегНомФСС": "registration_number"},
    # An entrepreneur's КПП is read only so that it is refused rather than silently dropped.
    ("СвИП",): {"ИННФЛ": "inn", "ОГРНИП": "ogrn", "КПП": "kpp", "ДатаОГРНИП": "registered_on"},
    ("СвИП", "СвФЛ", "ФИОРус"): {
        "Фамилия": "surname",
        "Имя": "given_name",
        "Отчество": "patronymic",
    },
    ("СвИП", "СвАдрМЖ", "АдресРФ"): {"КодРегион": "region_code"},
    ("СвИП", "СвОКВЭД", "СвОКВЭДОсн"): {"КодОКВЭД": "okved"},
    ("СвИП", "СвПрекрИП"): {"ДатаПрекрИП": "deregistered_on"},
    ("СвИП", "СвРегФСС"): {"РегНомФСС": "registration_number"},
    ("СвИП", "СвРегСФР"): {"РегНомСФР": "registration_number", "РегНомФСС": "registration_number"},
}
# Most elements of a full extract are not read; their names alone rule them out.
_XML_READ_ELEMENTS = frozenset(path[-1] for path in _XML_ATTRIBUTES)
_XML_KINDS = {"СвЮЛ": InsurerKind.LEGAL_ENTITY, "СвИП": InsurerKind.ENTREPRENEUR}

Progress = Callable[[int], object]


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong in a file: where (line, and column if known), which field, what."""

    line: int | None
    field: str
    message: str
    column: int | None = None

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(_("line %(line)s") % {"line": self.line})
        if self.column is not None:
            where.append(_("column %(column)s") % {"column": self.column})
        if self.field:
            where.append(_("field %(field)s") % {"field": self.field})
        return f"{', '.join(where)}: {self.message}" if where else self.message


class InsurerImportError(DomainError):
    """A file of insurers was refused; `problems` lists every problem found, in file order."""

    code = "insurer_import_invalid"

    def __init__(self, problems: list[ImportProblem]):
        super().__init__("\n".join(str(problem) for problem in problems), field="path")
        self.problems = problems


@dataclass(slots=True)
class InsurerRecord:
    """One insurer as written in a file: text, not yet checked."""

    line: int
    source: str
    kind: str = ""
    name: str = ""
    inn: str = ""
    ogrn: str = ""
    kpp: str = ""
    okved: str = ""
    registration_number: str = ""
    region_code: str = ""
    registered_on: str = ""
    deregistered_on: str = ""


def _refused(line: int | None, message: str, *, column: int | None = None) -> InsurerImportError:
    return InsurerImportError([ImportProblem(line, "", message, column=column)])


def insurer_file_records(
    *, path: Path, progress: Progress | None = None
) -> Iterator[InsurerRecord | ImportProblem]:
    """Read the insurers of an XML extract or a CSV list, calling progress with bytes read.

    Raises InsurerImportError if the file cannot be read as a whole; OSError if it cannot
    be opened.
    """
    readers = {".xml": _xml_records, ".csv": _csv_records}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise _refused(
            None,
            _("Unsupported file type %(suffix)s: expected .xml or .csv.")
            % {"suffix": path.suffix or "—"},
        )
    return reader(path, progress or (lambda _size: None))


def _xml_records(path: Path, progress: Progress) -> Iterator[InsurerRecord | ImportProblem]:
    parser = expat.ParserCreate()
    # Never read a DTD: parameter entities could fetch one from elsewhere.
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    open_elements: list[str] = []
    ready: list[InsurerRecord | ImportProblem] = []
    document: dict[str, str] = {}
    kinds: list[str] = []
    document_line = root_line = count = 0
    declared_count: str | None = None

    def refuse_doctype(*_args: object) -> None:
        raise _refused(
            parser.CurrentLineNumber,
            _("A DOCTYPE is not allowed (it can declare entities): the file is refused."),
        )

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal document, kinds, document_line, root_line, count, declared_count
        open_elements.append(name)
        depth = len(open_elements)
        if depth == 1:
            if name != "Файл":
                raise _refused(
                    parser.CurrentLineNumber,
                    _("The root element must be Файл: this is not a ЕГРЮЛ/ЕГРИП extract."),
                )
            declared_count, root_line = attributes.get("КолДок"), parser.CurrentLineNumber
        elif depth == 2 and name == "Документ":
            document, kinds, document_line = {}, [], parser.CurrentLineNumber
            count += 1
        elif depth > 2 and open_elements[1] == "Документ":
            if depth == 3 and name in _XML_KINDS:
                kinds.append(_XML_KINDS[name])
            if name in _XML_READ_ELEMENTS:
                path_below_document = tuple(open_elements[2:])
                for attribute, target in _XML_ATTRIBUTES.get(path_below_document, {}).items():
                    if attribute in attributes:
                        document[target] = attributes[attribute].strip()

    def end(name: str) -> None:
        open_elements.pop()
        if len(open_elements) == 1 and name == "Документ":
            ready.append(_xml_record(document, kinds, document_line))

    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_doctype
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    with path.open("rb") as stream:
        while True:
            chunk = stream.read(_CHUNK_BYTES)
            try:
                parser.Parse(chunk, not chunk)
            except expat.ExpatError as exc:
                raise _refused(
                    exc.lineno,
                    _("The XML is not well-formed: %(reason)s.")
                    % {"reason": expat.ErrorString(exc.code)},
                    # expat counts columns from 0; editors count from 1.
                    column=exc.offset + 1,
                ) from None
            yield from ready
            ready.clear()
            if not chunk:
                break
            progress(len(chunk))
    # A count that does not match means a cut or edited extract: refuse it whole.
    if declared_count is not None and declared_count != str(count):
        raise InsurerImportError(
            [
                ImportProblem(
                    root_line,
                    "КолДок",
                    _("The file declares %(declared)s documents but holds %(count)s.")
                    % {"declared": declared_count, "count": count},
                )
            ]
        )


def _xml_record(
    values: dict[str, str], kinds: list[str], line: int
) -> InsurerRecord | ImportProblem:
    if len(kinds) != 1:
        return ImportProblem(line, "kind", _("A Документ must hold exactly one СвЮЛ or СвИП."))
    surname = values.pop("surname", "")
    given_name = values.pop("given_name", "")
    patronymic = values.pop("patronymic", "")
    if kinds[0] == InsurerKind.ENTREPRENEUR and surname and given_name:
        values["name"] = " ".join(part for part in ("ИП", surname, given_name, patronymic) if part)
    return InsurerRecord(line=line, source=SOURCE_TAX_SERVICE, kind=kinds[0], **values)


def _csv_records(path: Path, progress: Progress) -> Iterator[InsurerRecord | ImportProblem]:
    line_number = 0

    def lines(stream: BinaryIO) -> Iterator[str]:
        nonlocal line_number
        for raw in stream:
            line_number += 1
            progress(len(raw))
            try:
                # utf-8-sig drops the byte-order mark spreadsheet programs write first.
                yield raw.decode("utf-8-sig" if line_number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise _refused(line_number, _("The file is not in UTF-8.")) from None

    with path.open("rb") as stream:
        reader = csv.reader(lines(stream), strict=True)
        try:
            header = [column.strip() for column in next(reader, [])]
            if sorted(header) != sorted(CSV_COLUMNS):
                raise _refused(
                    1,
                    _("The header must name each of the columns %(columns)s once.")
                    % {"columns": ",".join(CSV_COLUMNS)},
                )
            while True:
                # A quoted value may span lines; a record's line is the one it starts on.
                start = line_number + 1
                cells = next(reader, None)
                if cells is None:
                    break
                if not any(cell.strip() for cell in cells):
                    continue
                if len(cells) != len(header):
                    yield ImportProblem(
                        start,
                        "",
                        _("Expected %(expected)s values, found %(found)s.")
                        % {"expected": len(header), "found": len(cells)},
                    )
                    continue
                values = {column: cell.strip() for column, cell in zip(header, cells, strict=True)}
                yield InsurerRecord(line=start, source=SOURCE_CSV, **values)
        except csv.Error as exc:
            raise _refused(
                line_number, _("The CSV is malformed: %(reason)s.") % {"reason": exc}
            ) from None
