"""Admin pages: units and users."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker import uow
from tracker.admin import services
from tracker.admin.forms import UnitForm, UserForm
from tracker.auth.decorators import allowed_if
from tracker.auth.models import Role, User
from tracker.errors import Invalid
from tracker.extensions import db
from tracker.feedback import show_errors
from tracker.notifications import channels, notices
from tracker.units.models import Unit

bp = Blueprint("admin", __name__)


def _unit_choices():
    units = db.session.scalars(select(Unit).order_by(Unit.name)).all()
    return [SelectChoice(None, "—")] + [SelectChoice(u.id, u.name) for u in units]


@bp.get("/units")
@allowed_if(Role.can_administer)
def units():
    rows = db.session.scalars(select(Unit).options(selectinload(Unit.parent)).order_by(Unit.name)).all()
    return render_template("admin/units.html", units=rows)


@bp.route("/units/new", methods=["GET", "POST"], defaults={"unit_id": None})
@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@allowed_if(Role.can_administer)
def unit_form(unit_id):
    unit = db.session.get(Unit, unit_id) if unit_id else None
    if unit_id and unit is None:
        abort(404)
    form = UnitForm(obj=unit, data={"inspector_id": notices.unit_inspector_id(unit)})
    form.parent_id.choices = [c for c in _unit_choices() if unit is None or c.value != unit.id]
    form.inspector_id.choices = [SelectChoice(None, "—")] + [
        SelectChoice(u.id, u.name) for u in db.session.scalars(select(User).where(
            User.role == Role.INSPECTOR, User.active.is_(True)).order_by(User.name))]
    form.robot_topics.choices = channels.topic_choices()
    if unit is not None and not form.is_submitted():
        form.robot_kind.data = unit.robot_kind.value if unit.robot_kind else ""
        form.robot_topics.data = [t for t in unit.robot_topics.split(",") if t]
    if form.validate_on_submit():
        try:
            saved = services.save_unit(current_user, unit, form.name.data, form.code.data, form.parent_id.data,
                                       form.active.data, form.signoff_required.data, aliases=form.aliases.data, robot={
                                           "kind": form.robot_kind.data, "webhook": form.robot_webhook.data,
                                           "secret": form.robot_secret.data, "topics": form.robot_topics.data})
            notices.set_unit_inspector(current_user, saved, form.inspector_id.data)
            uow.commit()
        except Invalid as exc:
            show_errors(form, exc)
        else:
            flash(_("Unit saved."), "success")
            return redirect(url_for("admin.units"))
    return render_template("admin/unit_form.html", form=form, unit=unit), 422 if form.errors else 200


@bp.get("/users")
@allowed_if(Role.can_administer)
def users():
    rows = db.session.scalars(select(User).options(selectinload(User.unit)).order_by(User.username)).all()
    return render_template("admin/users.html", users=rows)


@bp.route("/users/new", methods=["GET", "POST"], defaults={"user_id": None})
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@allowed_if(Role.can_administer)
def user_form(user_id):
    user = db.session.get(User, user_id) if user_id else None
    if user_id and user is None:
        abort(404)
    form = UserForm(obj=user)
    form.unit_id.choices = _unit_choices()
    if user is not None and not form.is_submitted():
        form.role.data = user.role.value
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in (
            "username", "name", "email", "role", "unit_id", "language", "active", "password", "mobile",
            "sms_enabled", "email_enabled")}
        try:
            services.save_user(current_user, user, values)
            uow.commit()
        except Invalid as exc:
            show_errors(form, exc)
        else:
            flash(_("User saved."), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user), 422 if form.errors else 200
