"""Unit statistics (for 通报 and 考核): the one place that counts, per unit, what units were asked to
do and how they did it. The dashboard's unit table, the leaders' digest, the unit report, the
statistics page and its sheet, the API and the 通报 document all read `unit_statistics()`, so the
same question has the same answer everywhere.

The rules (README "Unit statistics" says them to users):

- An *assignment* is one unit asked to do one item: the item's lead unit (`_lead_assignments`) and
  each cooperating unit's part (`_part_assignments`: done when reported, 已反馈, by the part's own
  deadline). The dashboard's unit table, the digest and the unit report count lead units only
  (`parts=False`) and show parts in columns of their own.
- Drafts (待交办) count nowhere: only items handed out are counted (`COUNTED_STATUSES`, the statuses
  of `LIVE_STATUSES` plus closed and cancelled). Cancelled items are shown apart and are in no rate.
- The period chooses the items: those handed out (assigned) in it, both ends included; every
  number is about these items, up to `as_of` (today). No period: every item handed out.
- The item counts with the unit that leads it now (the unit answerable for it). What happened to
  the unit — reminders, escalations, returns, extension requests — counts with the unit that was
  lead when it happened, even if the item moved later (reminders record that unit; returns and
  requests read it from the journal).
- Closed on time: closed on or before the deadline in force (an approved extension moves it).
  A reopened item is open again: its earlier closure counts no more.
- Sub-units are rolled up into their top unit (`rollup=True`): the top unit's row is the sum of
  its own items and its sub-units', which are listed under it (`parts`).
- Ranking: by on-time rate (closed on time ÷ assigned), then fewer overdue now, then more closed;
  units equal on all three share a rank. Units with no item assigned are not ranked.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, fields

from sqlalchemy import Integer, Select, String, and_, case, cast, func, literal, null, or_, select, union_all

from tracker import clock, days
from tracker.evaluations.models import Evaluation, Finding
from tracker.extensions import db
from tracker.inspection.models import ExtensionRequest, ExtensionStatus
from tracker.items.models import LIVE_STATUSES, Item, Status
from tracker.journal import JournalEntry
from tracker.notifications.models import Reminder, ReminderKind
from tracker.units.models import Unit

# Handed out: open (not a draft), closed or cancelled. A draft is the coordinator's, judged on nothing.
COUNTED_STATUSES = frozenset(LIVE_STATUSES | {Status.CLOSED, Status.CANCELLED})
MAX_TREND_WEEKS = 260


class BadPeriod(ValueError):
    """The period ends before it starts."""


class UnknownEvaluation(LookupError):
    """The evaluation named does not exist (deleted, or never did)."""


# What became of an assignment, as the SQL below counts it.
OPEN, CLOSED, CANCELLED = 0, 1, 2


def _lead_assignments(inner) -> Select:
    """The lead unit of every item of `inner` (a subquery of counted items)."""
    state = case((inner.c.status == Status.CLOSED, CLOSED), (inner.c.status == Status.CANCELLED, CANCELLED),
                 else_=OPEN)
    return select(
        inner.c.lead_unit_id.label("unit_id"), inner.c.id.label("item_id"), state.label("state"),
        days.day_number(inner.c.deadline).label("deadline"),
        days.local_day(func.coalesce(inner.c.assigned_at, inner.c.created_at)).label("assigned"),
        days.local_day(inner.c.acknowledged_at).label("acknowledged"),
        case((inner.c.status == Status.CLOSED, days.local_day(inner.c.closed_at))).label("closed"),
        case((inner.c.status == Status.CANCELLED, days.local_day(inner.c.cancelled_at))).label("cancelled"),
        case((inner.c.listed_supervision, 1), else_=0).label("listed"))


def _part_assignments(inner) -> Select:
    """Each cooperating unit's part (会签) of the items of `inner`: a unit is judged on what it was
    asked to do. A part reported done (已反馈) counts as closed on the day it was reported."""
    from tracker.parts.models import Part, PartStatus
    cancelled = or_(Part.status == PartStatus.CANCELLED, inner.c.status == Status.CANCELLED)
    state = case((cancelled, CANCELLED), (Part.status == PartStatus.DONE, CLOSED), else_=OPEN)
    return (select(
        Part.unit_id, Part.item_id, state.label("state"), days.day_number(Part.deadline).label("deadline"),
        days.local_day(Part.created_at).label("assigned"), days.local_day(Part.acknowledged_at).label("acknowledged"),
        case((and_(~cancelled, Part.status == PartStatus.DONE), days.local_day(Part.done_at))).label("closed"),
        case((cancelled, days.local_day(Part.cancelled_at))).label("cancelled"), literal(0).label("listed"))
        .join(inner, inner.c.id == Part.item_id))


def assignments(items: Select, parts: bool = True):
    """One row per unit asked to do an item of `items`: the lead unit, and (`parts`) each
    cooperating unit's part; what became of it (OPEN, CLOSED, CANCELLED) and its days as day
    numbers (tracker/days.py), so that every count below is a sum the database does. A common
    table expression: a statement that reads it more than once has it computed once."""
    inner = items.subquery()
    sources = [_lead_assignments(inner)] + ([_part_assignments(inner)] if parts else [])
    return (union_all(*sources) if len(sources) > 1 else sources[0]).cte("assignments")


def _aware(value):
    """Rows read through a subquery may come back as naive UTC (SQLite) or strings."""
    if value is None or isinstance(value, dt.datetime) and value.tzinfo:
        return value
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


@dataclass
class UnitStats:
    unit_id: int
    name: str
    assigned: int = 0              # handed out in the period, not cancelled
    cancelled: int = 0
    closed_on_time: int = 0
    closed_late: int = 0
    open: int = 0                  # still open (includes the overdue ones)
    overdue: int = 0               # open and past the deadline today
    overdue_days: int = 0          # the overdue items' days past the deadline, added up
    longest_overdue: int = 0       # the most days one item is past its deadline
    acknowledged: int = 0          # items acknowledged (签收), for the average
    acknowledge_days: int = 0      # days from handing out to 签收, added up
    returns: int = 0               # times a submission was returned (退回)
    extensions_asked: int = 0
    extensions_granted: int = 0
    reminders: int = 0             # every reminder received, escalations included (催办)
    escalations: int = 0
    listed: int = 0                # open items under listed supervision (挂牌督办) now
    rank: int | None = None
    parts: list[UnitStats] = field(default_factory=list)  # rolled up: the unit's own and each sub-unit's

    @property
    def closed(self) -> int:
        return self.closed_on_time + self.closed_late

    @property
    def on_time_rate(self) -> float | None:
        """Closed on time among the items assigned (cancelled ones left out); None without items."""
        return 100.0 * self.closed_on_time / self.assigned if self.assigned else None

    @property
    def completion_rate(self) -> float | None:
        return 100.0 * self.closed / self.assigned if self.assigned else None

    @property
    def average_acknowledge_days(self) -> float | None:
        return self.acknowledge_days / self.acknowledged if self.acknowledged else None

    @property
    def handed_out(self) -> int:
        """Everything handed out, cancelled items too (the dashboard's 'items')."""
        return self.assigned + self.cancelled

    COUNTERS = ("assigned", "cancelled", "closed_on_time", "closed_late", "open", "overdue", "overdue_days",
                "acknowledged", "acknowledge_days", "returns", "extensions_asked", "extensions_granted",
                "reminders", "escalations", "listed")

    def add(self, other: UnitStats) -> None:
        for name in self.COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.longest_overdue = max(self.longest_overdue, other.longest_overdue)

    def as_dict(self) -> dict:
        """Plain values (the API, the sheet, the 通报 document)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "parts"}
        values.update(closed=self.closed, on_time_rate=_round(self.on_time_rate),
                      completion_rate=_round(self.completion_rate),
                      average_acknowledge_days=_round(self.average_acknowledge_days))
        return values


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _bounds(period_start: dt.date | None, period_end: dt.date | None):
    if period_start and period_end and period_end < period_start:
        raise BadPeriod(f"the period ends ({period_end}) before it starts ({period_start})")
    zone = clock.tz()
    start = (dt.datetime.combine(period_start, dt.time(), tzinfo=zone).astimezone(dt.timezone.utc)
             if period_start else None)
    end = (dt.datetime.combine(period_end + dt.timedelta(days=1), dt.time(), tzinfo=zone).astimezone(dt.timezone.utc)
           if period_end else None)
    return start, end


def counted_items(period_start: dt.date | None = None, period_end: dt.date | None = None,
                  evaluation_id: int | None = None, items: Select | None = None) -> Select:
    """The items the statistics count: handed out (no drafts), in the period, of the evaluation,
    among `items` (a reader's visible items; all when None)."""
    if evaluation_id is not None and db.session.get(Evaluation, evaluation_id) is None:
        raise UnknownEvaluation(evaluation_id)
    start, end = _bounds(period_start, period_end)
    stmt = (items if items is not None else select(Item)).where(Item.status.in_(COUNTED_STATUSES))
    handed_out = func.coalesce(Item.assigned_at, Item.created_at)
    if start is not None:
        stmt = stmt.where(handed_out >= start)
    if end is not None:
        stmt = stmt.where(handed_out < end)
    if evaluation_id is not None:
        stmt = stmt.where(Item.finding_id.in_(select(Finding.id).where(Finding.evaluation_id == evaluation_id)))
    return stmt


class _LeadHistory:
    """Which unit led an item at a moment, from the journal's changes of `lead_unit_id`."""

    def __init__(self, item_ids: set[int]):
        self.changes: dict[int, list[tuple[dt.datetime, int, int]]] = defaultdict(list)
        if not item_ids:
            return
        # Only the edits that name the lead unit: decoding every edit's changes took seconds.
        names_lead = cast(JournalEntry.changes, String).like('%"lead_unit_id"%')
        for item_id, at, changes in db.session.execute(
                select(JournalEntry.item_id, JournalEntry.at, JournalEntry.changes)
                .where(JournalEntry.object_type == Item.__tablename__, JournalEntry.action == "update",
                       JournalEntry.item_id.in_(item_ids), names_lead)
                .order_by(JournalEntry.at, JournalEntry.id)):
            change = (changes or {}).get("lead_unit_id")
            if change and len(change) == 2:
                self.changes[item_id].append((_aware(at), change[0], change[1]))

    def at(self, item_id: int, moment: dt.datetime, current: int) -> int:
        history = self.changes.get(item_id)
        if not history:
            return current
        moment = _aware(moment)
        before = [new for at, _old, new in history if at <= moment]
        return before[-1] if before else history[0][1]


def _units() -> dict[int, tuple[str, int | None]]:
    return {uid: (name, parent) for uid, name, parent in db.session.execute(select(Unit.id, Unit.name, Unit.parent_id))}


def top_unit(unit_id: int, units: dict[int, tuple[str, int | None]]) -> int:
    """The unit's top ancestor in the hierarchy (itself without a parent); safe against cycles."""
    seen = {unit_id}
    while (parent := units.get(unit_id, ("", None))[1]) is not None and parent not in seen:
        seen.add(parent)
        unit_id = parent
    return unit_id


def unit_statistics(period_start: dt.date | None = None, period_end: dt.date | None = None,
                    evaluation_id: int | None = None, as_of: dt.date | None = None, *,
                    items: Select | None = None, rollup: bool = True, parts: bool = True) -> list[UnitStats]:
    """Per unit, the numbers of the module docstring, ranked (best first); units with nothing to
    count are left out, so an empty list means no data. `parts=False`: lead units' items only (the
    dashboard's unit table, which shows parts in columns of their own). Raises BadPeriod and
    UnknownEvaluation."""
    as_of = as_of or clock.today()
    stmt = counted_items(period_start, period_end, evaluation_id, items)
    per_unit: dict[int, UnitStats] = {}
    units = _units()

    def row(unit_id: int) -> UnitStats:
        if unit_id not in per_unit:
            per_unit[unit_id] = UnitStats(unit_id, units.get(unit_id, ("?", None))[0])
        return per_unit[unit_id]

    for unit_id, *numbers in db.session.execute(_unit_counts(assignments(stmt, parts), as_of.toordinal())):
        r = row(unit_id)
        (r.cancelled, r.assigned, r.closed_on_time, closed, r.open, r.overdue, r.overdue_days, r.longest_overdue,
         r.listed, r.acknowledged, r.acknowledge_days) = (int(n or 0) for n in numbers)
        r.closed_late = closed - r.closed_on_time
    _count_events(stmt, as_of, row)
    rows = list(per_unit.values())
    if rollup:
        rows = _rolled_up(rows, units)
    return ranked(rows)


def _unit_counts(a, today: int) -> Select:
    """Per unit, in UnitStats' terms: cancelled, assigned, closed on time, closed, open, overdue,
    overdue days, longest overdue, listed, acknowledged, acknowledge days."""
    def number(condition, value=1):
        return func.sum(case((condition, value), else_=0))

    kept, is_open = a.c.state != CANCELLED, a.c.state == OPEN
    overdue = and_(is_open, a.c.deadline < today)
    acknowledged = and_(kept, a.c.acknowledged.is_not(None))
    waited = a.c.acknowledged - a.c.assigned
    return select(
        a.c.unit_id, number(a.c.state == CANCELLED), number(kept),
        number(and_(a.c.state == CLOSED, a.c.closed <= a.c.deadline)), number(a.c.state == CLOSED),
        number(is_open), number(overdue), number(overdue, today - a.c.deadline),
        func.max(case((overdue, today - a.c.deadline), else_=0)), number(and_(is_open, a.c.listed == 1)),
        number(acknowledged), number(and_(acknowledged, waited > 0), waited),
    ).group_by(a.c.unit_id)


def _count_events(stmt: Select, as_of: dt.date, row) -> None:
    """Reminders, returns and extension requests about the counted items, with the unit that was
    lead at the time (reminders record it; the others read it from the journal)."""
    ids = stmt.with_only_columns(Item.id).scalar_subquery()
    _start, end = _bounds(None, as_of)
    for unit_id, kind in db.session.execute(
            select(Reminder.unit_id, Reminder.kind).where(Reminder.item_id.in_(ids), Reminder.sent_on <= as_of)):
        r = row(unit_id)
        r.reminders += 1
        if ReminderKind(kind) == ReminderKind.ESCALATION:
            r.escalations += 1
    returns = db.session.execute(select(JournalEntry.item_id, JournalEntry.at).where(
        JournalEntry.action == "return_item", JournalEntry.item_id.in_(ids), JournalEntry.at < end)).all()
    requests = db.session.execute(
        select(ExtensionRequest.item_id, ExtensionRequest.requested_at, ExtensionRequest.status).where(
            ExtensionRequest.item_id.in_(ids), ExtensionRequest.requested_at < end)).all()
    asked_about = {row_[0] for row_ in returns} | {row_[0] for row_ in requests}
    history = _LeadHistory(asked_about)
    lead_of = dict(db.session.execute(select(Item.id, Item.lead_unit_id).where(Item.id.in_(asked_about))).all()
                   if asked_about else {})
    for item_id, at in returns:
        row(history.at(item_id, at, lead_of[item_id])).returns += 1
    for item_id, at, status in requests:
        r = row(history.at(item_id, at, lead_of[item_id]))
        r.extensions_asked += 1
        if ExtensionStatus(status) == ExtensionStatus.APPROVED:
            r.extensions_granted += 1


def _rolled_up(rows: list[UnitStats], units) -> list[UnitStats]:
    """One row per top unit: the sum of its own row and its sub-units' (those kept in `parts`,
    the top unit's own first, then the sub-units by name). A unit alone is its own row."""
    groups: dict[int, list[UnitStats]] = defaultdict(list)
    for r in rows:
        groups[top_unit(r.unit_id, units)].append(r)
    result = []
    for top_id, members in groups.items():
        if len(members) == 1 and members[0].unit_id == top_id:
            result.append(members[0])
            continue
        top = UnitStats(top_id, units.get(top_id, ("?", None))[0])
        for member in members:
            top.add(member)
        top.parts = sorted(members, key=lambda p: (p.unit_id != top_id, p.name))
        result.append(top)
    return result


def rank_key(r: UnitStats) -> tuple:
    return (-(r.on_time_rate or 0.0), r.overdue, -r.closed)


def ranked(rows: list[UnitStats]) -> list[UnitStats]:
    """Best first by the ranking rule; equal units share a rank (1, 1, 3); units without items last, unranked."""
    with_items = sorted((r for r in rows if r.assigned), key=lambda r: (*rank_key(r), r.name))
    previous, rank = None, 0
    for position, r in enumerate(with_items, start=1):
        if rank_key(r) != previous:
            rank, previous = position, rank_key(r)
        r.rank = rank
    rest = sorted((r for r in rows if not r.assigned), key=lambda r: r.name)
    for r in rest:
        r.rank = None
    return with_items + rest


def totals(rows: list[UnitStats]) -> UnitStats:
    """The sum over `rows` (the table's last line)."""
    total = UnitStats(0, "")
    for r in rows:
        total.add(r)
    return total


# -- trends ---------------------------------------------------------------------------------

@dataclass
class TrendWeek:
    start: dt.date
    closures: int = 0
    new_overdue: int = 0
    open_at_end: int = 0

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=6)


def weekly_trend(period_start: dt.date | None = None, period_end: dt.date | None = None,
                 evaluation_id: int | None = None, as_of: dt.date | None = None, *,
                 items: Select | None = None) -> list[TrendWeek]:
    """Per week (Monday to Sunday) from the first item handed out to `as_of`: closures, items newly
    overdue (the day after the deadline, unless closed or cancelled by then) and items open at the
    week's end (handed out and not yet closed or cancelled). Same items as unit_statistics()."""
    as_of = as_of or clock.today()
    counted = _weekly_counts(assignments(counted_items(period_start, period_end, evaluation_id, items)),
                             as_of.toordinal())
    if not counted:
        return []
    this_monday = as_of - dt.timedelta(days=as_of.weekday())
    first = _monday(min(week for kind, week, *_rest in counted if kind == _OPEN_FROM))
    first = min(first, this_monday)
    count = min((this_monday - first).days // 7 + 1, MAX_TREND_WEEKS)
    first = this_monday - dt.timedelta(weeks=count - 1)
    weeks = [TrendWeek(first + dt.timedelta(weeks=n)) for n in range(count)]
    first_week = _week(first.toordinal())

    def index(week: int) -> int:  # weeks before the first are counted in it
        return max(0, week - first_week)

    opened = [0] * (count + 1)   # open at the end of week n: handed out by then, not ended by then
    for kind, week, until, by_today, number in counted:
        if kind == _CLOSED_IN and week >= first_week:
            weeks[index(week)].closures += number
        elif kind == _OVERDUE_FROM and week >= first_week:
            weeks[index(week)].new_overdue += number
        elif kind == _OPEN_FROM and by_today:
            since, until = index(week), count if until is None else index(until)
            if until > since:
                opened[since] += number
                opened[until] -= number
    running = 0
    for n, week in enumerate(weeks):
        running += opened[n]
        week.open_at_end = running
    return weeks


_CLOSED_IN, _OVERDUE_FROM, _OPEN_FROM = 1, 2, 3


def _week(day):
    """The week of a day number (day 1, 0001-01-01, was a Monday): plain integers, or SQL."""
    return (day - 1) // 7


def _monday(week: int) -> dt.date:
    return dt.date.fromordinal(week * 7 + 1)


def _weekly_counts(a, today: int) -> list[tuple]:
    """In one statement (one read of the assignments): (kind, week, until, by today, how many).
    _CLOSED_IN and _OVERDUE_FROM: the weeks assignments were closed in and became overdue from,
    by today. _OPEN_FROM: every assignment by the week it was handed out in (so an empty answer
    means there are none), the week it ended in (None while open) and whether both were by today."""
    ended = func.coalesce(a.c.closed, a.c.cancelled)
    due = a.c.deadline + 1

    def grouped(kind, columns, where=()):
        nothing = cast(null(), Integer)  # typed: a prepared statement's NULL parameter is text
        return days.counted(*columns, *[nothing] * (3 - len(columns)), where=where, first=[literal(kind)])

    by_today = case((and_(a.c.assigned <= today, or_(ended.is_(None), ended <= today)), 1), else_=0)
    return [tuple(r) for r in db.session.execute(union_all(
        grouped(_OPEN_FROM, [_week(a.c.assigned), _week(ended), by_today]),
        grouped(_CLOSED_IN, [_week(a.c.closed)], [a.c.closed <= today]),
        grouped(_OVERDUE_FROM, [_week(due)], [or_(ended.is_(None), ended > a.c.deadline), due <= today])))]
