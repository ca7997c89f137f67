from tracker.i18n import lazy_gettext as _l
from tracker.forms import AtMost, PageForm
from wtforms import MultipleFileField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired

from tracker.items.models import LIMITS


class AttachForm(PageForm):
    class Meta:
        id_prefix = "attach"  # the progress form on the same page has a "files" input too

    files = MultipleFileField(_l("Evidence files"))
    # Checked by the view against the item's checklist (the choices are set where the form is shown).
    requirement_id = SelectField(_l("For checklist entry"), choices=[], validate_choice=False)
    submit = SubmitField(_l("Upload"))


class WithdrawForm(PageForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), AtMost(LIMITS["reason"])])
    submit = SubmitField(_l("Withdraw file"))
