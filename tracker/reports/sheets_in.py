"""Reading a messy xlsx the way people fill them in: header row found by its text (Chinese or
English, any order, extra columns ignored), merged cells filled from their top-left cell, empty
rows skipped, formulas replaced by their last computed value, dates in any common spelling.
"""
from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import json
import logging
import re
import warnings
import zipfile
from contextlib import ExitStack, closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from xml.etree import ElementTree
from xml.etree.ElementTree import iterparse

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
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
    notes: list[list] = field(default_factory=list)  # [row number, text] of rows that are not items


def _merged_ranges(path: Path, row_limit: int, sheet_name: str | None = None) -> dict[tuple[int, int], tuple[int, int]]:
    """(row, col) of every covered cell -> (row, col) of its merged range's top-left cell, for the
    rows and columns that are read: a range may claim a million rows (`A1:BH1048576`) in a file
    of 2 KB, so the work is bounded by what the sheet can hold, not by what a range says."""
    covered: dict[tuple[int, int], tuple[int, int]] = {}
    with zipfile.ZipFile(path) as archive, archive.open(_first_sheet(archive, sheet_name)) as xml:
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


def _sheets(archive: zipfile.ZipFile) -> list[ElementTree.Element]:
    """The workbook's <sheet> elements, in their order."""
    main = "{%s}" % SPREADSHEET_NS
    return ElementTree.fromstring(archive.read("xl/workbook.xml")).findall(f"{main}sheets/{main}sheet")


def _first_sheet(archive: zipfile.ZipFile, sheet_name: str | None = None) -> str:
    """The archive path of the workbook's first worksheet, or of the one named `sheet_name`
    (read-only openpyxl does not expose merged cells, so the sheet's XML is read for them)."""
    sheets = _sheets(archive)
    first = next((s for s in sheets if s.get("name") == sheet_name), sheets[0])
    targets = {rel.get("Id"): rel.get("Target")
               for rel in ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))}
    target = targets[first.get("{%s}id" % RELATIONSHIPS_NS)]
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def sheet_names(path: Path) -> list[str]:
    """The names of the workbook's worksheets, in their order (empty when it cannot be read)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return [s.get("name") or "" for s in _sheets(archive)]
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError):
        return []


def read(path: Path, columns: tuple[Column, ...], required_key: str, max_rows: int,
         sheet_name: str | None = None, mapping: dict[str, str] | None = None) -> Sheet:
    """The data rows of the first worksheet (or the one named `sheet_name`) keyed by column;
    `mapping` places header texts the columns' spellings do not know (header text -> key).
    SheetError when it cannot be read at all. Parsed once per upload, sheet and mapping: the
    preview is shown again and confirmed from the kept result (`forget_parsed` when they change)."""
    kept = parsed_path(path)
    if kept.exists():
        return _loads(kept.read_text())
    sheet = _parse(path, columns, required_key, max_rows, sheet_name, mapping or {})
    kept.write_text(_dumps(sheet))
    return sheet


def parsed_path(path: Path) -> Path:
    return path.with_name(path.name + ".parsed.json")


def forget_parsed(path: Path) -> None:
    parsed_path(path).unlink(missing_ok=True)


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
    return Sheet(data["headers"], data["ignored"], [SheetRow(**row) for row in data["rows"]],
                 data.get("notes", []))


def _parse(path: Path, columns: tuple[Column, ...], required_key: str, max_rows: int,
           sheet_name: str | None, mapping: dict[str, str]) -> Sheet:
    unreadable = SheetError(_("This file is not an Excel workbook (.xlsx) that can be read. "
                              "Open it in Excel or WPS, save it as .xlsx and try again."))
    with warnings.catch_warnings(), ExitStack() as books:
        warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it does not know
        try:
            values_book = books.enter_context(closing(load_workbook(path, read_only=True, data_only=True)))
            formula_book = books.enter_context(closing(load_workbook(path, read_only=True, data_only=False)))
        except Exception:  # openpyxl raises many kinds of errors for files it cannot parse
            raise unreadable
        if not values_book.worksheets:
            raise unreadable
        try:
            return _read(path, values_book, formula_book, columns, required_key, max_rows, sheet_name, mapping)
        except SheetError:
            raise
        except Exception:  # a damaged part inside an otherwise valid archive
            log.warning("unreadable sheet %s", path, exc_info=True)
            raise unreadable


def _read(path, values_book, formula_book, columns, required_key, max_rows, sheet_name, mapping) -> Sheet:
    if sheet_name not in values_book.sheetnames:
        sheet_name = None
    values_sheet = values_book[sheet_name] if sheet_name else values_book.worksheets[0]
    formula_sheet = formula_book[sheet_name] if sheet_name else formula_book.worksheets[0]
    scanned_limit = max_rows + 1000  # empty rows are allowed, within reason
    covered = _merged_ranges(path, scanned_limit, sheet_name)
    anchors = set(covered.values())
    index = header_index(columns)
    known = {c.key for c in columns}
    for text, key in mapping.items():  # the admin's mapping of columns the spellings missed
        if key in known:
            index[normalise_header(text)] = key
    rows_iter = zip(values_sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True),
                    formula_sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True))
    header_at: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    seen: dict[tuple[int, int], object] = {}
    rows: list[SheetRow] = []
    notes: list[list] = []
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
            if placed and 2 * sum(1 for k in second.values() if k) >= len(second):  # a data row may hold a header word
                for col, key in placed.items():
                    header_at[key] = col
                    headers[key] = str(values[col]).strip()
                ignored.extend(_unplaced({c: values[c] for c, k in second.items() if not k}, header_at))
                continue
            ignored.extend(_unplaced(dict(enumerate(header_top)), header_at))
        note = _note(values, header_at)
        if note is not None:
            notes.append([number, note[:200]])
            continue
        row = _row(number, values, list(formulas), header_at)
        if row is None:
            continue
        if len(rows) >= max_rows:
            raise SheetError(_("The sheet has more than %(n)d rows. Split it into smaller sheets.", n=max_rows))
        rows.append(row)
    if header_row is not None:  # the header was the sheet's last row
        ignored.extend(_unplaced(dict(enumerate(header_row)), header_at))
    if not header_at:
        raise SheetError(_("No header row was found in the first %(n)d rows. The sheet needs a row of "
                           "column titles such as: %(titles)s.", n=HEADER_SEARCH_ROWS,
                           titles="；".join(_spellings(c) for c in columns[:8] if c.key != "title")))
    return Sheet(headers, ignored, rows, notes)


def _unplaced(texts: dict[int, object], header_at: dict[str, int]) -> list[str]:
    """The header texts (column -> value) of columns no key was placed in, each once."""
    used = set(header_at.values())
    return list(dict.fromkeys(str(v).strip() for c, v in texts.items() if not _blank(v) and c not in used))


NOTE_STARTS = ("注", "备注：", "备注:", "说明", "联系人", "填报人", "审核人", "负责人：", "负责人:",
               "单位负责人", "制表", "填表")


def _note(values: list, header_at: dict[str, int]) -> str | None:
    """The text of a row that is not an item: 注：1. …, 联系人：… 电话：…, or one merged text
    spanning the table (the same text in every column it covers)."""
    texts = [str(values[c]).strip() for c in sorted(set(header_at.values()))
             if c < len(values) and not _blank(values[c])]
    if not texts:
        return None
    if texts[0].startswith(NOTE_STARTS):
        return texts[0]
    if len(texts) >= 3 and len(set(texts)) == 1 and len(texts) >= len(set(header_at.values())) - 1:
        return texts[0]
    return None


def _letter(col: int) -> str:
    return get_column_letter(col + 1)


def _spellings(column: Column) -> str:
    """A column's title with the other wordings it is recognised by, e.g. 存在问题（问题表现、反馈问题）."""
    others = [a for a in column.aliases if re.search(r"[\u4e00-\u9fff]", a)][:4]
    return f"{column.zh}（{'、'.join(others)}）" if others else column.zh


EXCEL_ERRORS = frozenset({"#REF!", "#N/A", "#VALUE!", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!", "#SPILL!"})


def _row(number: int, values: list, formulas: list, header_at: dict[str, int]) -> SheetRow | None:
    row = SheetRow(number, {})
    for key, col in header_at.items():
        value = values[col] if col < len(values) else None
        formula = formulas[col] if col < len(formulas) else None
        if isinstance(value, str) and value.strip() in EXCEL_ERRORS:
            row.formula_errors.append(key)  # #REF! and its kind: the value is lost, say so
            value = None
        elif isinstance(formula, str) and formula.startswith("="):
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


# -- deadlines as offices write them ------------------------------------------------------------

IMMEDIATE_WORDS = ("立行立改", "立即整改", "即知即改")
LONG_TERM_WORDS = ("长期坚持", "长期", "持续推进", "常态化", "持续整改")
_QUARTER = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_CN_NUM = "〇一二三四五六七八九"


class NeedsYear(ValueError):
    """A month or day without a year (6月底): the admin has to say which year."""


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def deadline_phrase(value) -> tuple[dt.date | None, str | None]:
    """(date, kind hint) for a deadline cell: a date cell, an Excel serial, or a phrase such as
    2025年6月底前, 2025年6月, 2025.12, 2025/3/31, 2025年第三季度, 2025年底前, 2026年秋季学期开学前.
    立行立改 gives (None, "immediate"), 长期坚持 (None, "long_term"): the caller settles the date.
    ValueError when no date can be read, NeedsYear when the year is missing."""
    if isinstance(value, float) and 1990 <= value < 2100 and not value.is_integer():
        value = f"{value:.2f}".rstrip("0")  # a month as a number: 2025.12, 2025.3 (2025.10 is refused below)
    if not isinstance(value, str):
        return as_date(value), None
    text = re.sub(r"\s+", "", value)
    if any(word in text for word in IMMEDIATE_WORDS):
        return None, "immediate"
    if any(text.startswith(word) for word in LONG_TERM_WORDS):
        return None, "long_term"
    try:
        return as_date(text.rstrip("前")), None
    except (ValueError, OverflowError):
        pass
    years = re.findall(r"(20\d{2}|19\d{2})", text)
    if not years:
        if re.search(r"\d{1,2}月|季度|年底|学期", text):
            raise NeedsYear(value)
        raise ValueError(value)
    # a range (2025年3月—2025年6月) counts by its end: read from the last year on
    tail = text[text.rindex(years[-1]):]
    year = int(years[-1])
    m = re.match(r"\d{4}[年/\-.](\d{1,2})[月/\-.](\d{1,2})日?", tail)
    if m:
        return dt.date(year, int(m.group(1)), int(m.group(2))), None
    m = re.match(r"\d{4}年?第?([一二三四1-4])季度", tail)
    if m:
        return _month_end(year, _QUARTER[m.group(1)] * 3), None
    if re.match(r"\d{4}年?上半年", tail):
        return dt.date(year, 6, 30), None
    if re.match(r"\d{4}年?(下半年|底|末|年底|年末|年内|前|$)", tail):
        return dt.date(year, 12, 31), None
    m = re.match(r"\d{4}年?(春季|秋季)学期", tail)
    if m:  # before the term opens: the end of February or of August
        return (_month_end(year, 2) if m.group(1) == "春季" else dt.date(year, 8, 31)), None
    m = re.match(r"\d{4}年?暑假", tail) or re.match(r"\d{4}年?寒假", tail)
    if m:
        return (dt.date(year, 7, 10) if "暑假" in tail else dt.date(year, 1, 20)), None
    m = re.match(r"\d{4}[年/\-.](\d{1,2})月?", tail)
    if m and 1 <= int(m.group(1)) <= 12:
        if re.match(r"\d{4}\.1$", tail):
            raise ValueError(value)  # 2025.1 may be January or a shortened 2025.10
        return _month_end(year, int(m.group(1))), None
    raise ValueError(value)


def short_title(measure: str, limit: int = 30) -> str:
    """A short item title drawn from its measure: numbering dropped, the first clause, at most `limit`
    characters (1.新建城区学校2所，扩充学位 → 新建城区学校2所)."""
    text = re.sub(r"^\s*(?:[(（]?[0-9一二三四五六七八九十]+[)）.．、]|[一二三四五六七八九十]+是)\s*", "",
                  measure.strip())
    first = re.split(r"[，,。；;：:\n]", text, maxsplit=1)[0].strip()
    return (first or text)[:limit]


# -- legacy files: .xls and CSV become an xlsx at upload --------------------------------------

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def convert_legacy(path: Path, filename: str, max_rows: int) -> None:
    """Rewrite a legacy .xls (or WPS .et) workbook or a CSV (UTF-8 or GBK) at `path` as an xlsx,
    merged cells and dates kept, so the rest of the import reads one format. SheetError for a
    password-protected workbook or a web page saved as .xls; anything else is left as it is."""
    data = path.read_bytes()
    head = data[:4096]
    if head.startswith(OLE_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data or b"FILEPASS" in data:
            raise SheetError(_("This workbook is protected by a password. Open it in Excel or WPS, remove "
                               "the password, save it as .xlsx and try again."))
        _xls_to_xlsx(path, data, max_rows)
    elif re.search(rb"<\s*(html|table|!doctype)", head.lower()):
        raise SheetError(_("This file is a web page saved with a spreadsheet name, not a workbook. Open it "
                           "in Excel or WPS, save it as .xlsx and try again."))
    elif filename.lower().endswith(".csv"):
        _csv_to_xlsx(path, data, max_rows)


def _save_rows(path: Path, rows, merges=()) -> None:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for ref in merges:
        sheet.merge_cells(ref)
    book.save(path)


def _xls_to_xlsx(path: Path, data: bytes, max_rows: int) -> None:
    import xlrd
    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True)
        sheet = book.sheet_by_index(0)
    except Exception:  # xlrd raises many kinds of errors for damaged files
        return  # left as it is: the xlsx check refuses it in plain words

    def value(cell):
        if cell.ctype == xlrd.XL_CELL_DATE:
            return xlrd.xldate_as_datetime(cell.value, book.datemode)
        return None if cell.ctype in (xlrd.XL_CELL_ERROR, xlrd.XL_CELL_EMPTY) else cell.value

    rows = [[value(sheet.cell(r, c)) for c in range(min(sheet.ncols, MAX_COLUMNS))]
            for r in range(min(sheet.nrows, max_rows + 1000))]
    merges = [f"{get_column_letter(c0 + 1)}{r0 + 1}:{get_column_letter(c1)}{r1}"
              for r0, r1, c0, c1 in sheet.merged_cells if r1 - r0 > 1 or c1 - c0 > 1]
    _save_rows(path, rows, merges)


def _csv_to_xlsx(path: Path, data: bytes, max_rows: int) -> None:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetError(_("This CSV file is neither UTF-8 nor GBK text. Save it as .xlsx and try again."))
    rows = [[cell if cell.strip() else None for cell in row]
            for _n, row in zip(range(max_rows + 1000), csv.reader(io.StringIO(text)))]
    _save_rows(path, rows)
