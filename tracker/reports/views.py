"""What pages show beside the numbers: the charts of the dashboard, in the user's language, and the
dashboard's content."""
from __future__ import annotations

import datetime as dt

from flask import render_template
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from tracker.auth.models import User
from tracker.evaluations.models import Evaluation
from tracker.extensions import db
from tracker.links import link_maker
from tracker.reports import charts, dashboard, stats
from tracker.reports.dashboard import UnitRow, Week


def unit_chart(units: list[UnitRow], total: int) -> Markup:
    """Bars for `units` (the lowest completion rates when there are more than a chart can show)."""
    bars = [charts.Bar(u.name, u.rate, _("%(n)d overdue", n=u.overdue) if u.overdue else "", u.overdue > 0)
            for u in units]
    desc = (_("Closed items among the items not cancelled, per lead unit, with overdue counts.")
            if len(units) == total else
            _("The %(n)d of %(total)d lead units with the lowest completion rate.", n=len(units), total=total))
    return charts.bar_chart(bars, _("Completion rate per lead unit"), desc)


def week_chart(weeks: list[Week]) -> Markup:
    labels = [w.start.strftime("%m-%d") for w in weeks]
    return charts.line_chart(labels, [
        charts.Series(_("Closed"), [w.closures for w in weeks], charts.GREEN),
        charts.Series(_("Newly overdue"), [w.new_overdue for w in weeks], charts.RED, dashed=True),
    ], _("Closures and newly overdue items per week"),
        _("Weekly counts over the last 12 weeks, the current week last."))


def trend_chart(weeks: list[stats.TrendWeek]) -> Markup:
    """The statistics page's weekly lines (the table under it has the same numbers)."""
    labels = [w.start.strftime("%m-%d") for w in weeks]
    return charts.line_chart(labels, [
        charts.Series(_("Closed"), [w.closures for w in weeks], charts.GREEN),
        charts.Series(_("Newly overdue"), [w.new_overdue for w in weeks], charts.RED, dashed=True),
        charts.Series(_("Open at the week's end"), [w.open_at_end for w in weeks], charts.INK),
    ], _("Closures, newly overdue and open items per week"),
        _("Weekly counts from the first item handed out, the current week last."))


def dashboard_body(user: User, today: dt.date, evaluation_id: int | None, sort: str, page: int) -> Markup:
    """The dashboard's content for `user`: the numbers of the evaluation (all when None), the
    indicator framework and page `page` of the unit table sorted by `sort`."""
    # Rows (id, year, title), not Evaluation objects: the list and the framework need no more.
    evaluations = db.session.execute(select(Evaluation.id, Evaluation.year, Evaluation.title)
                                     .order_by(Evaluation.year.desc(), Evaluation.id.desc())).all()
    evaluation = next((e for e in evaluations if e.id == evaluation_id), None)
    framework_of = evaluation or (evaluations[0] if evaluations else None)
    board = dashboard.build(user, today, evaluation, framework_of, sort, page)
    return Markup(render_template(
        "reports/_dashboard_body.html", board=board, today=today, evaluation=evaluation,
        evaluations=evaluations, sort=sort, unit_chart=unit_chart(board.chart_units, board.units.total),
        week_chart=week_chart(board.weeks), item_url=link_maker("items.detail", "item_id"),
        unit_url=link_maker("reports.unit_report", "unit_id")))
