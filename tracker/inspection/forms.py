from tracker.i18n import lazy_gettext as _l
from tracker.forms import AtMost, PageForm
from wtforms import SelectChoice, DateField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional

from tracker.items.models import LIMITS


class ExtensionRequestForm(PageForm):
    class Meta:
        id_prefix = "extension"

    new_deadline = DateField(_l("New deadline"), validators=[InputRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), AtMost(LIMITS["reason"])])
    submit = SubmitField(_l("Request extension"))


class ExtensionDecisionForm(PageForm):
    comment = TextAreaField(_l("Comment"), validators=[Optional(), AtMost(LIMITS["reason"])])


class RequirementForm(PageForm):
    class Meta:
        id_prefix = "requirement"

    title = StringField(_l("Required evidence"), validators=[DataRequired(), AtMost(200)])
    submit = SubmitField(_l("Add to checklist"))


class RecheckForm(PageForm):
    class Meta:
        id_prefix = "recheck"

    due_on = DateField(_l("Re-check on"), validators=[InputRequired()])
    submit = SubmitField(_l("Schedule re-check"))


class RecheckResultForm(PageForm):
    outcome = RadioField(_l("Outcome"), choices=[SelectChoice("holds", _l("The rectification holds")),
                                                 SelectChoice("problem_back",
                                                              _l("The problem is back: reopen the item"))],
                         validators=[InputRequired()])
    finding = TextAreaField(_l("What was found"), validators=[Optional(), AtMost(LIMITS["reason"])])
    submit = SubmitField(_l("Record re-check"))
