"""What pages show beside the numbers: the charts of the dashboard, in the user's language."""
from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup

from tracker.reports import charts
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
