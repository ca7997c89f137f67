"""The printable reports: per unit, overdue items, and the supervision notice (督办单) of one item."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import abort, current_app
from sqlalchemy import Integer, case, func, or_, select
from sqlalchemy.orm import selectinload

from tracker.auth.models import User
from tracker.evaluations.models import Finding
from tracker.extensions import db
from tracker.items.ledger import visible_to
from tracker.items.lights import Light, light_of, overdue_clause
from tracker.items.models import Item, Status, item_cooperating_units
from tracker.notifications.models import Reminder, ReminderKind
from tracker.units.models import Unit


@dataclass
class ReminderTally:
    count: int = 0
    escalations: int = 0
    last: dt.date | None = None


def reminder_tallies(item_ids: list[int], until: dt.date | None = None) -> dict[int, ReminderTally]:
    """Reminders and escalations sent per item (up to `until` when given), in one query."""
    if not item_ids:
        return {}
    stmt = select(Reminder.item_id, func.count(),
                  func.sum(case((Reminder.kind == ReminderKind.ESCALATION, 1), else_=0)).cast(Integer),
                  func.max(Reminder.sent_on)).where(Reminder.item_id.in_(item_ids))
    if until is not None:
        stmt = stmt.where(Reminder.sent_on <= until)
    rows = db.session.execute(stmt.group_by(Reminder.item_id)).all()
    return {item_id: ReminderTally(count, escalations or 0, last) for item_id, count, escalations, last in rows}


def reminder_tally(item_id: int, until: dt.date | None = None) -> ReminderTally:
    return reminder_tallies([item_id], until).get(item_id, ReminderTally())


@dataclass
class ReportLine:
    item: Item
    light: Light
    days_overdue: int
    reminders: ReminderTally
    lead: bool = True


def _lines(items: list[Item], today: dt.date, unit: Unit | None = None) -> list[ReportLine]:
    tallies = reminder_tallies([i.id for i in items])
    lines = []
    for item in items:
        light = light_of(item, today)
        lines.append(ReportLine(item, light, (today - item.deadline).days if light == Light.RED else 0,
                                tallies.get(item.id, ReminderTally()),
                                unit is None or item.lead_unit_id == unit.id))
    return lines


def _loaded(stmt):
    return stmt.options(selectinload(Item.lead_unit), selectinload(Item.owner),
                        selectinload(Item.cooperating_units),
                        selectinload(Item.finding).selectinload(Finding.evaluation))


def unit_for(user: User, unit_id: int) -> Unit:
    """The unit when `user` may read its report: readers any unit, heads and staff their own; else 404."""
    unit = db.session.get(Unit, unit_id)
    if unit is None or not (user.reads_everything or user.unit_id == unit.id):
        abort(404)
    return unit


@dataclass
class UnitReport:
    unit: Unit
    lines: list[ReportLine]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Closed among the items led (handed out, not cancelled), as on the dashboard."""
        counted = self.counts["total"]
        return 100.0 * self.counts["closed"] / counted if counted else 0.0


def unit_report(unit: Unit, today: dt.date) -> UnitReport:
    """Every item the unit leads or cooperates on, the open ones first (reddest first)."""
    coop = select(item_cooperating_units.c.item_id).where(item_cooperating_units.c.unit_id == unit.id)
    items = db.session.scalars(_loaded(select(Item).where(
        or_(Item.lead_unit_id == unit.id, Item.id.in_(coop)), Item.status != Status.DRAFT).order_by(Item.deadline, Item.id))).all()
    lines = _lines(list(items), today, unit)
    order = {Light.RED: 0, Light.YELLOW: 1, Light.GREEN: 2, Light.NONE: 3}
    lines.sort(key=lambda line: (order[line.light], not line.lead))
    led = [line for line in lines if line.lead]
    # The unit's numbers are those of the statistics (tracker/reports/stats.py), as everywhere.
    from tracker.reports import stats
    ours = select(Item).where(or_(Item.lead_unit_id == unit.id,
                                  Item.id.in_(select(Reminder.item_id).where(Reminder.unit_id == unit.id))))
    row = next((r for r in stats.unit_statistics(as_of=today, items=ours, rollup=False, parts=False) if r.unit_id == unit.id),
               stats.UnitStats(unit.id, unit.name))
    counts = {
        "total": row.assigned, "closed": row.closed, "cancelled": row.cancelled, "overdue": row.overdue,
        "cooperating": len(lines) - len(led), "reminders": row.reminders, "escalations": row.escalations,
        "open": row.open,
    }
    return UnitReport(unit, lines, counts)


def overdue_lines(user: User, today: dt.date) -> list[ReportLine]:
    """The overdue items `user` may see, longest overdue first."""
    stmt = visible_to(user).where(overdue_clause(today)).order_by(Item.deadline, Item.id)
    return _lines(list(db.session.scalars(_loaded(stmt)).all()), today)


# -- the supervision notice (督办单) ---------------------------------------------------------

REQUIREMENT_MAX = 2000


def escalated(item: Item, today: dt.date) -> bool:
    """A notice is for items under listed supervision or escalated (or overdue long enough to be)."""
    if not item.is_open:
        return False
    days = (today - item.deadline).days
    return (item.listed_supervision or reminder_tally(item.id).escalations > 0
            or days >= current_app.config["ESCALATE_AFTER_DAYS"])


@dataclass
class Notice:
    item: Item
    days_overdue: int
    reminders: ReminderTally
    reminder_list: list[Reminder]
    requirement: str
    reply_by: dt.date
    issued_on: dt.date


def notice(item: Item, today: dt.date, requirement: str, reply_by: dt.date) -> Notice:
    reminders = db.session.scalars(select(Reminder).where(Reminder.item_id == item.id)
                                   .order_by(Reminder.sent_on, Reminder.id)).all()
    return Notice(item, max(0, (today - item.deadline).days), reminder_tally(item.id), list(reminders),
                  requirement.strip()[:REQUIREMENT_MAX], reply_by, today)
