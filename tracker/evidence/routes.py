"""Uploading, downloading, previewing and withdrawing evidence; every route checks the item first."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker import uow
from tracker.errors import Invalid, Refused
from tracker.evidence import page, services  # noqa: F401 (page: the item page's evidence part)
from tracker.evidence.forms import AttachForm, WithdrawForm
from tracker.evidence.storage import storage
from tracker.feedback import flash_expired, show_errors
from tracker.items.services import item_for

bp = Blueprint("evidence", __name__)


def _back(item_id: int):
    return redirect(url_for("items.detail", item_id=item_id, _anchor="evidence"))


@bp.post("/items/<int:item_id>/evidence")
@login_required
def attach(item_id: int):
    item = item_for(current_user, item_id)
    form = AttachForm()
    if not form.validate_on_submit():
        flash_expired()
        return _back(item.id)
    try:
        raw = request.form.get("requirement_id", "")
        requirement_id = int(raw) if raw.isdigit() and int(raw) < 2**31 else None
        if raw and requirement_id is None:
            raise Invalid({"requirement_id": _("Choose an entry of this item's checklist.")})
        added, duplicates = services.attach(current_user, item, request.files.getlist("files"), requirement_id)
        uow.commit(item.id)
    except (Refused, Invalid) as exc:
        messages = [exc.message] if isinstance(exc, Refused) else list(exc.errors.values())
        for message in messages:
            flash(message, "error")
        return _back(item.id)
    if added:
        flash(_("%(n)d file(s) attached.", n=len(added)), "success")
    for name in duplicates:
        flash(_("“%(name)s” is already attached to this item; it was not stored twice.", name=name), "info")
    return _back(item.id)


def _send(item_id: int, evidence_id: int, inline: bool):
    item = item_for(current_user, item_id)
    return send_evidence(services.evidence_for(item, evidence_id), inline)


def send_evidence(evidence, inline: bool):
    """The file of an (already permission-checked) evidence row, safe to open (pages and API)."""
    if inline and not evidence.is_previewable:
        abort(404)
    store = storage()
    if not store.exists(evidence.storage_key):
        abort(404)
    response = send_file(store.path_for_sending(evidence.storage_key), mimetype=evidence.content_type,
                         as_attachment=not inline, download_name=evidence.original_name,
                         conditional=True, etag=evidence.sha256, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    # The bytes were checked to be an image or a PDF; still, nothing in them may run, PDFs included
    # (a PDF can carry scripts and forms): the browser treats the file as a unique, script-less origin.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'; sandbox")
    return response


@bp.get("/items/<int:item_id>/evidence/<int:evidence_id>")
@login_required
def download(item_id: int, evidence_id: int):
    return _send(item_id, evidence_id, inline=False)


@bp.get("/items/<int:item_id>/evidence/<int:evidence_id>/preview")
@login_required
def preview(item_id: int, evidence_id: int):
    return _send(item_id, evidence_id, inline=True)


@bp.route("/items/<int:item_id>/evidence/<int:evidence_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(item_id: int, evidence_id: int):
    """Withdrawing a file asks on a page of its own: which file, why, and that it stays on record."""
    item = item_for(current_user, item_id)
    evidence = services.evidence_for(item, evidence_id)
    form = WithdrawForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return _withdraw_page(item, evidence, form), 422
        try:
            services.withdraw(current_user, item, evidence, form.reason.data)
            uow.commit(item.id)
        except Refused as exc:
            flash(exc.message, "error")
            return _back(item.id)
        except Invalid as exc:
            show_errors(form, exc)
            return _withdraw_page(item, evidence, form), 422
        flash(_("“%(name)s” was withdrawn. It stays on record.", name=evidence.original_name), "success")
        return _back(item.id)
    if evidence.withdrawn or not item.can_withdraw_evidence(current_user, evidence.uploaded_by.unit_id):
        flash(services.withdraw_refusal(current_user, item, evidence), "error")
        return _back(item.id)
    return _withdraw_page(item, evidence, form)


def _withdraw_page(item, evidence, form):
    return render_template("evidence/withdraw.html", item=item, evidence=evidence, form=form)
