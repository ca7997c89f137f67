"""Reading a messy xlsx the way people fill them in: header row found by its text (Chinese or
English, any order, extra columns ignored), merged cells filled from their top-left cell, empty
rows skipped, formulas replaced by their last computed value, dates in any common spelling.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import iterparse

from flask_babel import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import range_boundaries
from openpyxl.utils.datetime import from_excel

from tracker.reports.sheet import Column, header_index, normalise_header

log = logging.getLogger(__name__)

HEADER_SEARCH_ROWS = 10
MAX_COLUMNS = 60
MAX_MERGED_CELLS = 200_000


class SheetError(Exception):
    """The sheet as a whole cannot be read; `message` says why in plain words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class SheetRow:
    number: int                          # the row number Excel shows
    values: dict[str, object]            # column key -> cell value (None when empty)
    formula_errors: list[str] = field(default_factory=list)
    formulas: list[str] = field(default_factory=list)


@dataclass
class Sheet:
    headers: dict[str, str]              # column key -> header text as found in the sheet
    ignored: list[str]                   # header texts that match no known column
    rows: list[SheetRow]                 # non-empty data rows


def _merged_ranges(workbook, sheet) -> dict[tuple[int, int], tuple[int, int]]:
    """(row, col) of every covered cell -> (row, col) of its merged range's top-left cell.

    Read-only worksheets do not expose merged cells, so the sheet's XML is scanned for them
    (openpyxl keeps the archive and the sheet's path on the read-only objects)."""
    covered: dict[tuple[int, int], tuple[int, int]] = {}
    with workbook._archive.open(sheet._worksheet_path) as xml:
        for _event, element in iterparse(xml):
            if element.tag.endswith("}mergeCell") and element.get("ref"):
                min_col, min_row, max_col, max_row = range_boundaries(element.get("ref"))
                max_col = min(max_col, MAX_COLUMNS)
                for row in range(min_row, max_row + 1):
                    for col in range(min_col, max_col + 1):
                        if (row, col) != (min_row, min_col) and len(covered) < MAX_MERGED_CELLS:
                            covered[(row, col)] = (min_row, min_col)
            elif not element.tag.endswith(("}mergeCell", "}mergeCells")):
                element.clear()
    return covered


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read(path: Path, columns: tuple[Column, ...], required_key: str, max_rows: int) -> Sheet:
    """The first worksheet's data rows keyed by column; SheetError when it cannot be read at all."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it does not know
        unreadable = SheetError(_("This file is not an Excel workbook (.xlsx) that can be read. "
                                  "Open it in Excel or WPS, save it as .xlsx and try again."))
        try:
            values_book = load_workbook(path, read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds of errors for files it cannot parse
            raise unreadable
        try:
            formula_book = load_workbook(path, read_only=True, data_only=False)
        except Exception:
            values_book.close()
            raise unreadable
        try:
            if not values_book.worksheets:
                raise unreadable
            return _read(values_book, formula_book, columns, required_key, max_rows)
        except SheetError:
            raise
        except Exception:  # a damaged part inside an otherwise valid archive
            log.warning("unreadable sheet %s", path, exc_info=True)
            raise unreadable
        finally:
            values_book.close()
            formula_book.close()


def _read(values_book, formula_book, columns, required_key, max_rows) -> Sheet:
    values_sheet, formula_sheet = values_book.worksheets[0], formula_book.worksheets[0]
    covered = _merged_ranges(values_book, values_sheet)
    anchors = set(covered.values())
    index = header_index(columns)
    rows_iter = zip(values_sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True),
                    formula_sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True))
    header_at: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    seen: dict[tuple[int, int], object] = {}
    rows: list[SheetRow] = []
    scanned_limit = max_rows + 1000  # empty rows are allowed, within reason
    for number, (values, formulas) in enumerate(rows_iter, start=1):
        if number > scanned_limit:
            raise SheetError(_("The sheet has more than %(n)d rows. Split it into smaller sheets.", n=max_rows))
        values = list(values)
        for col, value in enumerate(values, start=1):
            anchor = covered.get((number, col))
            if anchor is not None and _blank(value):
                values[col - 1] = seen.get(anchor)
            elif (number, col) in anchors:
                seen[(number, col)] = value
        if not header_at:
            if number > HEADER_SEARCH_ROWS:
                break
            found = {col: index.get(normalise_header(v)) for col, v in enumerate(values) if not _blank(v)}
            if required_key in found.values() and sum(1 for k in found.values() if k) >= 2:
                for col, key in found.items():
                    if key and key not in header_at:
                        header_at[key] = col
                        headers[key] = str(values[col]).strip()
                    elif not key:
                        ignored.append(str(values[col]).strip())
            continue
        row = _row(number, values, list(formulas), header_at)
        if row is None:
            continue
        if len(rows) >= max_rows:
            raise SheetError(_("The sheet has more than %(n)d rows. Split it into smaller sheets.", n=max_rows))
        rows.append(row)
    if not header_at:
        raise SheetError(_("No header row was found in the first %(n)d rows. The sheet needs a row of "
                           "column titles such as: %(titles)s.", n=HEADER_SEARCH_ROWS,
                           titles="、".join(c.zh for c in columns[:6])))
    return Sheet(headers, ignored, rows)


def _row(number: int, values: list, formulas: list, header_at: dict[str, int]) -> SheetRow | None:
    row = SheetRow(number, {})
    for key, col in header_at.items():
        value = values[col] if col < len(values) else None
        formula = formulas[col] if col < len(formulas) else None
        if isinstance(formula, str) and formula.startswith("="):
            if _blank(value):
                row.formula_errors.append(key)
            else:
                row.formulas.append(key)
        row.values[key] = None if _blank(value) else value
    if all(v is None for v in row.values.values()) and not row.formula_errors:
        return None  # an empty row
    return row


# -- cell values ------------------------------------------------------------------------------

_DATE_TEXT = re.compile(r"^(\d{4})\s*[年/\-.]\s*(\d{1,2})\s*[月/\-.]\s*(\d{1,2})\s*日?$")


def as_date(value) -> dt.date:
    """A date from a date cell, an Excel serial number or text such as 2024年6月30日, 2024/6/30,
    2024-06-30; ValueError otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # the range of Excel's serial dates
            return from_excel(value).date()
        raise ValueError(value)
    match = _DATE_TEXT.match(str(value).strip())
    if match is None:
        raise ValueError(value)
    year, month, day = (int(g) for g in match.groups())
    return dt.date(year, month, day)


def as_text(value) -> str:
    """Cell text, trimmed; whole numbers without '.0'; dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).replace("\r\n", "\n").replace("_x000D_", "").strip()
