"""Forms of the notification pages."""
from tracker.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField


class ProfileForm(FlaskForm):
    digest_opt_out = BooleanField(_l("Do not send me the weekly digest"))
    submit = SubmitField(_l("Save"))


class RetryForm(FlaskForm):
    """Only the CSRF token: requeueing a message is a POST."""
