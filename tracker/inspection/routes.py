"""The inspectors' pages: review queue, extensions, checklists, listed supervision, re-checks."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tracker import clock, uow
from tracker.auth.decorators import allowed_if
from tracker.auth.models import Role
from tracker.errors import Invalid, Refused
from tracker.evaluations.models import Indicator
from tracker.evidence.models import Evidence
from tracker.extensions import db
from tracker.feedback import flash_expired, flash_form_errors
from tracker.inspection import page, services  # noqa: F401 (page: the item page's inspection part)
from tracker.inspection.forms import (ExtensionDecisionForm, ExtensionRequestForm, RecheckForm,
                                      RecheckResultForm, RequirementForm)
from tracker.inspection.models import ExtensionRequest, ExtensionStatus, Recheck
from tracker.items.models import Item, ProgressUpdate, Status
from tracker.items.services import item_for
from tracker.parts.models import OPEN_PART_STATUSES, Part

bp = Blueprint("inspection", __name__)


def _back(item: Item, anchor: str = ""):
    return redirect(url_for("items.detail", item_id=item.id, _anchor=anchor or None))


def _run(item: Item, call, success: str, anchor: str = ""):
    """Call a service and commit; flash its refusal or validation messages, or the success message.
    A lost race (Conflict) goes on to the conflict page."""
    try:
        call()
        uow.commit(item.id)
    except Refused as exc:
        flash(exc.message, "error")
    except Invalid as exc:
        for message in exc.errors.values():
            flash(message, "error")
    else:
        flash(success, "success")
    return _back(item, anchor)


@bp.get("/review")
@allowed_if(Role.can_read_everything)
def queue():
    """Items submitted for closure, oldest first, with what an inspector needs to pick one."""
    today = clock.today()
    evidence_count = (select(func.count()).where(Evidence.item_id == Item.id, Evidence.withdrawn.is_(False))
                      .correlate(Item).scalar_subquery())
    latest_progress = (select(ProgressUpdate.body).where(ProgressUpdate.item_id == Item.id)
                       .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc()).limit(1)
                       .correlate(Item).scalar_subquery())
    rows = db.session.execute(
        select(Item, evidence_count, latest_progress).where(Item.status == Status.SUBMITTED)
        .options(selectinload(Item.lead_unit)).order_by(Item.submitted_at, Item.id)).all()
    extensions = db.session.scalars(
        select(ExtensionRequest).where(ExtensionRequest.status == ExtensionStatus.PENDING)
        .options(selectinload(ExtensionRequest.item).selectinload(Item.lead_unit),
                 selectinload(ExtensionRequest.requested_by))
        .order_by(ExtensionRequest.requested_at)).all()
    rechecks = db.session.scalars(
        select(Recheck).where(Recheck.done_at.is_(None)).options(selectinload(Recheck.item))
        .order_by(Recheck.due_on)).all()
    return render_template("inspection/queue.html", rows=rows, extensions=extensions, rechecks=rechecks,
                           today=today, overridden=_overridden_parts([item.id for item, _n, _l in rows]))


def _overridden_parts(item_ids: list[int]) -> dict[int, list[Part]]:
    """The parts each submission went without (not done, the lead unit's head gave a reason), by item."""
    found: dict[int, list[Part]] = {}
    if item_ids:
        for part in db.session.scalars(
                select(Part).where(Part.item_id.in_(item_ids), Part.override_reason.is_not(None),
                                   Part.status.in_(OPEN_PART_STATUSES))
                .options(selectinload(Part.unit), selectinload(Part.overridden_by)).order_by(Part.id)):
            found.setdefault(part.item_id, []).append(part)
    return found


@bp.post("/items/<int:item_id>/extension")
@login_required
def request_extension(item_id: int):
    item = item_for(current_user, item_id)
    form = ExtensionRequestForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back(item, "extension")
    return _run(item, lambda: services.request_extension(current_user, item, form.new_deadline.data,
                                                         form.reason.data),
                _("Extension requested. An inspector or the coordinator will decide."), "extension")


@bp.post("/items/<int:item_id>/extension/<int:request_id>/<any(approve, refuse):decision>")
@login_required
def decide_extension(item_id: int, request_id: int, decision: str):
    item = item_for(current_user, item_id)
    form = ExtensionDecisionForm()
    if not form.validate_on_submit():
        flash_expired()
        return _back(item, "extension")
    approve = decision == "approve"
    return _run(item, lambda: services.decide_extension(current_user, item, request_id, approve, form.comment.data),
                _("Extension approved: the deadline has moved.") if approve else _("Extension refused."),
                "extension")


@bp.post("/items/<int:item_id>/requirements")
@login_required
def add_requirement(item_id: int):
    item = item_for(current_user, item_id)
    form = RequirementForm()
    if not form.validate_on_submit():
        flash_expired()
        return _back(item, "checklist")
    return _run(item, lambda: services.add_requirement(current_user, item, form.title.data),
                _("Added to the required-evidence checklist."), "checklist")


@bp.post("/items/<int:item_id>/listed/<any(on, off):state>")
@login_required
def listed(item_id: int, state: str):
    item = item_for(current_user, item_id)
    if not ExtensionDecisionForm().validate_on_submit():
        flash_expired()
        return _back(item)
    listed_on = state == "on"
    return _run(item, lambda: services.set_listed_supervision(current_user, item, listed_on,
                                                              request.form.get("note", "")),
                _("The item is now under listed supervision.") if listed_on
                else _("Listed supervision lifted."))


@bp.post("/items/<int:item_id>/rechecks")
@login_required
def schedule_recheck(item_id: int):
    item = item_for(current_user, item_id)
    form = RecheckForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back(item, "rechecks")
    return _run(item, lambda: services.schedule_recheck(current_user, item, form.due_on.data),
                _("Re-check scheduled."), "rechecks")


@bp.post("/items/<int:item_id>/rechecks/<int:recheck_id>")
@login_required
def record_recheck(item_id: int, recheck_id: int):
    item = item_for(current_user, item_id)
    form = RecheckResultForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back(item, "rechecks")
    problem_back = form.outcome.data == "problem_back"
    return _run(item, lambda: services.record_recheck(current_user, item, recheck_id, problem_back,
                                                      form.finding.data),
                _("Re-check recorded: the item is reopened.") if problem_back else _("Re-check recorded."),
                "rechecks")


@bp.post("/evaluations/<int:evaluation_id>/indicators/<int:indicator_id>/rating")
@allowed_if(Role.can_decide)
def rerate(evaluation_id: int, indicator_id: int):
    indicator = db.session.get(Indicator, indicator_id)
    if indicator is None or indicator.evaluation_id != evaluation_id:
        abort(404)
    if not ExtensionDecisionForm().validate_on_submit():
        flash_expired()
    else:
        try:
            services.rerate_indicator(current_user, indicator, request.form.get("rating", ""))
            uow.commit()
        except Invalid as exc:
            for message in exc.errors.values():
                flash(message, "error")
        else:
            flash(_("Rating after rectification saved."), "success")
    return redirect(url_for("evaluations.detail", evaluation_id=evaluation_id, _anchor=f"ind-{indicator.id}"))
