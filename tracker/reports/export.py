"""The live ledger out, as filtered on screen: xlsx (openpyxl write-only) and CSV (UTF-8 with BOM).

Both read the items in batches (`yield_per`) and never hold the whole ledger in memory: rows are
written one by one into a temporary file, which the response then streams. The file is complete
before the first byte is sent, so a failure never leaves the user with half a ledger. Text that a
spreadsheet would read as a formula is neutralised.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

from flask_babel import get_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tracker import clock
from tracker.auth.models import User
from tracker.evaluations.models import Finding
from tracker.evidence.models import Evidence
from tracker.extensions import db
from tracker.items import ledger, presentation
from tracker.items.lights import Light, light_of
from tracker.items.models import Item, ProgressUpdate
from tracker.reports.sheet import LEDGER_COLUMNS, Column, is_dangerous, neutralised

log = logging.getLogger(__name__)

BATCH = 500
DATE_FORMAT = "yyyy-mm-dd"


def ledger_statement(flt: ledger.LedgerFilter, user: User, today: dt.date):
    """The ledger page's query (same visibility, filters and order), every page at once."""
    # Reuses the ledger's own filter and order so that the export is exactly what is on screen.
    stmt = ledger._ordered(ledger._filtered(ledger.visible_to(user), flt, user, today), flt.sort, today)
    return stmt.options(
        selectinload(Item.lead_unit), selectinload(Item.owner), selectinload(Item.cooperating_units),
        selectinload(Item.finding).selectinload(Finding.evaluation),
        selectinload(Item.finding).selectinload(Finding.indicator))


def _latest_progress(item_ids: list[int]) -> dict[int, str]:
    latest = (select(func.max(ProgressUpdate.id)).where(ProgressUpdate.item_id.in_(item_ids))
              .group_by(ProgressUpdate.item_id))
    rows = db.session.execute(select(ProgressUpdate.item_id, ProgressUpdate.body)
                              .where(ProgressUpdate.id.in_(latest))).all()
    return dict(rows)


def _evidence_names(item_ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    rows = db.session.execute(select(Evidence.item_id, Evidence.original_name).where(
        Evidence.item_id.in_(item_ids), Evidence.withdrawn.is_(False)).order_by(Evidence.id)).all()
    for item_id, name in rows:
        names.setdefault(item_id, []).append(name)
    return names


def _source(finding: Finding) -> str:
    text = finding.evaluation.title
    if finding.indicator is not None:
        text += f" · {finding.indicator.code} {finding.indicator.name}"
    return text


def _remarks(item: Item) -> str:
    notes = []
    if item.listed_supervision:
        notes.append(_("Listed supervision"))
    if item.deadline != item.original_deadline:
        notes.append(_("Original deadline %(date)s", date=item.original_deadline.isoformat()))
    if item.return_reason and item.status.value == "returned":
        notes.append(_("Returned: %(reason)s", reason=item.return_reason))
    if item.cancel_reason:
        notes.append(_("Cancelled: %(reason)s", reason=item.cancel_reason))
    return "；".join(notes)


def ledger_rows(flt: ledger.LedgerFilter, user: User, today: dt.date) -> Iterator[dict]:
    """One dict per item (column key -> value), in the ledger's order, read in batches."""
    result = db.session.execute(ledger_statement(flt, user, today).execution_options(yield_per=BATCH))
    seq = 0
    for batch in result.scalars().partitions():
        ids = [item.id for item in batch]
        progress = _latest_progress(ids)
        evidence = _evidence_names(ids)
        for item in batch:
            seq += 1
            yield _row(seq, item, today, progress.get(item.id), evidence.get(item.id, []))
        # The session's identity map holds items weakly: a finished batch is freed with `batch`.


def _row(seq: int, item: Item, today: dt.date, progress: str | None, evidence: list[str]) -> dict:
    light = light_of(item, today)
    progress_text = f"{item.progress_percent}%" + (f" {progress}" if progress else "")
    return {
        "seq": seq, "source": _source(item.finding), "problem": item.finding.text, "title": item.title,
        "target": item.target, "measures": item.measures, "responsible_leader": item.responsible_leader,
        "lead_unit": item.lead_unit.name,
        "cooperating_units": "、".join(u.name for u in item.cooperating_units),
        "owner": item.owner.name if item.owner else "", "deadline": item.deadline,
        "kind": str(presentation.KIND_LABELS[item.kind]), "progress": progress_text,
        "status": str(presentation.STATUS_LABELS[item.status]),
        "light": str(presentation.LIGHT_LABELS[light]) if light != Light.NONE else "",
        "days_overdue": (today - item.deadline).days if light == Light.RED else None,
        "evidence": (f"({len(evidence)}) " + "、".join(evidence)) if evidence else "",
        "closed_on": clock.local_date(item.closed_at), "remarks": _remarks(item),
    }


def header_texts(columns: tuple[Column, ...] = LEDGER_COLUMNS) -> list[str]:
    """The header row in the user's language (Chinese unless they chose English)."""
    english = str(get_locale() or "zh_CN").startswith("en")
    return [c.en if english else c.zh for c in columns]


# -- writers ----------------------------------------------------------------------------------

def write_xlsx(rows: Iterable[dict], sheet_title: str, columns: tuple[Column, ...] = LEDGER_COLUMNS,
               heading: list[str] | None = None) -> IO[bytes]:
    """Write rows into a temporary xlsx file and return it, rewound (the caller closes it)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])
    for number, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = column.width
    sheet.freeze_panes = "C2"  # the header row and the No./source columns stay in view
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    header = []
    for text in heading or header_texts(columns):
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, row.get(c.key), wrap) for c in columns])
    target = tempfile.TemporaryFile()
    try:
        workbook.save(target)
    except BaseException:
        target.close()
        raise
    target.seek(0)
    return target


def _xlsx_cell(sheet, value, wrap):
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if not isinstance(value, str):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(sheet, value=text)
    if is_dangerous(text):
        # Stored as text, never as a formula; Excel's quote prefix marks it as typed-in text.
        cell.data_type = "s"
        cell.quotePrefix = True
    if len(text) > 30 or "\n" in text:
        cell.alignment = wrap
    return cell


def write_csv(rows: Iterable[dict], columns: tuple[Column, ...] = LEDGER_COLUMNS,
              heading: list[str] | None = None) -> IO[bytes]:
    """Write a BOM (so Excel reads the Chinese as UTF-8), the header and the rows into a temporary
    file and return it, rewound (the caller closes it)."""
    target = tempfile.TemporaryFile()
    try:
        text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="", write_through=True)
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(heading or header_texts(columns))
        for row in rows:
            writer.writerow([_csv_value(row.get(c.key)) for c in columns])
        text.flush()
        text.detach()  # keep the binary file open for the response
    except BaseException:
        target.close()
        raise
    target.seek(0)
    return target


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralised(value)
    return str(value)
