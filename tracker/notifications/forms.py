"""Forms of the notification pages."""
from tracker.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import Optional

from tracker.forms import AtMost
from tracker.notifications.notices import TOPIC_LABELS


class ProfileForm(FlaskForm):
    digest_opt_out = BooleanField(_l("Do not send me the weekly digest"))
    mobile = StringField(_l("Mobile number"), validators=[Optional(), AtMost(20)])
    sms_enabled = BooleanField(_l("Send text messages (SMS)"))
    email_enabled = BooleanField(_l("Send e-mail"))
    submit = SubmitField(_l("Save"))

    def notice_fields(self) -> list:
        """One checkbox per topic of event notice (notice_<topic>), in TOPIC_LABELS order."""
        return [self[f"notice_{topic}"] for topic in TOPIC_LABELS]


for _topic, _label in TOPIC_LABELS.items():
    setattr(ProfileForm, f"notice_{_topic}", BooleanField(_label, default=True))


class RetryForm(FlaskForm):
    """Only the CSRF token: requeueing a message is a POST."""
