"""Sign-in and sign-out."""
import logging
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from tracker import journal
from tracker.auth.forms import LoginForm
from tracker.auth.models import User
from tracker.auth.sessions import end_session, start_session
from tracker.extensions import db

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after sign-in (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("items.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data.strip()))
        if user is None or not user.check_password(form.password.data) or not user.active:
            log.info("failed sign-in for %r", form.username.data[:64])
            flash(_("Wrong username or password."), "error")
            return render_template("auth/login.html", form=form), 401
        start_session(user)
        journal.record(user, "sign_in", user)
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")) or url_for("items.home"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    end_session()
    db.session.commit()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))
