"""Forms of the notification pages."""
from tracker.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import Optional

from tracker.forms import AtMost


class ProfileForm(FlaskForm):
    digest_opt_out = BooleanField(_l("Do not send me the weekly digest"))
    mobile = StringField(_l("Mobile number"), validators=[Optional(), AtMost(20)])
    sms_enabled = BooleanField(_l("Send text messages (SMS)"))
    email_enabled = BooleanField(_l("Send e-mail"))
    submit = SubmitField(_l("Save"))


class RetryForm(FlaskForm):
    """Only the CSRF token: requeueing a message is a POST."""
