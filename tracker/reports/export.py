"""The live ledger out, as filtered on screen: xlsx (streamed, see xlsx.py) and CSV (UTF-8 with BOM).

Both read the items in batches (`yield_per`) and never hold the whole ledger in memory: rows are
written one by one into a temporary file, which the response then streams. The file is complete
before the first byte is sent, so a failure never leaves the user with half a ledger. Text that a
spreadsheet would read as a formula is neutralised.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO

from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from sqlalchemy import Row, func, select
from sqlalchemy.orm import aliased

from tracker import clock
from tracker.auth.models import User
from tracker.evaluations.models import Evaluation, Finding, Indicator
from tracker.evidence.models import Evidence
from tracker.extensions import db
from tracker.items import ledger, presentation
from tracker.items.lights import Light, light_of
from tracker.items.models import Item, ProgressUpdate, item_cooperating_units
from tracker.reports import documents, ledger_book, xlsx
from tracker.reports.sheet import LEDGER_COLUMNS, Column, is_dangerous, neutralised
from tracker.units.models import Unit

log = logging.getLogger(__name__)

BATCH = 500


def ledger_statement(flt: ledger.LedgerFilter, user: User, today: dt.date, *columns):
    """The ledger page's own statement (visibility, filters, order), every page at once, so that the
    export is exactly what is on screen."""
    return ledger.matching_ids(flt, user, today).add_columns(*columns)


Owner = aliased(User)
# What a row shows, as plain columns: ORM objects cost more than writing the row.
ROW_COLUMNS = (
    Item.id, Item.finding_id, Item.title, Item.target, Item.measures, Item.responsible_leader, Item.kind, Item.status,
    Item.deadline, Item.original_deadline, Item.behind_on, Item.last_activity_on, Item.progress_percent,
    Item.listed_supervision, Item.return_reason, Item.cancel_reason, Item.closed_at,
    Unit.name.label("lead_unit"), Owner.name.label("owner"), Finding.text.label("problem"),
    Evaluation.title.label("evaluation"), Indicator.code.label("indicator_code"),
    Indicator.name.label("indicator_name"))


def _item_rows(item_ids: list[int]) -> dict[int, Row]:
    stmt = (select(*ROW_COLUMNS).join(Unit, Unit.id == Item.lead_unit_id)
            .outerjoin(Owner, Owner.id == Item.owner_id).join(Finding, Finding.id == Item.finding_id)
            .join(Evaluation, Evaluation.id == Finding.evaluation_id)
            .outerjoin(Indicator, Indicator.id == Finding.indicator_id).where(Item.id.in_(item_ids)))
    return {row.id: row for row in db.session.execute(stmt)}


def _names_by_item(stmt) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    for item_id, name in db.session.execute(stmt):
        names.setdefault(item_id, []).append(name)
    return names


def _cooperating_units(item_ids: list[int]) -> dict[int, list[str]]:
    return _names_by_item(select(item_cooperating_units.c.item_id, Unit.name)
                          .join(Unit, Unit.id == item_cooperating_units.c.unit_id)
                          .where(item_cooperating_units.c.item_id.in_(item_ids)).order_by(Unit.name))


def latest_progress(item_ids: list[int]) -> dict[int, Row]:
    """The latest progress update of each item that has one (body, created_at)."""
    latest = (select(func.max(ProgressUpdate.id)).where(ProgressUpdate.item_id.in_(item_ids))
              .group_by(ProgressUpdate.item_id))
    rows = db.session.execute(select(ProgressUpdate.item_id, ProgressUpdate.body, ProgressUpdate.created_at)
                              .where(ProgressUpdate.id.in_(latest)))
    return {row.item_id: row for row in rows}


def evidence_names(item_ids: list[int]) -> dict[int, list[str]]:
    """The names of each item's files on record (not withdrawn), in the order they came."""
    return _names_by_item(select(Evidence.item_id, Evidence.original_name).where(
        Evidence.item_id.in_(item_ids), Evidence.withdrawn.is_(False)).order_by(Evidence.id))


def _source(item: Row) -> str:
    text = item.evaluation
    if item.indicator_code is not None:
        text += f" · {item.indicator_code} {item.indicator_name}"
    return text


def _remarks(item: Row) -> str:
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
    ids = db.session.execute(ledger_statement(flt, user, today).execution_options(yield_per=BATCH))
    labels = _labels()
    seq = 0
    for batch in ids.scalars().partitions():
        for _item, row in _batch_rows(batch, today, labels):
            seq += 1
            yield dict(row, seq=seq)


def ledger_groups(flt: ledger.LedgerFilter, user: User, today: dt.date, seen: set[str]) -> Iterator[list[dict]]:
    """The ledger's rows grouped by problem, as a printed 台账 shows them: problems in the order their
    first item has on screen, each problem's items in screen order. The titles of the evaluations
    met are added to `seen` (the sheet's title names them)."""
    # Only (id, finding) pairs are held for the whole ledger (a few MB at province scale); the rows
    # themselves are read a batch at a time (a problem's items always in one batch).
    by_finding: dict[int, list[int]] = {}
    for item_id, finding_id in db.session.execute(ledger_statement(flt, user, today, Item.finding_id)
                                                  .execution_options(yield_per=BATCH)):
        by_finding.setdefault(finding_id, []).append(item_id)
    labels = _labels()
    pending: list[int] = []
    for ids in by_finding.values():
        pending.extend(ids)
        if len(pending) >= BATCH:
            yield from _groups(pending, today, labels, seen)
            pending = []
    if pending:
        yield from _groups(pending, today, labels, seen)


def _groups(batch: list[int], today: dt.date, labels: dict, seen: set[str]) -> Iterator[list[dict]]:
    rows = list(_batch_rows(batch, today, labels))
    seen.update(item.evaluation for item, _row in rows)
    for _finding, group in itertools.groupby(rows, key=lambda pair: pair[0].finding_id):
        # 事项编号 is the item's number in Rectify, shown on its page as 事项 N.
        yield [dict(row, item_no=item.id) for item, row in group]


def _batch_rows(batch: list[int], today: dt.date, labels: dict) -> Iterator[tuple[Row, dict]]:
    """(item, row) for the items `batch` names, in its order, read in a few queries."""
    items, cooperating = _item_rows(batch), _cooperating_units(batch)
    progress, evidence = latest_progress(batch), evidence_names(batch)
    for item_id in batch:
        item, latest = items[item_id], progress.get(item_id)
        yield item, _row(item, today, labels, cooperating.get(item_id, []), latest.body if latest else None,
                         evidence.get(item_id, []))


def _labels() -> dict:
    """Kind, status and light labels translated once per export, not once per row."""
    return {name: {key: str(label) for key, label in table.items()} for name, table in (
        ("kind", presentation.KIND_LABELS), ("status", presentation.STATUS_LABELS),
        ("light", presentation.LIGHT_LABELS))}


def _row(item: Row, today: dt.date, labels: dict, cooperating: list[str], progress: str | None,
         evidence: list[str]) -> dict:
    light = light_of(item, today)
    progress_text = f"{item.progress_percent}%" + (f" {progress}" if progress else "")
    return {
        "seq": 0, "source": _source(item), "problem": item.problem, "title": item.title,
        "target": item.target, "measures": item.measures, "responsible_leader": item.responsible_leader,
        "lead_unit": item.lead_unit, "cooperating_units": "、".join(cooperating), "owner": item.owner or "",
        "deadline": item.deadline, "kind": labels["kind"][item.kind], "progress": progress_text,
        "status": labels["status"][item.status], "light": labels["light"][light] if light != Light.NONE else "",
        "days_overdue": (today - item.deadline).days if light == Light.RED else None,
        "evidence": (f"({len(evidence)}) " + "、".join(evidence)) if evidence else "",
        "closed_on": clock.local_date(item.closed_at), "remarks": _remarks(item),
    }


def _english() -> bool:
    """Headers and 台账 are Chinese unless the user chose English."""
    return str(get_locale() or "zh_CN").startswith("en")


def header_texts(columns: tuple[Column, ...] = LEDGER_COLUMNS) -> list[str]:
    """The header row in the user's language."""
    return [c.en if _english() else c.zh for c in columns]


# -- writers ----------------------------------------------------------------------------------

def _temporary_file(write: Callable[[IO[bytes]], None]) -> IO[bytes]:
    """A temporary file filled by `write(file)`, rewound (the caller closes it; a failure closes it)."""
    target = tempfile.TemporaryFile()
    try:
        write(target)
    except BaseException:
        target.close()
        raise
    target.seek(0)
    return target


def write_xlsx(rows: Iterable[dict], sheet_title: str, columns: tuple[Column, ...] = LEDGER_COLUMNS,
               heading: list[str] | None = None) -> IO[bytes]:
    """Rows in a temporary xlsx file (the header row and the No./source columns stay in view)."""
    return _temporary_file(lambda target: xlsx.write(
        target, sheet_title, [c.width for c in columns], heading or header_texts(columns),
        ([row.get(c.key) for c in columns] for row in rows), freeze="C2", dangerous=is_dangerous))


def write_csv(rows: Iterable[dict], columns: tuple[Column, ...] = LEDGER_COLUMNS,
              heading: list[str] | None = None) -> IO[bytes]:
    """A BOM (so Excel reads the Chinese as UTF-8), the header and the rows in a temporary file."""
    def write(target: IO[bytes]) -> None:
        text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="", write_through=True)
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(heading or header_texts(columns))
        for row in rows:
            writer.writerow([_csv_value(row.get(c.key)) for c in columns])
        text.flush()
        text.detach()  # keep the binary file open for the response
    return _temporary_file(write)


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralised(value)
    return str(value)


# -- the 台账 as printed (ledger_book.py) -------------------------------------------------------

ITEM_NUMBER = Column("item_no", "事项编号", "Item No.", 8)
RESPONSIBILITIES = ("责任分工", "Responsibilities")   # the header over leader, units and owner
GROUPED = frozenset({"responsible_leader", "lead_unit", "cooperating_units", "owner"})
PER_PROBLEM = frozenset({"seq", "source", "problem"})
CENTRED = frozenset({"seq", "item_no", "responsible_leader", "owner", "deadline", "kind", "status", "light",
                     "days_overdue", "closed_on"})
# The widest a column grows (characters, a Chinese one counting two) before its text wraps.
MAX_WIDTHS = {"seq": 6, "item_no": 8, "source": 22, "problem": 36, "title": 24, "target": 28, "measures": 40,
              "responsible_leader": 12, "lead_unit": 16, "cooperating_units": 20, "owner": 10, "deadline": 12,
              "kind": 10, "progress": 36, "status": 10, "light": 8, "days_overdue": 8, "evidence": 24,
              "closed_on": 12, "remarks": 24}


def book_columns() -> list[ledger_book.BookColumn]:
    """The 台账's columns in the user's language: the ledger's, with the item's number after 序号."""
    english = _english()
    columns = [LEDGER_COLUMNS[0], ITEM_NUMBER, *LEDGER_COLUMNS[1:]]
    return [ledger_book.BookColumn(
        c.key, c.en if english else c.zh, MAX_WIDTHS.get(c.key, c.width),
        group=(RESPONSIBILITIES[1] if english else RESPONSIBILITIES[0]) if c.key in GROUPED else "",
        per_problem=c.key in PER_PROBLEM, centred=c.key in CENTRED) for c in columns]


def book_heading(flt: ledger.LedgerFilter, user: User, today: dt.date, evaluations: set[str],
                 office: str | None) -> ledger_book.Heading:
    """Title (the evaluation's name and 整改台账) and 填报 line (unit, date) of the 台账."""
    names = sorted(evaluations)
    if flt.evaluation is not None:
        evaluation = db.session.get(Evaluation, flt.evaluation)
        names = [evaluation.title] if evaluation is not None else names
    if not names:
        title = _("Rectification ledger")
    else:
        shown = "、".join(names[:3]) + (_(" and others") if len(names) > 3 else "")
        title = _("%(evaluation)s rectification ledger", evaluation=shown)
    if flt.overdue:
        title = _("%(title)s (overdue items)", title=title)
    unit = db.session.get(Unit, flt.unit) if flt.unit is not None else None
    unit_name = unit.name if unit is not None else (user.unit.name if user.unit is not None else office or "")
    filled_in = _("Reporting unit: %(unit)s    Date: %(date)s", unit=unit_name, date=written_date(today))
    return ledger_book.Heading(title, filled_in, _("Ledger"))


def written_date(day: dt.date) -> str:
    """A date as a paper writes it: 2026年3月16日 in Chinese, the locale's long form in English."""
    return format_date(day, "long") if _english() else documents.chinese_date(day)


def write_book(flt: ledger.LedgerFilter, user: User, today: dt.date, office: str | None) -> IO[bytes]:
    """The 台账 of what the filter shows, in a temporary xlsx file, rewound (the caller closes it)."""
    seen: set[str] = set()
    return _temporary_file(lambda target: ledger_book.write(
        target, book_columns(), ledger_groups(flt, user, today, seen),
        lambda: book_heading(flt, user, today, seen, office), dangerous=is_dangerous))
