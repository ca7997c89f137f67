"""Pages: my notifications, my profile (digest opt-out), the per-unit reminder record, the outbox."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from tracker import clock, uow
from tracker.auth.decorators import allowed_if
from tracker.auth.models import Role
from tracker.errors import Invalid
from tracker.extensions import db
from tracker.feedback import show_errors
from tracker.i18n import lazy_gettext as _l
from tracker.items.services import item_for
from tracker.notifications import channels, jobs, mails, notices, outbox, record, services
from tracker.notifications.forms import ProfileForm, RetryForm
from tracker.notifications.models import OutboxChannel, OutboxStatus
from tracker.paging import page_arg
from tracker.units.models import Unit

bp = Blueprint("notifications", __name__)

PER_PAGE = 50
OUTBOX_LABELS = {OutboxStatus.PENDING: _l("Pending"), OutboxStatus.SENDING: _l("Sending"),
                 OutboxStatus.SENT: _l("Sent"), OutboxStatus.FAILED: _l("Failed")}
CHANNEL_LABELS = {OutboxChannel.EMAIL: _l("E-mail"), OutboxChannel.ROBOT: _l("Group robot"),
                  OutboxChannel.SMS: _l("SMS")}


@bp.context_processor
def _labels():
    return {"outbox_label": lambda status: OUTBOX_LABELS[OutboxStatus(status)],
            "channel_label": lambda channel: CHANNEL_LABELS[OutboxChannel(channel)], "masked": channels.masked}


def _page() -> int:
    return page_arg(request.args)


@bp.get("/notifications")
@login_required
def mine():
    pagination = services.notifications_of(current_user, _page(), PER_PAGE)
    return render_template("notifications/mine.html", pagination=pagination, describe=mails.describe,
                           role_label=mails.role_label, notices=notices.notices_of(current_user),
                           what=notices.what, why=mails.role_label)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    chosen = notices.preferences(current_user)
    form = ProfileForm(obj=current_user, data={f"notice_{topic}": on for topic, on in chosen.items()})
    if form.validate_on_submit():
        try:
            services.set_digest_opt_out(current_user, form.digest_opt_out.data)
            notices.set_preferences(current_user, {topic: form[f"notice_{topic}"].data for topic in chosen})
            services.set_channels(current_user, form.mobile.data, form.sms_enabled.data, form.email_enabled.data)
            uow.commit()
        except Invalid as exc:
            db.session.rollback()
            show_errors(form, exc)
        else:
            flash(_("Your settings are saved."), "success")
            return redirect(url_for("notifications.profile"))
    return render_template("notifications/profile.html", form=form), 422 if form.errors else 200


# -- the reminder record (催办记录) --------------------------------------------------------------

def _record_context(flt, **owner) -> dict:
    total, escalated = record.count(flt, **owner)
    return {"flt": flt, "kinds": record.KIND_LABELS, "total": total, "escalated": escalated,
            "describe": mails.describe, "role_label": mails.role_label, "delivery": record.delivery,
            "number_label": record.number_label, "kind_label": record.kind_label,
            "message_delivery": record.message_delivery}


def _record_page(unit: Unit | None = None, item=None):
    """A unit's or an item's record: one template, a unit's also lists its groups' messages."""
    owner = {"unit_id": unit.id} if unit is not None else {"item_id": item.id}
    flt = record.read_filter(request.args)
    pagination, others = None, {}
    if not flt.errors:
        pagination = record.page(flt, _page(), **owner)
        others["notices"] = record.supervision_notices(flt, **owner)
        if unit is not None:
            others["group"] = record.group_messages(flt, unit.id)
    endpoint = "notifications.unit_record" if unit is not None else "notifications.item_record"
    return render_template("notifications/unit_record.html", unit=unit, item=item, pagination=pagination,
                           endpoint=endpoint, ids=owner, **others,
                           **_record_context(flt, **owner)), 422 if flt.errors else 200


def _record_sheet(endpoint: str, name: str, **owner):
    """The record's xlsx; a filter with errors goes back to the page, which shows them."""
    from tracker.reports.routes import xlsx_response
    flt = record.read_filter(request.args)
    if flt.errors:
        return redirect(url_for(endpoint, **owner, **flt.args()))
    return xlsx_response(record.sheet_rows(flt, **owner),
                         f"{_('Reminder record')}-{name}-{clock.today().isoformat()}.xlsx",
                         _("Reminder record"), columns=record.COLUMNS)


@bp.get("/reminders")
@allowed_if(Role.can_read_everything)
def units():
    flt = record.read_filter(request.args)
    unit_id = request.args.get("unit", "")
    if unit_id.isdigit() and db.session.get(Unit, int(unit_id)) is not None:
        return redirect(url_for("notifications.unit_record", unit_id=int(unit_id), **flt.args()))
    rows = [] if flt.errors else record.unit_summary(flt)
    all_units = db.session.execute(select(Unit.id, Unit.name).order_by(Unit.name)).all()
    return render_template("notifications/units.html", rows=rows, all_units=all_units,
                           **_record_context(flt)), 422 if flt.errors else 200


@bp.get("/reminders/units/<int:unit_id>")
@allowed_if(Role.can_read_everything)
def unit_record(unit_id: int):
    return _record_page(unit=db.get_or_404(Unit, unit_id))


@bp.get("/reminders/units/<int:unit_id>.xlsx")
@allowed_if(Role.can_read_everything)
def unit_record_xlsx(unit_id: int):
    unit = db.get_or_404(Unit, unit_id)
    return _record_sheet("notifications.unit_record", unit.name, unit_id=unit.id)


@bp.get("/reminders/items/<int:item_id>")
@allowed_if(Role.can_read_everything)
def item_record(item_id: int):
    return _record_page(item=item_for(current_user, item_id))


@bp.get("/reminders/items/<int:item_id>.xlsx")
@allowed_if(Role.can_read_everything)
def item_record_xlsx(item_id: int):
    item = item_for(current_user, item_id)
    return _record_sheet("notifications.item_record", str(item.id), item_id=item.id)


@bp.get("/admin/outbox")
@allowed_if(Role.can_administer)
def outbox_page():
    status = request.args.get("status")
    status = OutboxStatus(status) if status in set(OutboxStatus) else None
    return render_template("notifications/outbox.html", status=status, statuses=list(OutboxStatus),
                           pagination=services.outbox_page(status, _page(), PER_PAGE),
                           counts=services.outbox_counts(), runs=jobs.last_runs(), form=RetryForm())


@bp.post("/admin/outbox/<int:message_id>/retry")
@allowed_if(Role.can_administer)
def retry(message_id: int):
    if not RetryForm().validate_on_submit():
        abort(400)
    message = outbox.retry(current_user, message_id)
    if message is None:
        abort(404)
    uow.commit()
    if message.status == OutboxStatus.FAILED:
        flash(_("The message cannot be sent: %(error)s", error=message.last_error), "error")
    else:
        flash(_("The message is queued again; it goes out within a minute."), "success")
    return redirect(url_for("notifications.outbox_page"))
