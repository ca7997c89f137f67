from tracker.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from tracker.items.models import LIMITS


class AttachForm(FlaskForm):
    # Its own id: the progress form on the same page has a "files" input too.
    files = MultipleFileField(_l("Evidence files"), id="attach-files")
    submit = SubmitField(_l("Upload"))


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=LIMITS["reason"])])
    submit = SubmitField(_l("Withdraw file"))
