"""Forms for items, progress and workflow actions."""
import secrets

from tracker.i18n import lazy_gettext as _l
from tracker.forms import AtMost, PageForm
from wtforms import SelectChoice
from sqlalchemy import select
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, MultipleFileField, SelectField,
                     SelectMultipleField, StringField, SubmitField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from tracker.auth.models import UNIT_ROLES, User
from tracker.evaluations.models import Finding
from tracker.extensions import db
from tracker.items.models import LIMITS, ItemKind
from tracker.items.presentation import KIND_LABELS, RESULT_LABELS
from tracker.units.models import Unit


def _int_or_none(value):
    return int(value) if value not in (None, "", "None") else None


class ItemForm(PageForm):
    finding_id = SelectField(_l("Finding"), coerce=int, validators=[InputRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), AtMost(LIMITS["title"])])
    measures = TextAreaField(_l("Measures"), validators=[DataRequired(), AtMost(LIMITS["measures"])])
    target = TextAreaField(_l("Target"), validators=[DataRequired(), AtMost(LIMITS["target"])])
    kind = SelectField(_l("Type"), choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()])
    lead_unit_id = SelectField(_l("Lead unit"), coerce=int, validators=[InputRequired()])
    cooperating_unit_ids = SelectMultipleField(_l("Cooperating units"), coerce=int)
    owner_id = SelectField(_l("Owner"), coerce=_int_or_none, validators=[Optional()])
    responsible_leader = StringField(_l("Responsible leader"),
                                     validators=[AtMost(LIMITS["responsible_leader"])])
    deadline = DateField(_l("Deadline"), validators=[InputRequired()])
    confirm_past_deadline = BooleanField(_l("Yes, the deadline is in the past on purpose"))
    listed_supervision = BooleanField(_l("Listed supervision"))
    version = HiddenField()
    seen_entry = HiddenField()  # the newest journal entry when the form was opened (see conflicts.py)
    submit = SubmitField(_l("Save"))

    def load_choices(self) -> None:
        findings = db.session.scalars(select(Finding).order_by(Finding.evaluation_id, Finding.id)).all()
        self.finding_id.choices = [SelectChoice(f.id, f"{f.id} · {f.short_text}") for f in findings]
        units = db.session.scalars(select(Unit).where(Unit.active).order_by(Unit.name)).all()
        self.lead_unit_id.choices = [SelectChoice(u.id, u.name) for u in units]
        self.cooperating_unit_ids.choices = [SelectChoice(u.id, u.name) for u in units]
        users = db.session.scalars(select(User).where(User.active, User.role.in_(UNIT_ROLES))
                                   .order_by(User.name)).all()
        unit_names = {u.id: u.name for u in units}
        self.owner_id.choices = [SelectChoice(None, "—")] + [
            SelectChoice(u.id, f"{u.name} ({unit_names.get(u.unit_id, '')})") for u in users]

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "finding_id", "title", "measures", "target", "kind", "lead_unit_id", "cooperating_unit_ids",
            "owner_id", "responsible_leader", "deadline", "confirm_past_deadline", "listed_supervision")}


class ProgressForm(PageForm):
    body = TextAreaField(_l("What was done"), validators=[DataRequired(), AtMost(LIMITS["body"])])
    percent = IntegerField(_l("Progress (%)"), validators=[InputRequired(), NumberRange(0, 100)])
    files = MultipleFileField(_l("Evidence files"))
    submission_key = HiddenField(label="")  # never shown; without a label WTForms would translate its name
    submit = SubmitField(_l("Post progress"))

    def fresh_key(self) -> None:
        if not self.submission_key.data:
            self.submission_key.data = secrets.token_hex(16)


class ActionForm(PageForm):
    reason = TextAreaField(_l("Reason"), validators=[AtMost(LIMITS["reason"])])
    opinion = TextAreaField(_l("Acceptance opinion"), validators=[AtMost(LIMITS["reason"])],
                            description=_l("What the inspection found (验收意见): it is kept with the item."))
    result = SelectField(_l("Result"), choices=[SelectChoice(r.value, label) for r, label in RESULT_LABELS.items()],
                         validate_choice=False)
    submit = SubmitField(_l("Confirm"))

    # What the reason is called where it is not a reason: the head's comment for the staff.
    REASON_LABELS = {"send_back": _l("Comment for the staff")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        label = self.REASON_LABELS.get(self.meta.id_prefix or "")
        if label is not None:
            self.reason.label.text = label


class MilestoneForm(PageForm):
    class Meta:
        id_prefix = "milestone"

    title = StringField(_l("Milestone"), validators=[DataRequired(), AtMost(LIMITS["milestone_title"])])
    due_on = DateField(_l("Due on"), validators=[InputRequired()])
    submit = SubmitField(_l("Add milestone"))


class BulkForm(PageForm):
    """Changing many items at once (tracker/items/batch.py): the values; the chosen ids travel as
    repeated `ids` fields, read by the view."""

    class Meta:
        id_prefix = "bulk"

    operation = HiddenField()
    # The lists depend on the chosen items (read after the form): batch.plan checks the values.
    lead_unit_id = SelectField(_l("Lead unit"), coerce=_int_or_none, validators=[Optional()], validate_choice=False,
                               description=_l("Leave empty to keep each item's lead unit."))
    owner_id = SelectField(_l("Owner"), coerce=_int_or_none, validators=[Optional()], validate_choice=False)
    deadline = DateField(_l("Deadline"), validators=[Optional()])
    checked = HiddenField()  # the values the shown check was made with (confirming needs the same)

    OWNER_HINTS = {"assign": _l("Given to the items without an owner (or whose owner is not of their lead unit)."),
                   "owner": _l("Given to every chosen item; it must belong to the item's lead unit.")}
    DEADLINE_HINTS = {"assign": _l("Leave empty to keep each item's deadline."),
                      "deadline": _l("Only drafts: after assignment the deadline moves only through an extension.")}

    def load_choices(self, operation: str, unit_ids: set[int]) -> None:
        """Active units, and the active people of the items' lead units (and of the unit chosen)."""
        units = db.session.execute(select(Unit.id, Unit.name).where(Unit.active).order_by(Unit.name)).all()
        self.lead_unit_id.choices = [SelectChoice(None, "—")] + [SelectChoice(i, name) for i, name in units]
        wanted = set(unit_ids) | ({self.lead_unit_id.data} if self.lead_unit_id.data else set())
        people = db.session.execute(
            select(User.id, User.name, Unit.name).join(Unit, Unit.id == User.unit_id)
            .where(User.active, User.role.in_(UNIT_ROLES), User.unit_id.in_(wanted))
            .order_by(Unit.name, User.name, User.id)).all() if wanted else []
        self.owner_id.choices = [SelectChoice(None, "—")] + [
            SelectChoice(i, f"{name} ({unit})") for i, name, unit in people]
        self.owner_id.description = self.OWNER_HINTS.get(operation, "")
        self.deadline.description = self.DEADLINE_HINTS.get(operation, "")

    def fingerprint(self) -> str:
        return f"{self.operation.data}|{self.lead_unit_id.data}|{self.owner_id.data}|{self.deadline.data}"
