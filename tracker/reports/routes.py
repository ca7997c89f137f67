"""Pages of the reports package: dashboard, printable reports, the ledger export and import."""
from __future__ import annotations

from flask import Blueprint, Response, request, send_file
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker import clock
from tracker.items import ledger
from tracker.reports import export

bp = Blueprint("reports", __name__, url_prefix="/reports")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
