"""The profile's API token page: create (the secret is shown once) and revoke personal tokens."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker import clock, uow
from tracker.api import tokens
from tracker.api.forms import RevokeForm, TokenForm
from tracker.errors import Invalid, Refused

bp = Blueprint("tokens", __name__, url_prefix="/profile/tokens")


@bp.route("", methods=["GET", "POST"])
@login_required
def index():
    form, secret = TokenForm(), None
    if form.validate_on_submit():
        try:
            _token, secret = tokens.create_token(current_user, form.name.data, form.expires_on.data)
            uow.commit()
        except Invalid as exc:
            for name, message in exc.errors.items():
                getattr(form, name).errors = list(getattr(form, name).errors) + [message]
        except Refused as exc:
            flash(exc.message, "error")
        else:
            form = TokenForm(formdata=None)
    response = render_template("api/tokens.html", form=form, secret=secret, revoke_form=RevokeForm(),
                               rows=tokens.tokens_of(current_user), now=clock.now())
    # The secret is on this page once: it must not be kept by the browser or a proxy.
    return response, 422 if form.errors else 200, {"Cache-Control": "no-store"}


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    if not RevokeForm().validate_on_submit():
        abort(400)
    token = tokens.revoke_token(current_user, token_id)
    if token is None:
        abort(404)
    uow.commit()
    flash(_("The token “%(name)s” is revoked; programs using it can no longer sign in.", name=token.name),
          "success")
    return redirect(url_for("tokens.index"))
