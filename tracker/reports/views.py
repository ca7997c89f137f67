"""What the dashboard shows: its numbers and the geometry of its charts, in the user's language."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select

from tracker.auth.models import User
from tracker.evaluations.models import Evaluation
from tracker.extensions import db
from tracker.links import link_maker
from tracker.reports import charts, dashboard, stats
from tracker.reports.dashboard import UnitRow, Week


def unit_chart(units: list[UnitRow]) -> charts.BarChart:
    """Bars for `units` (the lowest completion rates when there are more than a chart can show)."""
    return charts.bar_chart([
        charts.Bar(u.name, u.rate, _("%(n)d overdue", n=u.overdue) if u.overdue else "", u.overdue > 0)
        for u in units])


def week_chart(weeks: list[Week] | list[stats.TrendWeek], *more: charts.Series) -> charts.LineChart:
    """Closures and newly overdue items per week (the dashboard's), then `more` lines."""
    return charts.line_chart([w.start.strftime("%m-%d") for w in weeks], [
        charts.Series(_("Closed"), [w.closures for w in weeks], charts.GREEN),
        charts.Series(_("Newly overdue"), [w.new_overdue for w in weeks], charts.RED, dashed=True), *more])


def trend_chart(weeks: list[stats.TrendWeek]) -> charts.LineChart:
    """The statistics page's weekly lines (the table under it has the same numbers)."""
    return week_chart(weeks, charts.Series(_("Open at the week's end"), [w.open_at_end for w in weeks], charts.INK))


def dashboard_context(user: User, today: dt.date, evaluation_id: int | None, sort: str, page: int) -> dict:
    """What the dashboard shows `user`: the numbers of the evaluation (all when None), the
    indicator framework and page `page` of the unit table sorted by `sort`."""
    # Rows (id, year, title), not Evaluation objects: the list and the framework need no more.
    evaluations = db.session.execute(select(Evaluation.id, Evaluation.year, Evaluation.title)
                                     .order_by(Evaluation.year.desc(), Evaluation.id.desc())).all()
    evaluation = next((e for e in evaluations if e.id == evaluation_id), None)
    framework_of = evaluation or (evaluations[0] if evaluations else None)
    board = dashboard.build(user, today, evaluation, framework_of, sort, page)
    return dict(board=board, today=today, evaluation=evaluation, evaluations=evaluations, sort=sort,
                unit_chart=unit_chart(board.chart_units), week_chart=week_chart(board.weeks),
                item_url=link_maker("items.detail", "item_id"),
                unit_url=link_maker("reports.unit_report", "unit_id"))
