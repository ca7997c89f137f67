"""Forms of the reports package: the supervision notice's text and the ledger import."""
from tracker.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, DateField, Form, HiddenField, IntegerField, SelectChoice, SelectField,
                     StringField, SubmitField, TextAreaField)
from wtforms.validators import InputRequired, NumberRange, Optional

from tracker.forms import AtMost

from tracker.reports.printable import REQUIREMENT_MAX


class NoticeForm(Form):
    """What the inspector writes on a supervision notice; read from the query string (it only prints)."""

    requirement = TextAreaField(_l("Requirement"), validators=[Optional(), AtMost(REQUIREMENT_MAX)])
    reply_by = DateField(_l("Reply by"), validators=[Optional()])
    submit = SubmitField(_l("Show the notice"))


IMPORT_KINDS = [SelectChoice("ledger", _l("Ledger (findings and items)")),
                SelectChoice("indicators", _l("Indicator framework"))]


class ImportForm(FlaskForm):
    kind = SelectField(_l("What the sheet holds"), choices=IMPORT_KINDS, validators=[InputRequired()])
    evaluation_id = SelectField(_l("Evaluation"), coerce=int, validators=[InputRequired()])
    new_title = StringField(_l("Name of the new evaluation"), validators=[Optional(), AtMost(200)])
    new_year = IntegerField(_l("Year of the new evaluation"), validators=[Optional(), NumberRange(1990, 2100)])
    file = FileField(_l("xlsx file"), validators=[FileRequired()])
    submit = SubmitField(_l("Preview"))


class ConfirmForm(FlaskForm):
    token = HiddenField()
    submit = SubmitField(_l("Import"))


class CreateUnitsForm(FlaskForm):
    token = HiddenField()
    confirm = BooleanField(_l("Yes, create these units"), validators=[InputRequired()])
    submit = SubmitField(_l("Create units"))


class IssueNoticeForm(FlaskForm):
    """Issue the notice shown as a numbered Word document (督办单): the shown text, sent again."""

    requirement = HiddenField(validators=[Optional(), AtMost(REQUIREMENT_MAX)])
    reply_by = HiddenField(validators=[InputRequired()])
    submit = SubmitField(_l("Issue as a Word document (.docx)"))


class CircularForm(Form):
    """The period of a circular (通报); read from the query string."""

    start = DateField(_l("First day"), validators=[InputRequired()])
    end = DateField(_l("Last day"), validators=[InputRequired()])
    submit = SubmitField(_l("Download the circular (.docx)"))
