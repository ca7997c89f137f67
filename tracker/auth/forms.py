from tracker.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired

from tracker.forms import AtMost

from tracker.auth.passwords import PASSWORD_MAX


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), AtMost(64)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[DataRequired(), AtMost(256)],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Sign in"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), AtMost(PASSWORD_MAX)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), AtMost(PASSWORD_MAX)],
                                 render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("New password again"), validators=[DataRequired(), AtMost(PASSWORD_MAX)],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Change password"))
