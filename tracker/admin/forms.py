from tracker.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from tracker.forms import AtMost, MultiCheckboxField

from tracker.admin.services import PASSWORD_MIN
from tracker.items.presentation import ROLE_LABELS


def _int_or_none(value):
    return int(value) if value not in (None, "", "None") else None


class UnitForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), AtMost(100)])
    code = StringField(_l("Code"), validators=[DataRequired(), AtMost(40),
                                               Regexp(r"^[a-z0-9-]+$", message=_l(
                                                   "Lower-case letters, digits and hyphens only."))])
    parent_id = SelectField(_l("Parent unit"), coerce=_int_or_none, validators=[Optional()])
    inspector_id = SelectField(_l("Inspector in charge (分管督学)"), coerce=_int_or_none, validators=[Optional()],
                               description=_l("Told of the unit's submissions for closure; none: every inspector is."))
    aliases = TextAreaField(_l("Other names"), validators=[Optional(), AtMost(2000)],
                            description=_l("Other names offices write for this unit, one per line "
                                           "(e.g. 县人社局); imported sheets are matched against them."))
    active = BooleanField(_l("Active"), default=True)
    signoff_required = BooleanField(
        _l("Staff submissions go to the unit head first"), default=True,
        description=_l("A staff member's submission for closure reaches the inspectors only once the unit's "
                       "head has signed it off. Heads' own submissions go straight on."))
    robot_kind = SelectField(_l("Kind of robot"), choices=[
        SelectChoice("", _l("No group robot")), SelectChoice("dingtalk", _l("DingTalk group robot (政务钉钉)")),
        SelectChoice("wecom", _l("WeCom group robot (企业微信)"))], validators=[Optional()])
    robot_webhook = StringField(_l("Robot webhook address"), validators=[Optional(), AtMost(500)])
    robot_secret = PasswordField(_l("Signing secret (DingTalk)"), validators=[Optional(), Length(max=200)],
                                 render_kw={"autocomplete": "off"})
    robot_topics = MultiCheckboxField(_l("Messages to the group"), choices=[], validators=[Optional()])
    submit = SubmitField(_l("Save"))


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), AtMost(64), Regexp(
        r"^[A-Za-z0-9._-]+$", message=_l("Letters, digits, dot, hyphen and underscore only."))])
    name = StringField(_l("Name"), validators=[DataRequired(), AtMost(100)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(check_deliverability=False),
                                                 AtMost(254)])
    role = SelectField(_l("Role"), choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()])
    unit_id = SelectField(_l("Unit"), coerce=_int_or_none, validators=[Optional()])
    language = SelectField(_l("Language"), choices=[SelectChoice("zh_CN", "中文"), SelectChoice("en", "English")])
    mobile = StringField(_l("Mobile number"), validators=[Optional(), AtMost(20)])
    sms_enabled = BooleanField(_l("Send text messages (SMS)"), default=True)
    email_enabled = BooleanField(_l("Send e-mail"), default=True)
    active = BooleanField(_l("Active"), default=True)
    password = PasswordField(_l("New password"), validators=[Optional(), Length(min=PASSWORD_MIN, max=256)],
                             render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Save"))
