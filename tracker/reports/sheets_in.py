"""Reading a messy xlsx the way people fill them in: header row found by its text (Chinese or
English, any order, extra columns ignored), merged cells filled from their top-left cell, empty
rows skipped, formulas replaced by their last computed value, dates in any common spelling.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
import zipfile
from xml.etree import ElementTree
from xml.etree.ElementTree import iterparse

from flask_babel import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.utils.datetime import from_excel

from tracker.reports.sheet import Column, header_index, normalise_header

log = logging.getLogger(__name__)

HEADER_SEARCH_ROWS = 10
MAX_COLUMNS = 60
SPREADSHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


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


def _merged_ranges(path: Path, row_limit: int) -> dict[tuple[int, int], tuple[int, int]]:
    """(row, col) of every covered cell -> (row, col) of its merged range's top-left cell, for the
    rows and columns that are read: a range may claim a million rows (`A1:BH1048576`) in a file
    of 2 KB, so the work is bounded by what the sheet can hold, not by what a range says."""
    covered: dict[tuple[int, int], tuple[int, int]] = {}
    with zipfile.ZipFile(path) as archive, archive.open(_first_sheet(archive)) as xml:
        for _event, element in iterparse(xml):
            if element.tag.endswith("}mergeCell") and element.get("ref"):
                min_col, min_row, max_col, max_row = range_boundaries(element.get("ref"))
                for row in range(min_row, min(max_row, row_limit) + 1):
                    for col in range(min_col, min(max_col, MAX_COLUMNS) + 1):
                        if (row, col) != (min_row, min_col):
                            covered[(row, col)] = (min_row, min_col)
            elif not element.tag.endswith(("}mergeCell", "}mergeCells")):
                element.clear()
    return covered


def _first_sheet(archive: zipfile.ZipFile) -> str:
    """The archive path of the workbook's first worksheet (read-only openpyxl does not expose
    merged cells, so the sheet's XML is read for them), from the workbook and its relationships."""
    main, rels = "{%s}" % SPREADSHEET_NS, "{%s}" % RELATIONSHIPS_NS
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    first = workbook.find(f"{main}sheets/{main}sheet")
    targets = {rel.get("Id"): rel.get("Target")
               for rel in ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))}
    target = targets[first.get(f"{rels}id")]
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read(path: Path, columns: tuple[Column, ...], required_key: str, max_rows: int) -> Sheet:
    """The first worksheet's data rows keyed by column; SheetError when it cannot be read at all.
    Parsed once per upload: the preview is shown, re-shown and confirmed from the kept result."""
    kept = parsed_path(path)
    if kept.exists():
        return _loads(kept.read_text())
    sheet = _parse(path, columns, required_key, max_rows)
    kept.write_text(_dumps(sheet))
    return sheet


def parsed_path(path: Path) -> Path:
    return path.with_name(path.name + ".parsed.json")


# Cell values as JSON: dates and times tagged so they come back as they were read.
_TAGS = {"$datetime": dt.datetime, "$date": dt.date, "$time": dt.time}


def _dumps(sheet: Sheet) -> str:
    def tagged(value):
        for tag, kind in _TAGS.items():
            if type(value) is kind:
                return {tag: value.isoformat()}
        raise TypeError(type(value).__name__)
    return json.dumps(asdict(sheet), default=tagged, ensure_ascii=False)


def _loads(text: str) -> Sheet:
    def untagged(obj: dict):
        for tag, kind in _TAGS.items():
            if tag in obj and len(obj) == 1:
                return kind.fromisoformat(obj[tag])
        return obj
    data = json.loads(text, object_hook=untagged)
    return Sheet(data["headers"], data["ignored"], [SheetRow(**row) for row in data["rows"]])


def _parse(path: Path, columns: tuple[Column, ...], required_key: str, max_rows: int) -> Sheet:
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
            return _read(path, values_book, formula_book, columns, required_key, max_rows)
        except SheetError:
            raise
        except Exception:  # a damaged part inside an otherwise valid archive
            log.warning("unreadable sheet %s", path, exc_info=True)
            raise unreadable
        finally:
            values_book.close()
            formula_book.close()


def _read(path, values_book, formula_book, columns, required_key, max_rows) -> Sheet:
    values_sheet, formula_sheet = values_book.worksheets[0], formula_book.worksheets[0]
    scanned_limit = max_rows + 1000  # empty rows are allowed, within reason
    covered = _merged_ranges(path, scanned_limit)
    anchors = set(covered.values())
    index = header_index(columns)
    rows_iter = zip(values_sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True),
                    formula_sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True))
    header_at: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    seen: dict[tuple[int, int], object] = {}
    rows: list[SheetRow] = []
    header_row: list | None = None       # the header row's values while its second row may follow
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
                    if key and key in header_at:
                        if (number, col + 1) in covered:
                            continue  # one header merged across several columns
                        raise SheetError(_("The column “%(title)s” appears twice in the header (columns "
                                           "%(first)s and %(second)s). Delete or rename one of them.",
                                           title=str(values[col]).strip(), first=_letter(header_at[key]),
                                           second=_letter(col)))
                    if key:
                        header_at[key] = col
                        headers[key] = str(values[col]).strip()
                header_row = values
            continue
        if header_row is not None:
            # A grouped header: 责任分工 over 责任领导 / 牵头单位 / …, the other titles merged down.
            second = {col: index.get(normalise_header(v)) for col, v in enumerate(values)
                      if not _blank(v) and col < len(header_row) and v != header_row[col]}
            placed = {col: key for col, key in second.items() if key and key not in header_at}
            header_top, header_row = header_row, None
            if placed:
                for col, key in placed.items():
                    header_at[key] = col
                    headers[key] = str(values[col]).strip()
                used = set(header_at.values())
                ignored.extend(dict.fromkeys(str(values[c]).strip() for c, k in second.items()
                                             if not k and c not in used))
                continue
            used = set(header_at.values())
            ignored.extend(dict.fromkeys(str(v).strip() for c, v in enumerate(header_top)
                                         if not _blank(v) and c not in used))
        row = _row(number, values, list(formulas), header_at)
        if row is None:
            continue
        if len(rows) >= max_rows:
            raise SheetError(_("The sheet has more than %(n)d rows. Split it into smaller sheets.", n=max_rows))
        rows.append(row)
    if header_row is not None:  # the header was the sheet's last row
        used = set(header_at.values())
        ignored.extend(dict.fromkeys(str(v).strip() for c, v in enumerate(header_row)
                                     if not _blank(v) and c not in used))
    if not header_at:
        raise SheetError(_("No header row was found in the first %(n)d rows. The sheet needs a row of "
                           "column titles such as: %(titles)s.", n=HEADER_SEARCH_ROWS,
                           titles="；".join(_spellings(c) for c in columns[:8] if c.key != "title")))
    return Sheet(headers, ignored, rows)


def _letter(col: int) -> str:
    return get_column_letter(col + 1)


def _spellings(column: Column) -> str:
    """A column's title with the other wordings it is recognised by, e.g. 存在问题（问题表现、反馈问题）."""
    others = [a for a in column.aliases if re.search(r"[\u4e00-\u9fff]", a)][:4]
    return f"{column.zh}（{'、'.join(others)}）" if others else column.zh


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
