"""The numbers of the dashboard: per unit one grouped pass over the items a user may see (plus the
weekly series), kept in the cache (tracker/cache.py) and added up for the page."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import Integer, Row, Select, String, case, func, or_, select, type_coerce

from tracker import cache, days
from tracker.auth.models import User
from tracker.evaluations.models import Evaluation, Finding, Indicator, Rating
from tracker.extensions import db
from tracker.items.ledger import visible_to
from tracker.items.lights import Light, light_clause, light_settings, overdue_clause
from tracker.items.models import Item, Status
from tracker.units.models import Unit

WEEKS = 12
UNIT_SORTS = ("name", "total", "closed", "open", "overdue", "rate", "parts", "parts_overdue")
UNITS_PER_PAGE = 50
CHART_UNITS = 15  # bars a reader can take in; the table has every unit
LINKED_ITEMS = 5  # items listed per indicator; the ledger has the rest


def scope(user: User, evaluation_id: int | None = None) -> Select:
    """The items `user` may see, optionally those of one evaluation only."""
    stmt = visible_to(user)
    if evaluation_id:
        stmt = stmt.where(Item.finding_id.in_(select(Finding.id).where(Finding.evaluation_id == evaluation_id)))
    return stmt


class UnitRow(NamedTuple):
    """A plain tuple: 2,000 of them are kept and read back on every view of the dashboard."""
    unit_id: int
    name: str
    total: int
    closed: int
    cancelled: int
    overdue: int
    parts: int = 0            # open parts of live items, as a cooperating unit (tracker.parts)
    parts_overdue: int = 0    # of those, past the part's deadline

    @property
    def open(self) -> int:
        return self.total - self.closed - self.cancelled

    @property
    def rate(self) -> float:
        """Completion rate in percent: closed among the items not cancelled."""
        counted = self.total - self.cancelled
        return 100.0 * self.closed / counted if counted else 0.0


STATUSES = tuple(Status)
LIGHTS = (Light.RED, Light.YELLOW, Light.GREEN)

# A unit's piece of a county reader's numbers is one flat tuple of plain values (2,000 of them are
# read back, added up and written again after each change): the unit's row of the table (UnitRow's
# fields; a name of None when it has nothing to show), then what is added up: the items it leads by
# status, the open ones by light, and its closures and newly overdue items per week, oldest first.
ROW = len(UnitRow._fields)
ADDED = {"statuses": len(STATUSES), "lights": len(LIGHTS), "closures": WEEKS, "new_overdue": WEEKS}
Piece = tuple


def _flag(condition):
    return func.sum(case((condition, 1), else_=0)).cast(Integer)


def pieces(stmt: Select, today: dt.date, unit_ids: list[int] | None = None) -> dict[int, Piece]:
    """The piece of every unit (or of `unit_ids`) that leads or holds a part of an item `stmt`
    selects. A unit's row counts by the rule of tracker/reports/stats.py (no drafts, a cancelled
    item is no task, overdue = live and past the deadline) so the statistics page, the digest and
    the API say the same (tests/reports/test_statistics.py); a unit that only cooperates has a row
    too (it is judged on what it was asked to do)."""
    from tracker.parts.services import counts_by_unit
    led = stmt if unit_ids is None else stmt.where(Item.lead_unit_id.in_(unit_ids))
    tallies = _tally(led, today)
    parts = counts_by_unit(today, unit_ids=unit_ids, items=stmt)
    closures, new_overdue = _weekly(led, today)
    ids = set(tallies) | set(parts) | set(closures) | set(new_overdue)
    names = dict(db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all()) if ids else {}
    none = (0,) * WEEKS
    result = {}
    for unit_id in ids:
        statuses, lights, (total, closed, cancelled, overdue) = tallies.get(unit_id, _EMPTY_TALLY)
        part = parts.get(unit_id, {"open": 0, "overdue": 0})
        shown = total > cancelled or unit_id in parts
        row = (unit_id, names[unit_id] if shown else None, total - cancelled, closed, 0, overdue,
               part["open"], part["overdue"])
        result[unit_id] = (*row, *statuses, *lights, *closures.get(unit_id, none), *new_overdue.get(unit_id, none))
    return result


_EMPTY_TALLY = ((0,) * len(STATUSES), (0, 0, 0), (0, 0, 0, 0))


def _tally(stmt: Select, today: dt.date) -> dict[int, tuple]:
    """One grouped pass over the items, read from ix_items_dashboard: per lead unit the items by
    status, the open ones by light, and its row's handed-out, closed, cancelled and overdue items."""
    groups = stmt.with_only_columns(
        Item.lead_unit_id, type_coerce(Item.status, String), func.count(),
        _flag(overdue_clause(today)), _flag(light_clause(Light.YELLOW, today)),
    ).group_by(Item.lead_unit_id, Item.status)
    units: dict[int, tuple[list, list, list]] = {}
    for unit_id, status, items, red, yellow in db.session.execute(groups):
        statuses, lights, row = units.setdefault(unit_id, ([0] * len(STATUSES), [0, 0, 0], [0, 0, 0, 0]))
        status = Status(status)
        statuses[STATUSES.index(status)] += items
        if status == Status.DRAFT:  # work waiting to be handed out: counted apart, judged on nothing
            continue
        row[0] += items
        row[3] += red
        if status == Status.CLOSED:
            row[1] += items
        elif status == Status.CANCELLED:
            row[2] += items
        else:
            lights[0] += red
            lights[1] += yellow
            lights[2] += items - red - yellow
    return units


def _weekly(stmt: Select, today: dt.date) -> tuple[dict[int, tuple], dict[int, tuple]]:
    """Per lead unit its closures and newly overdue items per week (Monday to Sunday), the current
    week last."""
    first = _mondays(today)[0]
    inner = stmt.with_only_columns(Item.lead_unit_id, Item.status, Item.closed_at, Item.cancelled_at,
                                   Item.deadline).subquery()
    day0, today_n = first.toordinal(), today.toordinal()
    since = dt.datetime.combine(first - dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
    closed_on = days.local_day(inner.c.closed_at)
    closures = _per_week(days.counted(inner.c.lead_unit_id, (closed_on - day0) // 7, where=[
        inner.c.status == Status.CLOSED.value, inner.c.closed_at >= since, closed_on >= day0, closed_on <= today_n]))
    # An item becomes overdue on the day after its deadline unless it was closed or cancelled by then.
    ended = func.coalesce(closed_on, days.local_day(inner.c.cancelled_at))
    due = days.day_number(inner.c.deadline) + 1
    new_overdue = _per_week(days.counted(inner.c.lead_unit_id, (due - day0) // 7, where=[
        inner.c.deadline >= first - dt.timedelta(days=1), inner.c.deadline < today,
        or_(ended.is_(None), ended >= due)]))
    return closures, new_overdue


def _per_week(statement: Select) -> dict[int, tuple]:
    counts: dict[int, list] = {}
    for unit_id, week, number in db.session.execute(statement):
        counts.setdefault(unit_id, [0] * WEEKS)[week] += number
    return {unit_id: tuple(weeks) for unit_id, weeks in counts.items()}


def _mondays(today: dt.date) -> list[dt.date]:
    this_monday = today - dt.timedelta(days=today.weekday())
    return [this_monday - dt.timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]


@dataclass
class Week:
    start: dt.date
    closures: int = 0
    new_overdue: int = 0

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=6)


@dataclass
class IndicatorRow:
    indicator: Row  # id, level, code, name, self_rating, rating_after of an Indicator
    items: list = field(default_factory=list)   # the first LINKED_ITEMS linked items, as rows
    more: int = 0                               # ... and how many others are linked


@dataclass
class Framework:
    evaluation: Evaluation
    rows: list[IndicatorRow]
    ratings: dict[Rating, int]          # third-level indicators per self-rating
    ratings_after: dict[Rating, int]    # ... and per rating after rectification


def framework(user: User, evaluation: Row, evaluation_id: int | None) -> Framework:
    """The evaluation's indicators with their ratings and the first items `user` may see linked to
    each (of `evaluation_id` only, when given). Which items an indicator lists is kept under the
    `framework` generation (deadlines, statuses, findings: a progress post or an upload changes
    none of it); the indicators and the listed items' titles and badges are read on every view."""
    # Plain rows, not Indicator objects: a framework has a few hundred indicators.
    indicators = db.session.execute(select(
        Indicator.id, Indicator.level, Indicator.code, Indicator.name, Indicator.self_rating, Indicator.rating_after,
    ).where(Indicator.evaluation_id == evaluation.id).order_by(Indicator.sort_key)).all()
    rows = {i.id: IndicatorRow(i) for i in indicators}
    if rows:
        listed = cache.kept(cache.FRAMEWORK, user.scope_key, f"listed:{evaluation.id}:{evaluation_id}",
                            lambda: _listed(scope(user, evaluation_id), list(rows)))
        wanted = [i for ids, _linked in listed.values() for i in ids]
        shown = {item.id: item for item in db.session.execute(select(
            Item.id, Item.title, Item.status, Item.deadline, Item.behind_on, Item.last_activity_on,
        ).where(Item.id.in_(wanted)))} if wanted else {}
        for indicator_id, (ids, linked) in listed.items():
            if indicator_id in rows:
                rows[indicator_id].items = [shown[i] for i in ids if i in shown]
                rows[indicator_id].more = linked - len(ids)
    ratings = {r: 0 for r in Rating}
    after = {r: 0 for r in Rating}
    for indicator in indicators:
        if indicator.level == 3 and indicator.self_rating:
            ratings[indicator.self_rating] += 1
        if indicator.level == 3 and indicator.rating_after:
            after[indicator.rating_after] += 1
    return Framework(evaluation, list(rows.values()), ratings, after)


def _listed(stmt: Select, indicator_ids: list[int]) -> dict[int, tuple[list[int], int]]:
    """Per indicator the ids of its first LINKED_ITEMS items by deadline, and how many are linked."""
    per_indicator = {"partition_by": Finding.indicator_id}
    ranked = stmt.join(Finding, Finding.id == Item.finding_id).where(
        Finding.indicator_id.in_(indicator_ids)).with_only_columns(
        Item.id, Finding.indicator_id,
        func.row_number().over(**per_indicator, order_by=(Item.deadline, Item.id)).label("rank"),
        func.count().over(**per_indicator).label("linked")).subquery()
    listed: dict[int, tuple[list[int], int]] = {}
    for item_id, indicator_id, _rank, linked in db.session.execute(
            select(ranked).where(ranked.c.rank <= LINKED_ITEMS).order_by(ranked.c.indicator_id, ranked.c.rank)):
        listed.setdefault(indicator_id, ([], linked))[0].append(item_id)
    return listed


@dataclass(frozen=True)
class Aggregates:
    """What the dashboard keeps of its numbers: all but the order and page of the unit table."""
    statuses: dict[Status, int]
    lights: dict[Light, int]
    units: list[UnitRow]            # in no particular order
    weeks: list[Week]
    furthest_behind: list[UnitRow]  # lowest_completion() of the units: the chart's


def aggregates(user: User, today: dt.date, evaluation_id: int | None) -> Aggregates:
    """The user's numbers: a county reader's added up from each unit's kept piece, counted again
    for the units changed since; a unit's reader's kept until anything it sees changes."""
    stmt = scope(user, evaluation_id)
    name = f"dashboard:{today}:{light_settings()}:{evaluation_id}"
    if user.reads_everything:
        return cache.kept_per_unit(user.scope_key, name, lambda units: pieces(stmt, today, units),
                                   lambda kept: _added_up(kept, today))
    return cache.kept_for_unit(user.unit_id, user.scope_key, name,
                               lambda: _added_up(list(pieces(stmt, today).values()), today))


def _added_up(parts: list[Piece], today: dt.date) -> Aggregates:
    columns = list(zip(*parts))[ROW:] or [()] * sum(ADDED.values())
    sums, start = {}, 0
    for name, width in ADDED.items():
        sums[name] = [sum(column) for column in columns[start:start + width]]
        start += width
    units = [UnitRow._make(piece[:ROW]) for piece in parts if piece[1] is not None]
    weeks = [Week(monday, closures, overdue)
             for monday, closures, overdue in zip(_mondays(today), sums["closures"], sums["new_overdue"])]
    return Aggregates(dict(zip(STATUSES, sums["statuses"])), dict(zip(LIGHTS, sums["lights"])),
                      units, weeks, lowest_completion(units))


def normal_sort(sort: str | None) -> str:
    """A UNIT_SORTS key, '-' for descending; anything else is the default (lowest rate last)."""
    return sort if sort and sort.lstrip("-") in UNIT_SORTS else "-rate"


@dataclass
class UnitTable:
    """One page of the unit table, sorted on the server; also gives the pager its URL arguments."""
    rows: list[UnitRow]
    total: int
    page: int
    sort: str
    evaluation_id: int | None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // UNITS_PER_PAGE))

    has_prev = property(lambda self: self.page > 1)
    has_next = property(lambda self: self.page < self.pages)
    prev_num = property(lambda self: self.page - 1)
    next_num = property(lambda self: self.page + 1)

    def iter_pages(self, edge: int = 2, around: int = 2):
        """Page numbers to link, None for a gap: the first and last few, and those near this one."""
        previous = 0
        for number in range(1, self.pages + 1):
            if number <= edge or number > self.pages - edge or abs(number - self.page) <= around:
                if number > previous + 1:
                    yield None
                yield number
                previous = number

    def args(self, **overrides) -> dict:
        values = {"sort": self.sort, "page": self.page, "evaluation": self.evaluation_id}
        values.update(overrides)
        if values["page"] == 1:
            values["page"] = None  # the first page has the plain URL
        return {k: v for k, v in values.items() if v is not None}


def sorted_units(units: list[UnitRow], sort: str) -> list[UnitRow]:
    """The units by `sort` ('-' for descending), by name among equals."""
    key = sort.lstrip("-")
    ordered = sorted(units, key=lambda r: r.name)
    ordered.sort(key=lambda r: getattr(r, key), reverse=sort.startswith("-"))
    return ordered


def unit_table(ordered: list[UnitRow], sort: str, page: int, evaluation_id: int | None) -> UnitTable:
    """Page `page` of the units `ordered` by `sort`; a page past the end shows the last one."""
    table = UnitTable([], len(ordered), 1, sort, evaluation_id)
    table.page = min(max(page, 1), table.pages)
    start = (table.page - 1) * UNITS_PER_PAGE
    table.rows = ordered[start:start + UNITS_PER_PAGE]
    return table


def lowest_completion(units: list[UnitRow], limit: int = CHART_UNITS) -> list[UnitRow]:
    """The units furthest behind (lowest rate, then most overdue): the ones a chart should show."""
    # A unit that only cooperates has no items to complete: its parts are in the table, not the chart.
    return sorted((r for r in units if r.total), key=lambda r: (r.rate, -r.overdue, r.name))[:limit]


@dataclass
class Dashboard:
    statuses: dict[Status, int]
    lights: dict[Light, int]
    units: UnitTable
    chart_units: list[UnitRow]
    weeks: list[Week]
    framework: Framework | None

    @property
    def total(self) -> int:
        """Items handed out: drafts are counted apart (`drafts`), in no total, light or rate."""
        return sum(self.statuses.values()) - self.drafts

    @property
    def drafts(self) -> int:
        return self.statuses[Status.DRAFT]

    @property
    def overdue(self) -> int:
        return self.lights[Light.RED]


def build(user: User, today: dt.date, evaluation: Row | None, framework_of: Row | None,
          sort: str, page: int = 1) -> Dashboard:
    """Every number of the dashboard for `user` (restricted to `evaluation` when given)."""
    evaluation_id = evaluation.id if evaluation else None
    numbers = aggregates(user, today, evaluation_id)
    sort = normal_sort(sort)
    return Dashboard(
        statuses=numbers.statuses, lights=numbers.lights,
        units=unit_table(sorted_units(numbers.units, sort), sort, page, evaluation_id),
        chart_units=numbers.furthest_behind, weeks=numbers.weeks,
        framework=framework(user, framework_of, evaluation_id) if framework_of else None)
