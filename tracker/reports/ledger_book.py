"""The ledger (整改台账) as an office prints it, streamed into an xlsx of any length.

Shape: a title row, a 填报 line (unit, date), a two-row header whose groups (责任分工 over 责任领导/
牵头单位/配合单位/责任人) span their columns while the other headers are merged down over both rows,
then one row per item, grouped by problem: 序号 counts problems and the problem's cells are merged
over its items' rows. Thin borders, wrapped text, widths fitted to the content, row heights for the
wrapped lines; A4 landscape, fitted to the page width, the header rows repeated on every page.

openpyxl's write-only mode, the library's streaming writer, cannot merge cells (and its normal mode
keeps every cell in memory), so this extends the project's own streaming writer (xlsx.py): merged
ranges are collected while the rows stream (a few per problem) and written after `</sheetData>`,
where the format puts them anyway. Column widths come before the rows in the sheet's XML, so the
rows are first written to a temporary file, measured on the way, and copied into the zip after the
`<cols>`; only one problem's rows are held at a time (their heights depend on the merged cells).
"""
from __future__ import annotations

import math
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO
from xml.sax.saxutils import escape

from openpyxl.utils import get_column_letter

from tracker.reports import xlsx
from tracker.reports.xlsx import DECLARATION, MAIN, RELS

FIRST_DATA_ROW = 5                      # title, 填报 line, two header rows
LINE_POINTS = 16.5                      # one line of 10 pt text with a CJK font's leading (LibreOffice, WPS)
PADDING = 2                             # characters of air in a column

# Indexes into cellXfs of STYLES.
TITLE, FILLED_IN, HEAD, TEXT, QUOTED_TEXT, CENTRED, DATE = range(7)
_BORDER = 'borderId="1" applyBorder="1"'
_TOP_LEFT = '<alignment vertical="top" wrapText="1"/>'
_CENTRE = '<alignment horizontal="center" vertical="center" wrapText="1"/>'
STYLES = (
    f'<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="3"><font><sz val="10"/><name val="宋体"/><charset val="134"/></font>'
    '<font><b/><sz val="10"/><name val="黑体"/><charset val="134"/></font>'
    '<font><b/><sz val="16"/><name val="黑体"/><charset val="134"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
    '</fill></fills><borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
    '<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>'
    '<top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom><diagonal/></border>'
    '</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="7">'
    f'<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">{_CENTRE}</xf>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
    '<alignment vertical="center"/></xf>'
    f'<xf numFmtId="0" fontId="1" fillId="0" {_BORDER} xfId="0" applyFont="1" applyAlignment="1">{_CENTRE}</xf>'
    f'<xf numFmtId="0" fontId="0" fillId="0" {_BORDER} xfId="0" applyAlignment="1">{_TOP_LEFT}</xf>'
    f'<xf numFmtId="0" fontId="0" fillId="0" {_BORDER} xfId="0" quotePrefix="1" applyAlignment="1">{_TOP_LEFT}</xf>'
    f'<xf numFmtId="0" fontId="0" fillId="0" {_BORDER} xfId="0" applyAlignment="1">{_CENTRE}</xf>'
    f'<xf numFmtId="164" fontId="0" fillId="0" {_BORDER} xfId="0" applyNumberFormat="1" applyAlignment="1">'
    f'{_CENTRE}</xf></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


@dataclass(frozen=True)
class BookColumn:
    key: str
    header: str
    max_width: int           # characters (a Chinese character counts two); longer text wraps
    group: str = ""          # the header over this column's, e.g. 责任分工
    per_problem: bool = False    # one merged cell over the problem's rows
    centred: bool = False


@dataclass(frozen=True)
class Heading:
    title: str               # e.g. "…（2019年度）整改台账"
    filled_in: str           # 填报单位：…  填报时间：…
    sheet_name: str


def display_width(text: str) -> int:
    """Columns a text takes on screen: a Chinese (wide) character counts two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _longest_line(text: str) -> int:
    return max(display_width(line) for line in text.split("\n"))


def _lines(text: str, width: int) -> int:
    return sum(max(1, math.ceil(display_width(line) / max(1, width - PADDING))) for line in text.split("\n"))


def _text_of(value) -> str:
    """The text a cell shows, for its width and lines (a date: as wide as 2026-03-16)."""
    if value is None:
        return ""
    return "0000-00-00" if hasattr(value, "isoformat") else str(value)


def write(target: IO[bytes], columns: Sequence[BookColumn], groups: Iterable[list[dict]],
          heading: Callable[[], Heading], dangerous) -> None:
    """Write the 台账 into `target`: `groups` yields each problem's rows (dicts by column key), in
    order; `heading()` is asked once they are all written (a title can name what the rows held)."""
    columns = list(columns)
    letters = [get_column_letter(n) for n in range(1, len(columns) + 1)]
    widths = [max(4, _longest_line(c.header)) + PADDING for c in columns]
    merges: list[str] = []
    with tempfile.TemporaryFile() as body:
        row_number = FIRST_DATA_ROW
        for problem_number, rows in enumerate(groups, start=1):
            row_number = _write_group(body, columns, letters, widths, rows, problem_number, row_number, merges,
                                      dangerous)
        body.seek(0)
        book = heading()
        name = xlsx.sheet_name(book.sheet_name)
        # The two header rows are the print titles: repeated at the top of every printed page.
        quoted = "'" + name.replace("'", "''") + "'"
        titles = ('<definedNames><definedName name="_xlnm.Print_Titles" localSheetId="0">'
                  f"{escape(quoted)}!$3:$4</definedName></definedNames>")
        with xlsx.package(target, xlsx.workbook(name, titles), STYLES) as sheet:
            sheet.write(_sheet_head(book, columns, letters, widths, merges).encode())
            shutil.copyfileobj(body, sheet)
            sheet.write(_sheet_tail(merges).encode())


def _write_group(body, columns, letters, widths, rows, problem_number, first, merges, dangerous) -> int:
    """Write one problem's rows from row `first`; returns the next free row number."""
    rows = [dict(row, seq=problem_number) for row in rows]
    for index, column in enumerate(columns):
        for row in rows:
            longest = _longest_line(_text_of(row.get(column.key)))
            widths[index] = max(widths[index], min(column.max_width, longest + PADDING))
    heights = [max((_lines(_text_of(row.get(c.key)), c.max_width) for c in columns if not c.per_problem),
                   default=1) for row in rows]
    merged_lines = max((_lines(_text_of(rows[0].get(c.key)), c.max_width) for c in columns if c.per_problem),
                       default=1)
    if merged_lines > sum(heights):  # the problem's text needs more room than its items' rows give
        heights[-1] += merged_lines - sum(heights)
    last = first + len(rows) - 1
    chunk = []
    for offset, (row, lines) in enumerate(zip(rows, heights)):
        number = first + offset
        cells = []
        for letter, column in zip(letters, columns):
            ref = f"{letter}{number}"
            if column.per_problem and offset > 0:
                cells.append(f'<c r="{ref}" s="{CENTRED if column.centred else TEXT}"/>')  # covered: borders only
            else:
                cells.append(_cell(ref, row.get(column.key), column, dangerous))
        chunk.append(f'<row r="{number}" ht="{lines * LINE_POINTS + 4:.1f}" customHeight="1">{"".join(cells)}</row>')
    body.write("".join(chunk).encode())
    if last > first:
        merges.extend(f"{letter}{first}:{letter}{last}" for letter, c in zip(letters, columns) if c.per_problem)
    return last + 1


def _cell(ref: str, value, column: BookColumn, dangerous) -> str:
    style = CENTRED if column.centred else TEXT
    if value is None or value == "":
        return f'<c r="{ref}" s="{style}"/>'
    if hasattr(value, "isoformat"):
        return f'<c r="{ref}" s="{DATE}"><v>{xlsx.serial(value)}</v></c>'
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<c r="{ref}" s="{CENTRED}"><v>{value}</v></c>'
    text = xlsx.clean(str(value))
    return _inline(ref, text, QUOTED_TEXT if dangerous(text) else style)


def _inline(ref: str, text: str, style: int) -> str:
    return (f'<c r="{ref}" t="inlineStr" s="{style}"><is><t xml:space="preserve">{escape(xlsx.clean(text))}'
            '</t></is></c>')


def _sheet_head(book: Heading, columns, letters, widths, merges: list[str]) -> str:
    last = letters[-1]
    title = _inline("A1", book.title, TITLE) + "".join(f'<c r="{x}1" s="{TITLE}"/>' for x in letters[1:])
    filled = _inline("A2", book.filled_in, FILLED_IN)
    top, bottom = [], []
    seen_groups: set[str] = set()
    for index, (letter, column) in enumerate(zip(letters, columns)):
        if not column.group:
            top.append(_inline(f"{letter}3", column.header, HEAD))
            bottom.append(f'<c r="{letter}4" s="{HEAD}"/>')
            merges.append(f"{letter}3:{letter}4")
            continue
        if column.group not in seen_groups:
            seen_groups.add(column.group)
            span = sum(1 for c in columns[index:] if c.group == column.group)
            top.append(_inline(f"{letter}3", column.group, HEAD))
            if span > 1:
                merges.append(f"{letter}3:{letters[index + span - 1]}3")
        else:
            top.append(f'<c r="{letter}3" s="{HEAD}"/>')
        bottom.append(_inline(f"{letter}4", column.header, HEAD))
    merges[:0] = [f"A1:{last}1", f"A2:{last}2"]
    return (DECLARATION + f'<worksheet xmlns="{MAIN}" xmlns:r="{RELS}"><sheetPr><pageSetUpPr fitToPage="1"/>'
            '</sheetPr><sheetViews><sheetView workbookViewId="0">' + xlsx.frozen_pane(f"A{FIRST_DATA_ROW}")
            + f'</sheetView></sheetViews><sheetFormatPr defaultRowHeight="{LINE_POINTS}"/><cols>{xlsx.cols(widths)}</cols>'
            f'<sheetData><row r="1" ht="30" customHeight="1">{title}</row>'
            f'<row r="2" ht="20" customHeight="1">{filled}</row>'
            f'<row r="3" ht="{2 * LINE_POINTS + 4}" customHeight="1">{"".join(top)}</row>'
            f'<row r="4" ht="{2 * LINE_POINTS + 4}" customHeight="1">{"".join(bottom)}</row>')


def _sheet_tail(merges: list[str]) -> str:
    merged = "".join(f'<mergeCell ref="{ref}"/>' for ref in merges)
    return ('</sheetData>' + (f'<mergeCells count="{len(merges)}">{merged}</mergeCells>' if merges else '')
            + '<printOptions horizontalCentered="1"/>'
            '<pageMargins left="0.4" right="0.4" top="0.5" bottom="0.6" header="0.3" footer="0.3"/>'
            # A4 (9), landscape, as wide as the page and as many pages long as it takes.
            '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
            '<headerFooter><oddFooter>&amp;C&amp;P / &amp;N</oddFooter></headerFooter></worksheet>')
