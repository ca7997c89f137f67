"""A streaming writer of one-sheet xlsx files, for exports of any length.

openpyxl's write-only mode builds an object per cell and serialises it element by element: minutes
for a province's ledger (bench/README.md). An xlsx is a zip of a few XML parts; this
writes the sheet's XML as text straight into the zip, row by row, with inline strings (no shared
string table to hold in memory). Formats used: bold header, wrapped text, ISO dates, and text
marked as typed-in (quote prefix) so that a spreadsheet never reads it as a formula.
"""
from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO
from xml.sax.saxutils import escape, quoteattr

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import coordinate_to_tuple, get_column_letter

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "application/vnd.openxmlformats-officedocument"
EPOCH = dt.date(1899, 12, 30)   # day 0 of spreadsheet date serials
FLUSH_ROWS = 200

# Indexes into cellXfs of STYLES.
PLAIN, BOLD, WRAP, DATE, QUOTED, QUOTED_WRAP = range(6)
WRAP_ALIGNMENT = '<alignment vertical="top" wrapText="1"/>'
STYLES = (
    f'<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
    '</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="6"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    f'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">{WRAP_ALIGNMENT}</xf>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1" applyAlignment="1">'
    f'{WRAP_ALIGNMENT}</xf></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')
CONTENT_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{OFFICE}.spreadsheetml.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{OFFICE}.spreadsheetml.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{OFFICE}.spreadsheetml.styles+xml"/></Types>')
ROOT_RELS = (f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" '
             f'Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK_RELS = (f'<Relationships xmlns="{PACKAGE_RELS}">'
                 f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
                 f'<Relationship Id="rId2" Type="{RELS}/styles" Target="styles.xml"/></Relationships>')
DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
SHEET_NAME_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def write(target: IO[bytes], title: str, widths: Sequence[int], header: Sequence[str],
          rows: Iterable[Sequence[object]], freeze: str, dangerous) -> None:
    """Write a one-sheet workbook into `target`: a bold header row, then `rows` of values (None,
    str, int, float, date); `dangerous(text)` tells which texts must be marked as typed-in."""
    with package(target, workbook(sheet_name(title)), STYLES) as sheet:
        _write_sheet(sheet, widths, header, rows, freeze, dangerous)


def sheet_name(title: str) -> str:
    """`title` as a worksheet may be named (no []:*?/\\, at most 31 characters)."""
    return title.translate(SHEET_NAME_FORBIDDEN)[:31] or "Sheet1"


def workbook(name: str, defined_names: str = "") -> str:
    return (f'<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets><sheet name={quoteattr(name)} sheetId="1" '
            f'r:id="rId1"/></sheets>{defined_names}</workbook>')


@contextmanager
def package(target: IO[bytes], workbook_xml: str, styles: str) -> Iterator[IO[bytes]]:
    """A one-sheet xlsx package in `target`; yields the stream of the sheet's XML."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=4) as package:
        for part, xml in (("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS),
                          ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS), ("xl/styles.xml", styles),
                          ("xl/workbook.xml", workbook_xml)):
            package.writestr(part, DECLARATION + xml)
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            yield sheet


def cols(widths: Sequence[int]) -> str:
    return "".join(f'<col min="{n}" max="{n}" width="{w}" customWidth="1"/>' for n, w in enumerate(widths, 1))


def _write_sheet(sheet: IO[bytes], widths, header, rows, freeze: str, dangerous) -> None:
    letters = [get_column_letter(n) for n in range(1, len(widths) + 1)]
    sheet.write((DECLARATION + f'<worksheet xmlns="{MAIN}"><sheetViews><sheetView workbookViewId="0">'
                 + frozen_pane(freeze) + f'</sheetView></sheetViews><cols>{cols(widths)}</cols><sheetData>').encode())
    head = "".join(f'<c r="{letter}1" t="inlineStr" s="{BOLD}"><is><t>{escape(clean(text))}</t></is></c>'
                   for letter, text in zip(letters, header))
    chunk = [f'<row r="1">{head}</row>']
    for number, values in enumerate(rows, start=2):
        cells = "".join(_cell(f"{letter}{number}", value, dangerous) for letter, value in zip(letters, values))
        chunk.append(f'<row r="{number}">{cells}</row>')
        if len(chunk) >= FLUSH_ROWS:
            sheet.write("".join(chunk).encode())
            chunk.clear()
    chunk.append("</sheetData></worksheet>")
    sheet.write("".join(chunk).encode())


def frozen_pane(cell: str) -> str:
    """Rows above and columns left of `cell` stay in view (e.g. C2: the header and two columns)."""
    row, column = coordinate_to_tuple(cell)
    return (f'<pane xSplit="{column - 1}" ySplit="{row - 1}" topLeftCell="{cell}" activePane="bottomRight" '
            f'state="frozen"/><selection pane="bottomRight" activeCell="{cell}" sqref="{cell}"/>')


def serial(day: dt.date) -> int:
    """A date (or a datetime's day) as a spreadsheet's day number."""
    return ((day.date() if isinstance(day, dt.datetime) else day) - EPOCH).days


def clean(text: str) -> str:
    """Text without the control characters an xlsx cannot hold."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _cell(ref: str, value, dangerous) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="{DATE}"><v>{serial(value)}</v></c>'
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        value = str(value)
    if not isinstance(value, str):
        return f'<c r="{ref}"><v>{value}</v></c>'
    text = clean(value)
    wrap = len(text) > 30 or "\n" in text
    style = (QUOTED_WRAP if wrap else QUOTED) if dangerous(text) else (WRAP if wrap else PLAIN)
    return (f'<c r="{ref}" t="inlineStr"' + (f' s="{style}"' if style else "")
            + f'><is><t xml:space="preserve">{escape(text)}</t></is></c>')
