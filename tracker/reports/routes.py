"""Pages of the reports package: dashboard, printable reports, the ledger export and import."""
from __future__ import annotations

import datetime as dt

from flask import (Blueprint, Response, current_app, flash, make_response, redirect, render_template, request,
                   send_file, session, url_for)
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from tracker import cache, clock, uow
from tracker.auth.decorators import allowed_if
from tracker.auth.models import Role
from tracker.auth.sessions import SESSION_KEY
from tracker.feedback import flash_expired
from tracker.evaluations.models import Evaluation
from tracker.extensions import db
from tracker.items import ledger
from tracker.items.lights import light_settings
from tracker.items.services import item_for
from tracker.paging import page_arg
from tracker.errors import Conflict, Refused
from tracker.items.models import LIMITS
from tracker.reports import (circular, dashboard, documents, export, importer, notices, printable, progress,
                             samples, statistics, views)
from tracker.reports.forms import (CircularForm, ConfirmForm, CreateUnitsForm, ImportForm, IssueNoticeForm,
                                   NoticeForm)

bp = Blueprint("reports", __name__, url_prefix="/reports")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(file, mimetype: str, name: str) -> Response:
    response = send_file(file, mimetype=mimetype, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response


def xlsx_response(rows, name: str, sheet_title: str, **kw) -> Response:
    return _attachment(export.write_xlsx(rows, sheet_title, **kw), XLSX_TYPE, name)


def csv_response(rows, name: str, **kw) -> Response:
    response = _attachment(export.write_csv(rows, **kw), "text/csv", name)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    return response


def _document(template: str, context: dict, name: str) -> Response:
    return _attachment(documents.render(template, context), documents.DOCX_TYPE, name)


def _evaluations() -> list[Evaluation]:
    return db.session.scalars(select(Evaluation).order_by(Evaluation.year.desc(), Evaluation.id.desc())).all()


@bp.get("/ledger.<any(xlsx, csv):fmt>")
@login_required
def export_ledger(fmt: str):
    """The ledger as filtered on screen (same URL parameters as /items), every page."""
    today = clock.today()
    flt = ledger.LedgerFilter.from_args(request.args)
    name = f"{_('Ledger')}-{today.isoformat()}.{fmt}"
    if fmt == "csv":
        return csv_response(export.ledger_rows(flt, current_user, today), name)
    # The xlsx is the 台账 as printed: grouped by problem, titled, bordered, A4 landscape.
    return _attachment(export.write_book(flt, current_user, today, current_app.config["OFFICE_NAME"]), XLSX_TYPE,
                       name)


def _evaluation_id_arg() -> int | None:
    value = request.args.get("evaluation", "")
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None


@bp.get("/")
@login_required
def dashboard_page():
    """Leaders, inspectors and admins see every unit; heads and staff see their unit's items."""
    page = page_arg(request.args)  # past the end: the last
    today = clock.today()
    # A browser that has this very page (same data, reader, sign-in, language, day, URL) reuses it.
    etag = cache.etag(current_user.id, session.get(SESSION_KEY), str(get_locale()), today, light_settings(),
                      request.full_path)
    if request.if_none_match.contains(etag):
        response = current_app.response_class(status=304)
    else:
        response = make_response(render_template("reports/dashboard.html", **views.dashboard_context(
            current_user, today, _evaluation_id_arg(), dashboard.normal_sort(request.args.get("sort")), page)))
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/units/<int:unit_id>")
@login_required
def unit_report(unit_id: int):
    unit, today = printable.unit_for(current_user, unit_id), clock.today()
    return render_template("reports/unit.html", report=printable.unit_report(unit, today), today=today)


@bp.get("/overdue")
@login_required
def overdue_report():
    today = clock.today()
    return render_template("reports/overdue.html", lines=printable.overdue_lines(current_user, today), today=today)


@bp.get("/items/<int:item_id>/notice")
@allowed_if(Role.can_decide)
def notice(item_id: int):
    """The supervision notice (督办单) of an escalated or listed item, ready to print."""
    item = item_for(current_user, item_id)
    today = clock.today()
    if not printable.escalated(item, today):
        flash(_("A supervision notice is only issued for an open item under listed supervision or escalated."),
              "error")
        return redirect(url_for("items.detail", item_id=item.id))
    form = NoticeForm(request.args)
    if "requirement" not in request.args:
        form.requirement.data = _("Report the progress of this item with evidence by the reply date. "
                                  "If it cannot be completed, explain why and give a timetable.")
    valid = form.validate()
    reply_by = form.reply_by.data if valid and form.reply_by.data else today + dt.timedelta(
        days=current_app.config["NOTICE_REPLY_DAYS"])
    requirement = form.requirement.data if valid else ""
    issue_form = IssueNoticeForm(formdata=None, requirement=requirement or "", reply_by=reply_by.isoformat())
    return render_template("reports/notice.html", form=form, today=today, issue_form=issue_form,
                           issued=notices.item_notices(item.id),
                           notice=printable.notice(item, today, requirement or "", reply_by)), 200 if valid else 422


@bp.post("/items/<int:item_id>/notice")
@allowed_if(Role.can_decide)
def issue_notice(item_id: int):
    """Number and record the 督办单 shown, then hand it out as a Word document."""
    item = item_for(current_user, item_id)
    form = IssueNoticeForm()
    try:
        reply_by = dt.date.fromisoformat(form.reply_by.data or "")
    except ValueError:
        reply_by = None
    if not form.validate_on_submit() or reply_by is None:
        flash_expired()
        return redirect(url_for("reports.notice", item_id=item.id))
    try:
        issued = notices.issue(current_user, item, form.requirement.data or "", reply_by, clock.today())
        uow.commit()
    except Refused as exc:
        flash(exc.message, "error")
        return redirect(url_for("items.detail", item_id=item.id))
    flash(_("Supervision notice %(number)s issued.", number=issued.reference), "success")
    return redirect(url_for("reports.notice_document", notice_id=issued.id))


@bp.get("/notices/<int:notice_id>.docx")
@login_required
def notice_document(notice_id: int):
    """An issued 督办单 as Word: for whoever may see its item (another unit's head: 404)."""
    notice = notices.notice_for(current_user, notice_id)
    return _document(notices.TEMPLATE, notices.context(notice), notices.download_name(notice))


@bp.get("/evaluations/<int:evaluation_id>/report.docx")
@allowed_if(Role.can_read_everything)
def progress_report(evaluation_id: int):
    """The draft 整改情况报告 of an evaluation, for the coordinator to edit."""
    evaluation = db.get_or_404(Evaluation, evaluation_id)
    today = clock.today()
    return _document(progress.TEMPLATE, progress.context(evaluation, today, current_app.config["OFFICE_NAME"]),
                     f"整改情况报告-{evaluation.year}-{today.isoformat()}.docx")


@bp.get("/circular.docx")
@allowed_if(Role.can_read_everything)
def circular_document():
    """The 通报 of a period: units ranked by on-time completion, overdue items, reminders, returns."""
    form = CircularForm(request.args)
    if not form.validate() or form.start.data > form.end.data:
        flash(_("Give the circular's period: a first and a last day, the first not after the last."), "error")
        return redirect(url_for("reports.papers_page"))
    today = clock.today()
    context = circular.context(circular.circular_numbers(form.start.data, form.end.data, today), today,
                               current_app.config["OFFICE_NAME"])
    return _document(circular.TEMPLATE, context, f"通报-{form.start.data.isoformat()}-{form.end.data.isoformat()}.docx")


@bp.get("/papers")
@allowed_if(Role.can_read_everything)
def papers_page():
    """Where the papers are: the 台账 (whole, per unit, overdue), the 整改情况报告 per evaluation, the 通报."""
    today = clock.today()
    form = CircularForm(request.args)
    if "start" not in request.args:
        form.start.data, form.end.data = today.replace(day=1), today
    return render_template("reports/papers.html", evaluations=_evaluations(), circular_form=form, today=today)


@bp.get("/statistics")
@allowed_if(Role.can_read_everything)
def statistics_page():
    """Per unit, for a period and an evaluation: what it was asked to do and how it did (通报, 考核)."""
    flt = statistics.read_filters(request.args)
    result = statistics.compute(flt)
    weeks = result.weeks
    chart = views.trend_chart(weeks) if weeks else None
    return render_template("reports/statistics.html", result=result, flt=flt, chart=chart,
                           ranking_rule=statistics.ranking_rule(),
                           evaluations=statistics.evaluations()), 422 if flt.errors else 200


@bp.get("/statistics.xlsx")
@allowed_if(Role.can_read_everything)
def statistics_xlsx():
    flt = statistics.read_filters(request.args)
    if flt.errors:
        for message in flt.errors.values():
            flash(message, "error")
        return redirect(url_for("reports.statistics_page", **flt.args()))
    result = statistics.compute(flt, with_trend=False)
    name = f"{_('Unit statistics')}-{result.as_of.isoformat()}.xlsx"
    return xlsx_response(statistics.sheet_rows(result), name, _("Unit statistics"), columns=statistics.COLUMNS)


# -- import -----------------------------------------------------------------------------------

def _import_form() -> ImportForm:
    form = ImportForm()
    form.evaluation_id.choices = [SelectChoice(e.id, f"{e.year} · {e.title}") for e in _evaluations()] + [
        SelectChoice(0, _("A new evaluation (name and year below)"))]
    return form


@bp.route("/import", methods=["GET", "POST"])
@allowed_if(Role.can_administer)
def import_page():
    """Upload a sheet; the preview follows on its own page, nothing is written yet."""
    form = _import_form()
    if form.validate_on_submit():
        try:
            new = {"title": form.new_title.data or "", "year": form.new_year.data} \
                if form.evaluation_id.data == 0 else None
            token = importer.stash(current_user, form.file.data, form.evaluation_id.data, form.kind.data, new)
        except Refused as exc:
            form.file.errors = list(form.file.errors) + [exc.message]
        else:
            return redirect(url_for("reports.import_preview", token=token))
    return render_template("reports/import.html", form=form), 422 if form.errors else 200


@bp.get("/import/<token>")
@allowed_if(Role.can_administer)
def import_preview(token: str):
    upload = importer.upload_for(current_user, token)
    return render_template("reports/import_preview.html", preview=importer.preview(upload), upload=upload,
                           confirm_form=ConfirmForm(), units_form=CreateUnitsForm(),
                           limits=LIMITS)


@bp.post("/import/<token>/units")
@allowed_if(Role.can_administer)
def import_create_units(token: str):
    """Create the units the sheet names but the database does not know (names from the stored sheet)."""
    upload = importer.upload_for(current_user, token)
    form = CreateUnitsForm()
    if not form.validate_on_submit():
        flash(_("Tick the confirmation to create the units."), "error")
    else:
        created = importer.create_units(current_user, importer.preview(upload).unknown_units)
        uow.commit()
        flash(_("%(n)d units created: %(names)s", n=len(created), names="、".join(u.name for u in created)),
              "success")
    return redirect(url_for("reports.import_preview", token=token))


def _keep_choices(token: str, keep) -> Response:
    """Keep with `keep(upload, form)` what the admin chose in the preview; nothing is written to the ledger."""
    upload = importer.upload_for(current_user, token)
    if not ConfirmForm().validate_on_submit():
        flash_expired()
    else:
        keep(upload, request.form)
    return redirect(url_for("reports.import_preview", token=token))


@bp.post("/import/<token>/dates")
@allowed_if(Role.can_administer)
def import_dates(token: str):
    """Keep the dates the admin picked for rows whose deadline the sheet did not give as a date."""
    return _keep_choices(token, importer.choose_dates)


@bp.post("/import/<token>/choices")
@allowed_if(Role.can_administer)
def import_choices(token: str):
    """Keep the sheet, column mapping, titles, close units, re-imported rows and dates chosen; the
    preview is computed again with them."""
    return _keep_choices(token, importer.choose)


@bp.post("/import/<token>/confirm")
@allowed_if(Role.can_administer)
def import_confirm(token: str):
    upload = importer.upload_for(current_user, token)
    if not ConfirmForm().validate_on_submit():
        flash_expired()
        return redirect(url_for("reports.import_preview", token=token))
    try:
        count = importer.confirm(current_user, upload)
        uow.commit()
    except Refused as exc:
        flash(exc.message, "error")
        return redirect(url_for("reports.import_preview", token=token))
    except Conflict:  # the same upload confirmed a moment ago (a double click, another tab)
        flash(_("This sheet was already imported a moment ago; nothing was imported twice."), "info")
        return redirect(url_for("items.ledger_page", evaluation=upload.evaluation_id or None, status="draft"))
    importer.discard(upload)
    if upload.kind == "ledger":
        flash(_("%(n)d items imported as drafts.", n=count), "success")
        return redirect(url_for("items.ledger_page", evaluation=upload.evaluation_id, status="draft"))
    flash(_("%(n)d indicators imported.", n=count), "success")
    return redirect(url_for("evaluations.detail", evaluation_id=upload.evaluation_id))


@bp.get("/import/sample-<any(ledger, indicators):kind>.xlsx")
@allowed_if(Role.can_administer)
def import_sample(kind: str):
    columns, rows = samples.sheet(kind)
    return xlsx_response(rows, f"{kind}-sample.xlsx", _("Sample"), columns=columns)
