"""The JSON API at /api/v1/: the ledger, items, progress, evidence and workflow actions.

Token authentication only (no cookies, so no CSRF). Every write calls the same service function
as the pages, so the rules live in one place; this module only translates HTTP to and from them.
"""
from __future__ import annotations

import logging
import uuid

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker import clock, uow
from tracker.api import representations as rep
from tracker.api.auth import Unauthenticated, address_key, authenticate, token_key
from tracker.api.openapi import document
from tracker.errors import Conflict, Invalid, Refused, json_error
from tracker.evaluations.models import Evaluation
from tracker.evidence import services as evidence_services
from tracker.evidence.models import Evidence
from tracker.evidence.routes import send_evidence
from tracker.extensions import csrf, db, limiter
from tracker.items import ledger, services, workflow
from tracker.items.models import Item, ProgressUpdate
from tracker.parts import services as part_services
from tracker.reports import statistics
from tracker.units.models import Unit

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=token_key)(bp)
limiter.limit(lambda: current_app.config["API_ADDRESS_RATE_LIMIT"], key_func=address_key)(bp)
log = logging.getLogger(__name__)

PER_PAGE_MAX = 100
PUBLIC_ENDPOINTS = {"api.openapi"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, fields: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.fields, self.code = status, message, fields or {}, code


@bp.before_request
def _authenticate():
    if request.endpoint not in PUBLIC_ENDPOINTS:
        authenticate()


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return json_error(exc.status, exc.message, exc.fields, exc.code)


@bp.errorhandler(Unauthenticated)
def _unauthenticated(exc):
    response, status = json_error(401, _("Send a valid personal API token: Authorization: Bearer <token>."))
    response.headers["WWW-Authenticate"] = 'Bearer realm="rectify"'
    return response, status


@bp.errorhandler(Invalid)
def _invalid(exc: Invalid):
    return json_error(422, _("Some values are not valid."), exc.errors)


@bp.errorhandler(Refused)
def _refused(exc: Refused):
    """Not allowed now (the item's state); a lost race is a Conflict, answered by tracker/errors.py."""
    return json_error(409, exc.message, code="refused")


# -- reading requests ---------------------------------------------------------------

def _clean_text(value, field: str) -> str:
    """A JSON string that the database can store (no NUL, no lone surrogates)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid({field: _("Enter text.")})
    if "\x00" in value:
        raise Invalid({field: _("Control characters are not allowed.")})
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid({field: _("The text is not valid Unicode.")})
    return value


def _json_body(allow_empty: bool = False) -> dict:
    """The request's JSON object; 413 when too large, 415 when not JSON, 400 when malformed."""
    limit = current_app.config["API_MAX_JSON_KB"] * 1024
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, _("The JSON body is larger than %(n)d KB.", n=limit // 1024))
    if allow_empty and not request.content_length and not request.mimetype:
        return {}
    if not request.is_json:
        raise ApiError(415, _("Send the body as application/json."))
    request.max_content_length = limit
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser can follow: malformed for our purposes
        raise ApiError(400, _("The JSON body is nested too deeply.")) from None
    if not isinstance(body, dict):
        raise ApiError(400, _("The body must be a JSON object."))
    return body


def _integer(value, field: str, low: int, high: int, required: bool = True) -> int | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid({field: _("Enter a whole number from %(low)d to %(high)d.", low=low, high=high)})
    return value


def _check_version(item: Item, version) -> None:
    version = _integer(version, "version", 1, 2**31 - 1, required=False)
    if version is not None and version != item.version:
        raise Conflict(item.id, _("Someone else changed this item since you read it. "
                                  "Read it again, then try again."))


def _item(item_id: int) -> Item:
    """The item when the caller may see it; 404 (as JSON) otherwise."""
    return services.item_for(authenticate(), item_id)


# -- endpoints ----------------------------------------------------------------------

@bp.get("/openapi.json")
def openapi():
    return jsonify(document())


@bp.get("/me")
def me():
    user = authenticate()
    return jsonify({"id": user.id, "username": user.username, "name": user.name, "role": user.role.value,
                    "unit": rep.unit_ref(user.unit)})


@bp.get("/items")
def list_items():
    """The ledger: the same filters, sorting and pagination as /items."""
    user, today = authenticate(), clock.today()
    flt = ledger.LedgerFilter.from_args(request.args)
    per_page = request.args.get("per_page", type=int) or current_app.config["ITEMS_PER_PAGE"]
    per_page = max(1, min(per_page, PER_PAGE_MAX))
    pagination = ledger.page_of_items(flt, user, today, per_page, load=lambda ids: rep.item_summaries(ids, today))
    return jsonify({"items": pagination.items,
                    "page": pagination.page, "per_page": per_page, "pages": pagination.pages,
                    "total": pagination.total})


@bp.get("/items/<int:item_id>")
def get_item(item_id: int):
    item = _item(item_id)
    return jsonify(_detail(item))


def _detail(item: Item) -> dict:
    updates = db.session.scalars(select(ProgressUpdate).where(ProgressUpdate.item_id == item.id)
                                 .options(selectinload(ProgressUpdate.author))
                                 .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc())).all()
    files = db.session.scalars(select(Evidence).where(Evidence.item_id == item.id)
                               .options(selectinload(Evidence.uploaded_by))
                               .order_by(Evidence.uploaded_at, Evidence.id)).all()
    return rep.item_detail(item, clock.today(), authenticate(), updates, files, part_services.parts_of(item.id))


def _may_write(allowed: bool) -> None:
    """A role that can never do this gets 403; a state that forbids it now gets 409 from the service."""
    if not allowed:
        raise ApiError(403, _("Your role may not do this."))


@bp.post("/items/<int:item_id>/progress")
def post_progress(item_id: int):
    """A progress update: JSON, or multipart/form-data with evidence files."""
    user = authenticate()
    item = _item(item_id)
    _may_write(user.role.can_work_on_items())
    if request.mimetype == "multipart/form-data":
        form = request.form
        raw_percent = form.get("percent", "")
        percent = int(raw_percent) if raw_percent.isdigit() and len(raw_percent) < 4 else raw_percent
        values = {"body": form.get("body"), "percent": percent, "submission_key": form.get("submission_key"),
                  "version": int(form["version"]) if form.get("version", "").isdigit() else None}
        files = request.files.getlist("files")
    else:
        values, files = _json_body(), []
    body = _clean_text(values.get("body"), "body")
    percent = _integer(values.get("percent"), "percent", 0, 100)
    key = _clean_text(values.get("submission_key"), "submission_key") or uuid.uuid4().hex
    if len(key) > 64:
        raise Invalid({"submission_key": _("At most %(n)d characters.", n=64)})
    # Progress is appended: a version sent along is checked for form only, never for a conflict.
    _integer(values.get("version"), "version", 1, 2**31 - 1, required=False)
    update, created = services.post_progress(user, item, body, percent, key, files)
    uow.commit(item.id)
    return jsonify({"progress": rep.progress(update), "created": created,
                    "item": rep.item_summary(item, clock.today())}), 201 if created else 200


@bp.post("/items/<int:item_id>/evidence")
def upload_evidence(item_id: int):
    user = authenticate()
    item = _item(item_id)
    _may_write(user.role.can_work_on_items())
    if request.mimetype != "multipart/form-data":
        raise ApiError(415, _("Send the files as multipart/form-data in the field “files”."))
    added, duplicates = evidence_services.attach(user, item, request.files.getlist("files"))
    uow.commit(item.id)
    return jsonify({"evidence": [rep.evidence(e) for e in added], "duplicates": duplicates}), 201


@bp.get("/items/<int:item_id>/evidence/<int:evidence_id>")
def download_evidence(item_id: int, evidence_id: int):
    item = _item(item_id)
    return send_evidence(evidence_services.evidence_for(item, evidence_id), inline=False)


@bp.post("/items/<int:item_id>/actions/<action>")
def perform_action(item_id: int, action: str):
    """A workflow action from workflow.TRANSITIONS (the same table as the item page's buttons)."""
    user = authenticate()
    item = _item(item_id)
    transition = workflow.BY_ACTION.get(action)
    if transition is None:
        raise ApiError(404, _("Unknown action."))
    _may_write(transition.open_to(user.role))
    values = _json_body(allow_empty=True)
    reason = _clean_text(values.get("reason"), "reason")
    result = _clean_text(values.get("result"), "result")
    opinion = _clean_text(values.get("opinion"), "opinion")
    _check_version(item, values.get("version"))
    services.perform(user, item, action, reason=reason, result=result, opinion=opinion,
                     inputs=_part_lines(values.get("parts")))
    uow.commit(item.id)
    return jsonify(_detail(item))


def _part_lines(parts) -> dict:
    """The hand-out's lines per cooperating unit, `{"<unit id>": {"request", "deadline"}}`, as the
    hand-out form's fields (`part_request_<id>`, `part_deadline_<id>`)."""
    if parts is None:
        return {}
    if not isinstance(parts, dict) or not all(isinstance(line, dict) for line in parts.values()):
        raise Invalid({"parts": _("Give each unit's line as {\"request\": …, \"deadline\": …}.")})
    inputs = {}
    for unit_id, line in parts.items():
        inputs[f"part_request_{unit_id}"] = _clean_text(line.get("request"), "parts")
        inputs[f"part_deadline_{unit_id}"] = _clean_text(line.get("deadline"), "parts")
    return inputs


PART_STEPS = ("acknowledge", "progress", "done", "return")


@bp.post("/items/<int:item_id>/parts/<int:part_id>/<step>")
def part_step(item_id: int, part_id: int, step: str):
    """A step on a cooperating unit's part: 签收, progress, 反馈 (done, `text`: the statement) or 退回
    (return, `text`: the reason); `version` as read makes a stale answer a version_conflict."""
    user = authenticate()
    item = _item(item_id)
    if step not in PART_STEPS:
        raise ApiError(404, _("Unknown action."))
    part = part_services.part_for(user, item, part_id)
    _may_write(user.role.can_work_on_items())
    values = _json_body(allow_empty=True)
    text = _clean_text(values.get("text"), "text")
    version = _integer(values.get("version"), "version", 1, 2**31 - 1, required=False)
    if step == "acknowledge":
        part_services.acknowledge(user, part, version)
    elif step == "progress":
        part_services.post_update(user, part, text)
    elif step == "done":
        part_services.report_done(user, part, text, version)
    else:
        part_services.return_part(user, part, text, version)
    uow.commit(item.id)
    return jsonify({"part": rep.part(part, item, user, clock.today())})


@bp.get("/units")
def list_units():
    authenticate()
    return jsonify({"units": [rep.unit(u) for u in db.session.scalars(select(Unit).order_by(Unit.name, Unit.id))]})


@bp.get("/statistics")
def unit_statistics():
    """The statistics page's numbers (tracker/reports/stats.py) for `start`, `end`, `evaluation`."""
    user = authenticate()
    if not user.role.can_read_everything():
        raise ApiError(403, _("Your role may not do this."))
    flt = statistics.read_filters(request.args)
    if flt.errors:
        raise ApiError(422, _("Some values are not valid."), flt.errors)
    result = statistics.compute(flt)
    evaluation = flt.evaluation
    return jsonify({
        "as_of": result.as_of.isoformat(),
        "start": flt.start.isoformat() if flt.start else None,
        "end": flt.end.isoformat() if flt.end else None,
        "evaluation": {"id": evaluation.id, "title": evaluation.title} if evaluation else None,
        "ranking_rule": statistics.ranking_rule(),
        "units": [rep.unit_statistics(r) for r in result.rows],
        "total": rep.unit_statistics(result.total, with_unit=False),
        "weeks": [{"start": w.start.isoformat(), "closures": w.closures, "new_overdue": w.new_overdue,
                   "open_at_end": w.open_at_end} for w in result.weeks],
    })


@bp.get("/evaluations")
def list_evaluations():
    authenticate()
    rows = db.session.scalars(select(Evaluation).order_by(Evaluation.year.desc(), Evaluation.id))
    return jsonify({"evaluations": [rep.evaluation(e) for e in rows]})

