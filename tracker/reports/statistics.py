"""The statistics page, its sheet and its API answer: reading the filters (period, evaluation) once,
with the same plain-words errors, and handing them to stats.unit_statistics()."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from tracker import clock
from tracker.evaluations.models import Evaluation
from tracker.extensions import db
from tracker.paging import period_args
from tracker.reports import stats
from tracker.reports.sheet import Column

ID_MAX = 2**31 - 1


@dataclass
class Filters:
    """What the reader asked for. `errors` (field: message) mean nothing is counted."""
    start: dt.date | None = None
    end: dt.date | None = None
    evaluation_id: int | None = None
    evaluation: object | None = None   # the Evaluation row, when it exists
    errors: dict[str, str] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)

    def args(self, **extra) -> dict:
        values = {"start": self.raw.get("start") or None, "end": self.raw.get("end") or None,
                  "evaluation": self.raw.get("evaluation") or None, **extra}
        return {k: v for k, v in values.items() if v is not None}


def read_filters(args) -> Filters:
    """`start`, `end` (YYYY-MM-DD, both included) and `evaluation` (an id) from a query string."""
    raw = {key: (args.get(key) or "").strip()[:40] for key in ("start", "end", "evaluation")}
    start, end, errors = period_args(raw)
    flt = Filters(start=start, end=end, errors=errors, raw=raw)
    if raw["evaluation"]:
        number = raw["evaluation"]
        flt.evaluation = (db.session.get(Evaluation, int(number))
                          if number.isdigit() and 0 < int(number) <= ID_MAX else None)
        if flt.evaluation is None:
            flt.errors["evaluation"] = _(
                "There is no evaluation no. %(id)s: it may have been deleted. Choose one from the list.",
                id=number)
        else:
            flt.evaluation_id = flt.evaluation.id
    return flt


@dataclass
class Statistics:
    filters: Filters
    rows: list[stats.UnitStats]
    total: stats.UnitStats
    weeks: list[stats.TrendWeek]
    as_of: dt.date


def compute(flt: Filters, as_of: dt.date | None = None, with_trend: bool = True) -> Statistics:
    """The numbers for valid filters (check `flt.errors` first)."""
    as_of = as_of or clock.today()
    if flt.errors:
        return Statistics(flt, [], stats.UnitStats(0, ""), [], as_of)
    rows = stats.unit_statistics(flt.start, flt.end, flt.evaluation_id, as_of)
    weeks = stats.weekly_trend(flt.start, flt.end, flt.evaluation_id, as_of) if with_trend else []
    return Statistics(flt, rows, stats.totals(rows), weeks, as_of)


def evaluations() -> list:
    return db.session.execute(select(Evaluation.id, Evaluation.year, Evaluation.title)
                              .order_by(Evaluation.year.desc(), Evaluation.id.desc())).all()


def ranking_rule() -> str:
    """The rule under the table (and in the API and the 通报 document), in the reader's language."""
    return _("Units are ranked by their on-time rate: items closed on or before their deadline (an approved "
             "extension moves it) divided by the items assigned, cancelled ones left out. Equal rates: fewer "
             "items overdue now first, then more items closed. Units equal on all three share a rank. A unit "
             "with no item assigned is not ranked (—).")


# -- the sheet ---------------------------------------------------------------------------------

COLUMNS: tuple[Column, ...] = (
    Column("rank", "排名", "Rank", 6),
    Column("unit", "单位", "Unit", 28),
    Column("assigned", "交办事项", "Assigned", 10),
    Column("closed_on_time", "按期办结", "Closed on time", 10),
    Column("closed_late", "逾期办结", "Closed late", 10),
    Column("open", "未办结", "Still open", 10),
    Column("overdue", "逾期未办结", "Overdue now", 10),
    Column("longest_overdue", "最长逾期天数", "Longest overdue (days)", 12),
    Column("overdue_days", "逾期天数合计", "Overdue days in all", 12),
    Column("on_time_rate", "按期办结率（%）", "On-time rate (%)", 12),
    Column("average_acknowledge_days", "平均签收天数", "Average days to acknowledge", 12),
    Column("returns", "退回次数", "Returns", 10),
    Column("extensions_asked", "申请延期", "Extensions asked", 10),
    Column("extensions_granted", "批准延期", "Extensions granted", 10),
    Column("reminders", "催办次数", "Reminders", 10),
    Column("escalations", "升级督办", "Escalations", 10),
    Column("listed", "挂牌督办事项", "Listed supervision", 10),
    Column("cancelled", "已撤销", "Cancelled", 10),
)


def sheet_rows(result: Statistics):
    """One row per unit, its sub-units indented under it, then the total."""
    for r in result.rows:
        yield _sheet_row(r, r.name, r.rank)
        for part in r.parts:
            yield _sheet_row(part, "　" + (part.name if part.unit_id != r.unit_id else
                                          _("%(unit)s (own items)", unit=part.name)), None)
    yield _sheet_row(result.total, _("Total"), None)


def _sheet_row(r: stats.UnitStats, name: str, rank: int | None) -> dict:
    values = r.as_dict()
    values.update(unit=name, rank=rank)
    return values
