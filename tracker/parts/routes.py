"""A cooperating unit's steps on its part, and the lead unit's and coordinator's, from the item page.
Views validate, call a service, commit, flash and redirect; every route checks the item, then the part."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker import uow
from tracker.errors import Invalid, Refused
from tracker.feedback import flash_form_errors
from tracker.items.services import item_for
from tracker.parts import page, services  # noqa: F401 (page: the item page's parts)
from tracker.parts.forms import PartEditForm, PartStepForm, PartUpdateForm

bp = Blueprint("parts", __name__)

STEPS = ("acknowledge", "done", "return")


def _back(item_id: int):
    return redirect(url_for("items.detail", item_id=item_id, _anchor="parts"))


def _flash_invalid(exc: Invalid) -> None:
    for message in exc.errors.values():
        flash(message, "error")


def _on_part(item_id: int, part_id: int, form_class, act):
    """Check the item and the part, validate the form, run `act(part, form)` (a service call that
    returns the message to flash), commit once; a refusal or bad input is flashed instead."""
    item = item_for(current_user, item_id)
    part = services.part_for(current_user, item, part_id)
    form = form_class()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back(item.id)
    try:
        message = act(part, form)
        uow.commit(item.id)
    except Refused as exc:
        flash(exc.message, "error")
    except Invalid as exc:
        _flash_invalid(exc)
    else:
        flash(message, "success")
    return _back(item.id)


@bp.post("/items/<int:item_id>/parts/<int:part_id>/steps/<step>")
@login_required
def step(item_id: int, part_id: int, step: str):
    """签收 (acknowledge), 反馈 (done, with a statement) or 退回 (return, with a reason)."""
    if step not in STEPS:
        abort(404)

    def act(part, form):
        if step == "acknowledge":
            services.acknowledge(current_user, part, form.version.data)
            return _("Part acknowledged.")
        if step == "done":
            services.report_done(current_user, part, form.text.data, form.version.data)
            return _("Part reported done.")
        services.return_part(current_user, part, form.text.data, form.version.data)
        return _("Part returned to %(unit)s.", unit=part.unit.name)
    return _on_part(item_id, part_id, PartStepForm, act)


@bp.post("/items/<int:item_id>/parts/<int:part_id>/progress")
@login_required
def progress(item_id: int, part_id: int):
    def act(part, form):
        services.post_update(current_user, part, form.body.data, request.files.getlist("files"))
        return _("Progress on the part posted.")
    return _on_part(item_id, part_id, PartUpdateForm, act)


@bp.post("/items/<int:item_id>/parts/<int:part_id>/edit")
@login_required
def edit(item_id: int, part_id: int):
    def act(part, form):
        changes = services.edit_part(current_user, part, form.request.data, form.deadline.data, form.version.data)
        return _("Saved.") if changes else _("Nothing changed.")
    return _on_part(item_id, part_id, PartEditForm, act)
