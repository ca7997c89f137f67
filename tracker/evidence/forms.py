from tracker.i18n import lazy_gettext as _l
from tracker.forms import PageForm
from wtforms import MultipleFileField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from tracker.items.models import LIMITS


class AttachForm(PageForm):
    # Its own id: the progress form on the same page has a "files" input too.
    files = MultipleFileField(_l("Evidence files"), id="attach-files")
    submit = SubmitField(_l("Upload"))


class WithdrawForm(PageForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=LIMITS["reason"])])
    submit = SubmitField(_l("Withdraw file"))
