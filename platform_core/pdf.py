"""Tables as PDF documents: A4 landscape, a running header (title and lines such as the
filter and the generation time) and the table's heading on every page, "page N of M".

Text is set in DejaVu Sans, shipped in `platform_core/data/fonts` with its licence: the
fonts built into PDF readers have no Cyrillic. Rows are laid out here, not by reportlab's
splitting of one long table (which re-lays the rest of the table at each page break, 24 s
for 20,000 rows): each row's height is measured once, rows are packed into pages, and each
page is one small table.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Table, TableStyle

FONTS_DIR = Path(__file__).resolve().parent / "data" / "fonts"
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"

PAGE = landscape(A4)
MARGIN = 10 * mm
SIZE = 6.5  # the table's text
LEADING = 8.0
PADDING = 2.0
TITLE_SIZE = 12.0
LINE_SIZE = 8.0
FOOTER = 6 * mm  # below the table: "page N of M"


@dataclass(frozen=True)
class Column:
    """A column of a table: its heading, its width in points at the table's usual text
    size (the columns are stretched together to fill the page's width, or shrunk with their
    text where they are wider), and whether it holds numbers (set to the right)."""

    heading: str
    width: float = 60
    numeric: bool = False


@cache
def fonts_register() -> None:
    """Register DejaVu Sans, regular and bold, with reportlab (once per process)."""
    pdfmetrics.registerFont(TTFont(FONT, str(FONTS_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONTS_DIR / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)


def _wrapped(text: str, width: float, font: str, size: float) -> tuple[str, int]:
    """The text broken into lines that fit width (between words, or inside a word longer
    than the width, such as an id), and how many lines that is."""
    room = width - 2 * PADDING
    if "\n" not in text and pdfmetrics.stringWidth(text, font, size) <= room:
        return text, 1
    lines = []
    for line in simpleSplit(text, font, size, room) or [""]:
        while pdfmetrics.stringWidth(line, font, size) > room and len(line) > 1:
            cut = len(line) - 1
            while cut > 1 and pdfmetrics.stringWidth(line[:cut], font, size) > room:
                cut -= 1
            hyphen = line.rfind("-", 0, cut)
            cut = hyphen + 1 if hyphen > 0 else cut  # an id breaks after a hyphen
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    return "\n".join(lines), len(lines)


def _row(
    values: Sequence[str], widths: Sequence[float], font: str, size: float
) -> tuple[list[str], float]:
    cells, most = [], 1
    for value, width in zip(values, widths, strict=True):
        text, lines = _wrapped(str(value), width, font, size)
        cells.append(text)
        most = max(most, lines)
    return cells, most * size * LEADING / SIZE + 2 * PADDING


def table_pdf(
    *,
    title: str,
    lines: Sequence[str],
    columns: Sequence[Column],
    rows: Iterable[Sequence[str]],
    totals: Sequence[str] | None = None,
) -> bytes:
    """A PDF of rows (texts, one per column) under title and lines, with the totals row
    (set in bold) at the end. Holds every row in memory: callers bound their number."""
    fonts_register()
    page_width, page_height = PAGE
    table_width = page_width - 2 * MARGIN
    natural = sum(column.width for column in columns)
    widths = [table_width * column.width / natural for column in columns]
    # Columns wider together than the page: their text is set smaller in proportion.
    size = SIZE * min(1.0, table_width / natural)
    leading = size * LEADING / SIZE
    header, header_height = _row([c.heading for c in columns], widths, FONT_BOLD, size)
    top = page_height - MARGIN - TITLE_SIZE * 1.4 - len(lines) * LINE_SIZE * 1.4 - 2 * mm
    room = top - MARGIN - FOOTER

    # Pages of (cells, height) rows; the totals row last, marked by its font.
    pages: list[list[tuple[list[str], float, bool]]] = [[]]
    used = header_height

    def place(values: Sequence[str], bold: bool) -> None:
        nonlocal used
        cells, height = _row(values, widths, FONT_BOLD if bold else FONT, size)
        if used + height > room and pages[-1]:
            pages.append([])
            used = header_height
        pages[-1].append((cells, height, bold))
        used += height

    for values in rows:
        place(values, bold=False)
    if totals is not None:
        place(totals, bold=True)

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=PAGE, pageCompression=1)
    canvas.setTitle(title)
    base_style = [
        ("FONT", (0, 0), (-1, -1), FONT, size, leading),
        ("FONT", (0, 0), (-1, 0), FONT_BOLD, size, leading),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#808080")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), PADDING),
        ("BOTTOMPADDING", (0, 0), (-1, -1), PADDING),
    ] + [
        ("ALIGN", (index, 1), (index, -1), "RIGHT")
        for index, column in enumerate(columns)
        if column.numeric
    ]
    for number, page in enumerate(pages, start=1):
        y = page_height - MARGIN - TITLE_SIZE
        canvas.setFont(FONT_BOLD, TITLE_SIZE)
        canvas.drawString(MARGIN, y, title)
        canvas.setFont(FONT, LINE_SIZE)
        for line in lines:
            y -= LINE_SIZE * 1.4
            canvas.drawString(MARGIN, y, line)
        style = list(base_style)
        if page and page[-1][2]:
            style += [
                ("FONT", (0, -1), (-1, -1), FONT_BOLD, size, leading),
                ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f2f2f2")),
            ]
        table = Table(
            [header] + [cells for cells, _height, _bold in page],
            colWidths=widths,
            rowHeights=[header_height] + [height for _cells, height, _bold in page],
        )
        table.setStyle(TableStyle(style))
        _width, height = table.wrapOn(canvas, table_width, room)
        table.drawOn(canvas, MARGIN, top - height)
        canvas.setFont(FONT, LINE_SIZE)
        canvas.drawRightString(
            page_width - MARGIN,
            MARGIN,
            _("Page %(page)d of %(pages)d") % {"page": number, "pages": len(pages)},
        )
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
