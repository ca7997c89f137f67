"""The numbers of the dashboard, each computed by one grouped query over the items a user may see."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Integer, Select, case, func, select

from tracker import clock
from tracker.auth.models import User
from tracker.evaluations.models import Evaluation, Finding, Indicator, Rating
from tracker.extensions import db
from tracker.items.ledger import visible_to
from tracker.items.lights import Light, light_order, overdue_clause
from tracker.items.models import Item, Status
from tracker.units.models import Unit

WEEKS = 12
UNIT_SORTS = ("name", "total", "closed", "open", "overdue", "rate")
LIGHT_BY_ORDER = {0: Light.RED, 1: Light.YELLOW, 2: Light.GREEN, 3: Light.NONE}


def scope(user: User, evaluation_id: int | None = None) -> Select:
    """The items `user` may see, optionally those of one evaluation only."""
    stmt = visible_to(user)
    if evaluation_id:
        stmt = stmt.where(Item.finding_id.in_(select(Finding.id).where(Finding.evaluation_id == evaluation_id)))
    return stmt


def status_counts(items) -> dict[Status, int]:
    counts = {status: 0 for status in Status}
    for status, count in db.session.execute(select(items.c.status, func.count()).group_by(items.c.status)):
        counts[Status(status)] += count
    return counts


def light_counts(stmt: Select, today: dt.date) -> dict[Light, int]:
    """Open items per traffic light (closed and cancelled items have none)."""
    order = light_order(today).label("light")
    inner = stmt.with_only_columns(order).subquery()
    counts = {Light.RED: 0, Light.YELLOW: 0, Light.GREEN: 0}
    for value, count in db.session.execute(select(inner.c.light, func.count()).group_by(inner.c.light)):
        light = LIGHT_BY_ORDER[int(value)]
        if light in counts:
            counts[light] = count
    return counts


@dataclass
class UnitRow:
    unit_id: int
    name: str
    total: int
    closed: int
    cancelled: int
    overdue: int

    @property
    def open(self) -> int:
        return self.total - self.closed - self.cancelled

    @property
    def rate(self) -> float:
        """Completion rate in percent: closed among the items not cancelled."""
        counted = self.total - self.cancelled
        return 100.0 * self.closed / counted if counted else 0.0


def _flag(condition):
    return func.sum(case((condition, 1), else_=0)).cast(Integer)


def unit_rows(stmt: Select, today: dt.date, sort: str = "-rate") -> list[UnitRow]:
    """Completion and overdue per lead unit, sorted by `sort` (a UNIT_SORTS key, '-' for descending)."""
    inner = stmt.with_only_columns(
        Item.lead_unit_id.label("unit_id"), Item.status.label("status"),
        overdue_clause(today).label("overdue")).subquery()
    rows = db.session.execute(
        select(Unit.id, Unit.name, func.count(), _flag(inner.c.status == Status.CLOSED.value),
               _flag(inner.c.status == Status.CANCELLED.value), _flag(inner.c.overdue))
        .join(Unit, Unit.id == inner.c.unit_id).group_by(Unit.id, Unit.name)).all()
    result = [UnitRow(*row) for row in rows]
    key = sort.lstrip("-") if sort.lstrip("-") in UNIT_SORTS else "rate"
    result.sort(key=lambda r: r.name)
    result.sort(key=lambda r: getattr(r, key), reverse=sort.startswith("-"))
    return result


@dataclass
class Week:
    start: dt.date
    closures: int = 0
    new_overdue: int = 0

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=6)


def weekly(stmt: Select, today: dt.date, weeks: int = WEEKS) -> list[Week]:
    """Closures and newly overdue items per week (Monday to Sunday), the current week last."""
    this_monday = today - dt.timedelta(days=today.weekday())
    series = [Week(this_monday - dt.timedelta(weeks=n)) for n in range(weeks - 1, -1, -1)]
    first = series[0].start

    def bucket(day: dt.date | None) -> Week | None:
        if day is None or day < first or day > today:
            return None
        return series[(day - first).days // 7]

    inner = stmt.subquery()
    since = dt.datetime.combine(first - dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
    for (closed_at,) in db.session.execute(select(inner.c.closed_at).where(
            inner.c.status == Status.CLOSED.value, inner.c.closed_at >= since)):
        if (week := bucket(clock.local_date(closed_at))) is not None:
            week.closures += 1
    # An item becomes overdue on the day after its deadline unless it was closed or cancelled by then.
    rows = db.session.execute(select(inner.c.deadline, inner.c.closed_at, inner.c.cancelled_at).where(
        inner.c.deadline >= first - dt.timedelta(days=1), inner.c.deadline < today))
    for deadline, closed_at, cancelled_at in rows:
        ended = clock.local_date(closed_at) or clock.local_date(cancelled_at)
        if ended is not None and ended <= deadline:
            continue
        if (week := bucket(deadline + dt.timedelta(days=1))) is not None:
            week.new_overdue += 1
    return series


@dataclass
class IndicatorRow:
    indicator: Indicator
    items: list[Item] = field(default_factory=list)


@dataclass
class Framework:
    evaluation: Evaluation
    rows: list[IndicatorRow]
    ratings: dict[Rating, int]          # third-level indicators per self-rating
    ratings_after: dict[Rating, int]    # ... and per rating after rectification


def framework(evaluation: Evaluation, stmt: Select) -> Framework:
    """The evaluation's indicators with their ratings and the (visible) items linked to each."""
    indicators = db.session.scalars(select(Indicator).where(Indicator.evaluation_id == evaluation.id)
                                    .order_by(Indicator.sort_key)).all()
    rows = {i.id: IndicatorRow(i) for i in indicators}
    linked = stmt.join(Finding, Finding.id == Item.finding_id).where(
        Finding.indicator_id.in_(list(rows))).add_columns(Finding.indicator_id).order_by(Item.deadline, Item.id)
    for item, indicator_id in db.session.execute(linked):
        rows[indicator_id].items.append(item)
    ratings = {r: 0 for r in Rating}
    after = {r: 0 for r in Rating}
    for indicator in indicators:
        if indicator.level == 3 and indicator.self_rating:
            ratings[indicator.self_rating] += 1
        if indicator.level == 3 and indicator.rating_after:
            after[indicator.rating_after] += 1
    return Framework(evaluation, list(rows.values()), ratings, after)


@dataclass
class Dashboard:
    statuses: dict[Status, int]
    lights: dict[Light, int]
    units: list[UnitRow]
    weeks: list[Week]
    framework: Framework | None

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    @property
    def overdue(self) -> int:
        return self.lights[Light.RED]


def build(user: User, today: dt.date, evaluation: Evaluation | None, framework_of: Evaluation | None,
          sort: str) -> Dashboard:
    """Every number of the dashboard for `user` (restricted to `evaluation` when given)."""
    stmt = scope(user, evaluation.id if evaluation else None)
    return Dashboard(
        statuses=status_counts(stmt.subquery()), lights=light_counts(stmt, today),
        units=unit_rows(stmt, today, sort), weeks=weekly(stmt, today),
        framework=framework(framework_of, stmt) if framework_of else None)
