"""Forms of a cooperating unit's part: its steps, its progress, the coordinator's changes, and the
lines of the hand-out (交办) form."""
from tracker.i18n import lazy_gettext as _l
from tracker.forms import AtMost, PageForm
from wtforms import DateField, HiddenField, MultipleFileField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional

from tracker.items.models import LIMITS


class PartStepForm(PageForm):
    """签收, 反馈 (with a statement) or 退回 (with a reason); carries the part's version as read."""
    text = TextAreaField(_l("Statement"), validators=[AtMost(LIMITS["reason"])])
    version = HiddenField()
    submit = SubmitField(_l("Confirm"))


class PartUpdateForm(PageForm):
    body = TextAreaField(_l("What your unit did"), validators=[DataRequired(), AtMost(LIMITS["body"])])
    files = MultipleFileField(_l("Evidence files"))
    submit = SubmitField(_l("Post progress on the part"))


class PartEditForm(PageForm):
    request = TextAreaField(_l("What the unit is asked to do"), validators=[DataRequired(), AtMost(LIMITS["measures"])])
    deadline = DateField(_l("Part deadline"), validators=[InputRequired()])
    version = HiddenField()
    submit = SubmitField(_l("Save the part"))


def handout_form(units, item):
    """The hand-out form's line and deadline per cooperating unit (`part_request_<id>`,
    `part_deadline_<id>`), defaulting to the item's measures and deadline."""
    class HandOutForm(PageForm):
        class Meta:
            id_prefix = "handout"

    for unit in units:
        setattr(HandOutForm, f"part_request_{unit.id}", TextAreaField(
            _l("%(unit)s is asked to", unit=unit.name), validators=[AtMost(LIMITS["measures"])],
            description=_l("Empty: the item's measures.")))
        setattr(HandOutForm, f"part_deadline_{unit.id}", DateField(
            _l("%(unit)s: part deadline", unit=unit.name), validators=[Optional()],
            description=_l("Empty: the item's deadline; never later.")))
    form = HandOutForm.shown()
    for unit in units:
        form[f"part_deadline_{unit.id}"].data = item.deadline
    return form
