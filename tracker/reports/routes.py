"""Pages of the reports package: dashboard, printable reports, the ledger export and import."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from tracker import clock
from tracker.auth.decorators import roles_required
from tracker.auth.models import Role
from tracker.evaluations.models import Evaluation
from tracker.extensions import db
from tracker.items import ledger
from tracker.items.services import item_for
from tracker.reports import dashboard, export, printable, views
from tracker.reports.forms import NoticeForm

bp = Blueprint("reports", __name__, url_prefix="/reports")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOTICE_REPLY_DAYS = 7  # default reply deadline of a supervision notice


def xlsx_response(rows, name: str, sheet_title: str, **kw) -> Response:
    workbook = export.write_xlsx(rows, sheet_title, **kw)
    response = send_file(workbook, mimetype=XLSX_TYPE, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response


def csv_response(rows, name: str, **kw) -> Response:
    response = send_file(export.write_csv(rows, **kw), mimetype="text/csv", as_attachment=True,
                         download_name=name)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/ledger.<any(xlsx, csv):fmt>")
@login_required
def export_ledger(fmt: str):
    """The ledger as filtered on screen (same URL parameters as /items), every page."""
    today = clock.today()
    flt = ledger.LedgerFilter.from_args(request.args)
    rows = export.ledger_rows(flt, current_user, today)
    name = f"{_('Ledger')}-{today.isoformat()}.{fmt}"
    if fmt == "csv":
        return csv_response(rows, name)
    return xlsx_response(rows, name, _("Ledger"))


def _evaluation_arg() -> Evaluation | None:
    value = request.args.get("evaluation", "")
    return db.session.get(Evaluation, int(value)) if value.isdigit() and 0 < int(value) < 2**31 else None


@bp.get("/")
@login_required
def dashboard_page():
    """Leaders, inspectors and admins see every unit; heads and staff see their unit's items."""
    today = clock.today()
    evaluation = _evaluation_arg()
    evaluations = db.session.scalars(select(Evaluation).order_by(Evaluation.year.desc(), Evaluation.id.desc())).all()
    framework_of = evaluation or (evaluations[0] if evaluations else None)
    sort = request.args.get("sort", "-rate")
    if sort.lstrip("-") not in dashboard.UNIT_SORTS:
        sort = "-rate"
    board = dashboard.build(current_user, today, evaluation, framework_of, sort)
    return render_template(
        "reports/dashboard.html", board=board, today=today, evaluation=evaluation,
        evaluations=evaluations, sort=sort, unit_chart=views.unit_chart(board.units),
        week_chart=views.week_chart(board.weeks))


@bp.get("/units/<int:unit_id>")
@login_required
def unit_report(unit_id: int):
    unit = printable.unit_for(current_user, unit_id)
    report = printable.unit_report(unit, clock.today())
    return render_template("reports/unit.html", report=report, today=clock.today())


@bp.get("/overdue")
@login_required
def overdue_report():
    return render_template("reports/overdue.html", lines=printable.overdue_lines(current_user, clock.today()),
                           today=clock.today())


@bp.get("/items/<int:item_id>/notice")
@roles_required(Role.ADMIN, Role.INSPECTOR)
def notice(item_id: int):
    """The supervision notice (督办单) of an escalated or listed item, ready to print."""
    item = item_for(current_user, item_id)
    today = clock.today()
    tally = printable.reminder_tallies([item.id]).get(item.id, printable.ReminderTally())
    if not printable.escalated(item, today, tally):
        flash(_("A supervision notice is only issued for an open item under listed supervision or escalated."),
              "error")
        return redirect(url_for("items.detail", item_id=item.id))
    form = NoticeForm(request.args)
    if not request.args:
        form.requirement.data = _("Report the progress of this item with evidence by the reply date. "
                                  "If it cannot be completed, explain why and give a timetable.")
    valid = form.validate()
    reply_by = form.reply_by.data if valid and form.reply_by.data else today + dt.timedelta(days=NOTICE_REPLY_DAYS)
    requirement = form.requirement.data if valid else ""
    return render_template("reports/notice.html", form=form, today=today,
                           notice=printable.notice(item, today, requirement or "", reply_by)), 200 if valid else 422


@bp.get("/import")
@roles_required(Role.ADMIN)
def import_page():
    return "", 204
