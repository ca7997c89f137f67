from tracker.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, SubmitField
from wtforms.validators import DataRequired, Optional

from tracker.forms import AtMost

from tracker.api.models import NAME_MAX


class TokenForm(FlaskForm):
    name = StringField(_l("What the token is for"), validators=[DataRequired(), AtMost(NAME_MAX)])
    expires_on = DateField(_l("Valid until (optional)"), validators=[Optional()])
    submit = SubmitField(_l("Create token"))


class RevokeForm(FlaskForm):
    """Only the CSRF token: revoking is a POST."""
    submit = SubmitField(_l("Revoke"))
