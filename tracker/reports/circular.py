"""The numbers of a circular (通报) for a period, and the document's content.

`circular_numbers(start, end, as_of)`: per unit the numbers of the unit statistics
(tracker/reports/stats.py, the statistics page's: items handed out in the period, closed on time,
overdue as of `as_of`, reminders, escalations and returns, and the ranking), so every paper says
the same; then the overdue items with their days and the returns of the period, by name.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, select

from tracker import clock
from tracker.extensions import db
from tracker.items.models import LIVE_STATUSES, Item
from tracker.journal import JournalEntry
from tracker.reports import documents, stats
from tracker.units.models import Unit

TEMPLATE = "circular.docx"


@dataclass
class UnitLine:
    unit_id: int
    name: str
    due: int = 0             # items handed out in the period (not cancelled): stats' "assigned"
    on_time: int = 0         # of those, closed on or before their deadline
    overdue: int = 0         # open items past their deadline as of `as_of`
    reminders: int = 0       # reminder records in the period (escalations included)
    escalations: int = 0
    returns: int = 0         # returns (退回) of the unit's items in the period
    rank: int | None = None  # the statistics' rank by on-time rate

    @property
    def rate(self) -> float | None:
        return 100.0 * self.on_time / self.due if self.due else None


@dataclass
class OverdueLine:
    item_id: int
    title: str
    lead_unit: str
    deadline: dt.date
    days_overdue: int


@dataclass
class ReturnLine:
    item_id: int
    title: str
    lead_unit: str
    on: dt.date
    reason: str


@dataclass
class CircularNumbers:
    start: dt.date
    end: dt.date
    as_of: dt.date
    units: list[UnitLine] = field(default_factory=list)       # ranked
    overdue: list[OverdueLine] = field(default_factory=list)  # longest overdue first
    returned: list[ReturnLine] = field(default_factory=list)


def circular_numbers(start: dt.date, end: dt.date, as_of: dt.date) -> CircularNumbers:
    """Per unit: ranking by on-time completion, overdue items with days overdue, reminders and
    escalations received and returns, for the period start..end (both included)."""
    numbers = CircularNumbers(start, end, as_of)
    numbers.units = [  # the statistics page's numbers, in its ranking order
        UnitLine(unit.unit_id, unit.name, due=unit.assigned, on_time=unit.closed_on_time, overdue=unit.overdue,
                 reminders=unit.reminders, escalations=unit.escalations, returns=unit.returns, rank=unit.rank)
        for unit in stats.unit_statistics(start, end, as_of=as_of)]
    overdue = db.session.execute(
        select(Item.id, Item.title, Unit.name, Item.deadline).join(Unit, Unit.id == Item.lead_unit_id)
        .where(Item.status.in_(LIVE_STATUSES), Item.deadline < as_of).order_by(Item.deadline, Item.id))
    numbers.overdue = [OverdueLine(item_id, title, name, deadline, (as_of - deadline).days)
                       for item_id, title, name, deadline in overdue]
    numbers.returned = [ReturnLine(item_id, title, name, clock.local_date(entry_at), note or "")
                        for entry_at, note, item_id, title, name in _returns(start, end)]
    return numbers


def _returns(start: dt.date, end: dt.date):
    """Returns (退回) journaled in the period, with the item's lead unit."""
    since, until = (dt.datetime.combine(day, dt.time(), tzinfo=clock.tz()).astimezone(dt.timezone.utc)
                    for day in (start, end + dt.timedelta(days=1)))
    return db.session.execute(
        select(JournalEntry.at, JournalEntry.note, Item.id, Item.title, Unit.name)
        .join(Item, and_(JournalEntry.item_id == Item.id, JournalEntry.object_type == "items"))
        .join(Unit, Unit.id == Item.lead_unit_id)
        .where(JournalEntry.action == "return_item", JournalEntry.at >= since, JournalEntry.at < until)
        .order_by(JournalEntry.at, JournalEntry.id)).all()


def context(numbers: CircularNumbers, today: dt.date, office: str | None) -> dict:
    """What the 通报 says."""
    units = [{"rank": u.rank or "—", "name": u.name, "due": u.due, "on_time": u.on_time,
              "rate": f"{u.rate:.0f}%" if u.rate is not None else "—", "overdue": u.overdue,
              "reminders": u.reminders, "escalations": u.escalations, "returns": u.returns} for u in numbers.units]
    totals = {key: sum(getattr(u, key) for u in numbers.units)
              for key in ("due", "on_time", "reminders", "escalations", "returns")}
    totals["overdue"] = len(numbers.overdue)
    return {
        "period": f"{documents.chinese_date(numbers.start)}至{documents.chinese_date(numbers.end)}",
        "as_of": documents.chinese_date(numbers.as_of), "totals": totals, "units": units,
        "overdue_items": [{"number": n, "title": o.title, "lead_unit": o.lead_unit,
                           "deadline": documents.chinese_date(o.deadline), "days_overdue": o.days_overdue}
                          for n, o in enumerate(numbers.overdue, start=1)],
        "returned": [{"number": n, "title": r.title, "lead_unit": r.lead_unit, "on": documents.chinese_date(r.on),
                      "reason": r.reason} for n, r in enumerate(numbers.returned, start=1)],
        "office": office or "教育督导室", "issued_on": documents.chinese_date(today),
    }
