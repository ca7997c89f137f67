"""Sign-in and sign-out."""
import logging
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker import uow
from tracker.auth import signin
from tracker.auth.forms import ChangePasswordForm, LoginForm
from tracker.auth.passwords import PASSWORD_MIN, change_own_password
from tracker.auth.sessions import end_session, start_session
from tracker.errors import Invalid
from tracker.extensions import limiter

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after sign-in (no open redirect)."""
    if not target:
        return None
    if any(ch < " " or ch in "\\\x7f" for ch in target):
        return None  # CR/LF would split the Location header; browsers read a backslash as a slash
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _failed_attempt(response) -> bool:
    return response.status_code != 302  # only attempts that did not sign in use up the allowance


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=signin.address_and_username,
               methods=["POST"], deduct_when=_failed_attempt, on_breach=signin.record_throttled)
@limiter.limit(lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"], methods=["POST"],
               deduct_when=_failed_attempt, on_breach=signin.record_throttled)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("items.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = signin.check_credentials(form.username.data, form.password.data)
        if user is None:
            flash(_("Wrong username or password."), "error")
            return render_template("auth/login.html", form=form), 401
        start_session(user)
        signin.record_success(user)
        uow.commit()
        if user.must_change_password:
            return redirect(url_for("auth.change_password"))
        return redirect(_safe_next(request.args.get("next")) or url_for("items.home"))
    return render_template("auth/login.html", form=form)


@bp.before_app_request
def _require_new_password():
    """A user whose password was reset by an administrator chooses a new one before anything else."""
    if request.endpoint in ("auth.change_password", "auth.logout", "static") or request.path.startswith("/api/"):
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        flash(_("Your password was reset by an administrator. Choose a new password to continue."), "info")
        return redirect(url_for("auth.change_password"))
    return None


@bp.route("/profile/password", methods=["GET", "POST"])
@login_required
@limiter.limit(lambda: current_app.config["PASSWORD_CHECK_RATE_LIMIT"], methods=["POST"],
               key_func=lambda: f"password:{current_user.id}", deduct_when=_failed_attempt)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_own_password(current_user._get_current_object(), form.current_password.data,
                                form.new_password.data, form.confirm.data)
            uow.commit()
        except Invalid as exc:
            for name, message in exc.errors.items():
                getattr(form, name).errors = list(getattr(form, name).errors) + [message]
        else:
            flash(_("Your password is changed. Other devices have been signed out and your API tokens "
                    "revoked; create new ones under API tokens if you use any."), "success")
            return redirect(url_for("items.home"))
    return render_template("auth/change_password.html", form=form, minimum=PASSWORD_MIN), \
        422 if form.errors else 200


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    end_session()
    uow.commit()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))
