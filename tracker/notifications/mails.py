"""Rendering mails in the recipient's language, with links built from BASE_URL."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

from flask import current_app, url_for
from flask_babel import gettext as _, ngettext
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy import select

from tracker import bulk
from tracker.auth.models import User
from tracker.extensions import db
from tracker.i18n import in_language, lazy_gettext as _l
from tracker.notifications import outbox
from tracker.notifications.models import Notification, Reminder, ReminderKind


def people(*conditions) -> list:
    """Active users as plain rows: what a mail, the outbox and the journal need (id, name, email,
    language, channels) and whom it concerns (role, unit); for jobs that mail thousands of people."""
    return db.session.execute(select(User.id, User.name, User.email, User.language, User.role, User.unit_id,
                                     User.mobile, User.sms_enabled, User.email_enabled)
                              .where(User.active.is_(True), *conditions).order_by(User.id)).all()


def language_of(user) -> str:
    languages = current_app.config["LANGUAGES"]
    return user.language if user.language in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


class _Phrases:
    """What the mails of one language and run share, worked out once: an item's link, the text
    of a reminder line, a role's label (each costs a url_for or a few gettext calls), and the
    templates' own translations and links (`gettext`, `url_for`: they shadow the globals)."""

    def __init__(self):
        self._known: dict[tuple, str] = {}
        translated: dict[str, str] = {}

        @pass_context
        def gettext(context, string: str, **variables) -> str:
            # What Jinja's newstyle gettext does with Flask-Babel's, the lookup done once a run.
            if string not in translated:
                translated[string] = _(string)
            text = Markup(translated[string]) if context.eval_ctx.autoescape else translated[string]
            return text % variables
        self.gettext = gettext

    def _once(self, key: tuple, make: Callable[[], str]) -> str:
        if key not in self._known:
            self._known[key] = make()
        return self._known[key]

    def url_for(self, endpoint: str, **values) -> str:
        return self._once(("url", endpoint, *sorted(values.items())), lambda: url_for(endpoint, **values))

    def item_url(self, item_id: int) -> str:
        return self.url_for("items.detail", item_id=item_id, _external=True)

    def describe(self, reminder) -> str:
        milestone, part = reminder.milestone, getattr(reminder, "part", None)
        key = ("describe", reminder.kind, reminder.days, reminder.item.deadline, reminder.item.listed_supervision,
               milestone.title if milestone is not None else None, milestone.due_on if milestone is not None else None,
               (part.deadline, part.unit.name) if part is not None else None)
        return self._once(key, lambda: describe(reminder))

    def role_label(self, role: str) -> str:
        return self._once(("role", role), lambda: role_label(role))

    def heading(self, number: int) -> str:
        return self._once(("heading", number), lambda: _("Reminder no. %(n)d", n=number))

    def robot_text(self, name: str, **values) -> str:
        """A group robot's markdown: templates/notifications/robot_<name>.md in this language."""
        template = current_app.jinja_env.get_template(f"notifications/robot_{name}.md")
        return template.render(gettext=self.gettext, **values)

    def shown(self, line: MailLine) -> ShownLine:
        """A reminder mail's line with its words and link in this language."""
        reminder = line.reminder
        return ShownLine(self.heading(reminder.number), reminder.item.title, self.item_url(reminder.item_id),
                         self.describe(reminder), line.unit_name, self.role_label(line.role))


def _render(user, template: str, subject: Callable[[], str], context: dict | Callable[[_Phrases], dict],
            phrases: _Phrases) -> tuple[str, str, str]:
    context = dict(context(phrases) if callable(context) else context, user=user, describe=phrases.describe,
                   role_label=phrases.role_label, item_url=phrases.item_url, gettext=phrases.gettext,
                   url_for=phrases.url_for)
    # Straight from the Jinja environment: a mail needs none of a page's context processors.
    env = current_app.jinja_env
    return (subject(), env.get_template(f"email/{template}.txt").render(context),
            env.get_template(f"email/{template}.html").render(context))


def render(user: User, template: str, subject: Callable[[], str], **context) -> tuple[str, str, str]:
    """(subject, text, html) of templates/email/<template>.{txt,html} in the user's language."""
    return render_each(template, [(user, subject, context)])[0]


def render_each(template: str, mails: list[tuple[object, Callable[[], str], dict]]) -> list[tuple[str, str, str]]:
    """render() for many (user, subject, context), in their order; each language is entered once,
    because a request context and a locale switch per mail cost more than the mail itself.
    A context may be a function of the language's shared phrases (called in that language)."""
    rendered: list = [None] * len(mails)
    by_language: dict[str, list[int]] = defaultdict(list)
    for index, (user, _subject, _context) in enumerate(mails):
        by_language[language_of(user)].append(index)
    for language, indexes in by_language.items():
        with phrasebook(language) as phrases:
            for index in indexes:
                user, subject, context = mails[index]
                rendered[index] = _render(user, template, subject, context, phrases)
    return rendered


def describe(reminder: Reminder) -> str:
    """What the reminder is about, in the current language (a part's names the cooperating unit)."""
    part = getattr(reminder, "part", None)
    if part is not None:
        return _("Part of %(unit)s: %(text)s", unit=part.unit.name,
                 text=_describe(reminder, part.deadline.isoformat()))
    return _describe(reminder, reminder.item.deadline.isoformat())


def _describe(reminder: Reminder, deadline: str) -> str:
    days = reminder.days
    title = reminder.milestone.title if reminder.milestone is not None else ""
    if reminder.kind == ReminderKind.DUE_SOON:
        if days == 0:
            return _("Due today (deadline %(date)s)", date=deadline)
        return ngettext("Due in %(num)d day (deadline %(date)s)",
                        "Due in %(num)d days (deadline %(date)s)", days, date=deadline)
    if reminder.kind == ReminderKind.OVERDUE:
        return ngettext("Overdue by %(num)d day (deadline %(date)s)",
                        "Overdue by %(num)d days (deadline %(date)s)", days, date=deadline)
    if reminder.kind == ReminderKind.ESCALATION:
        if reminder.item.listed_supervision:
            return ngettext("Escalated, under listed supervision: overdue by %(num)d day (deadline %(date)s)",
                            "Escalated, under listed supervision: overdue by %(num)d days (deadline %(date)s)",
                            days, date=deadline)
        return ngettext("Escalated: overdue by %(num)d day (deadline %(date)s)",
                        "Escalated: overdue by %(num)d days (deadline %(date)s)", days, date=deadline)
    if reminder.kind == ReminderKind.UNACKNOWLEDGED:
        return ngettext("Receipt not acknowledged %(num)d day after assignment",
                        "Receipt not acknowledged %(num)d days after assignment", days)
    if reminder.kind == ReminderKind.STALE:
        return ngettext("No progress reported for %(num)d day",
                        "No progress reported for %(num)d days", days)
    due_on = reminder.milestone.due_on.isoformat() if reminder.milestone is not None else ""
    if reminder.kind == ReminderKind.MILESTONE_DUE:
        return ngettext("Milestone “%(title)s” due in %(num)d day (%(date)s)",
                        "Milestone “%(title)s” due in %(num)d days (%(date)s)", days, title=title, date=due_on)
    return ngettext("Milestone “%(title)s” overdue by %(num)d day (%(date)s)",
                    "Milestone “%(title)s” overdue by %(num)d days (%(date)s)", days, title=title, date=due_on)


# Why a person is told: the roles of reminders (part_head: of a part) and of event notices.
ROLE_LABELS = {"owner": _l("as the responsible person"), "head": _l("as head of the lead unit"),
               "part_head": _l("as head of a cooperating unit"), "cooperating": _l("as head of a cooperating unit"),
               "coordinator": _l("as coordinator"), "inspector": _l("as inspector"),
               "requester": _l("as the one who asked"), "submitter": _l("as the one who submitted it")}


def role_label(role: str) -> str:
    """Why the person is told, in the current language."""
    return str(ROLE_LABELS.get(role, role))


@dataclass(frozen=True)
class MailLine:
    """One line of a reminder mail: a notification of `reminder` (a Reminder or the scan's Occasion)."""
    notification_id: int
    role: str
    reminder: object
    unit_name: str


class ShownLine(NamedTuple):
    heading: str      # 第N次催办
    title: str
    url: str
    text: str         # what it is about (describe)
    unit_name: str
    role: str


def queue_reminder_mails(per_person: dict, today: dt.date) -> int:
    """One mail per person for all their reminders of this scan (added, not committed); returns
    the number queued. The mail's key names the person, the day and their first notification."""
    people = list(per_person)

    def context(lines):
        return lambda phrases: {"lines": [phrases.shown(line) for line in lines], "today": today}
    rendered = render_each("reminders", [(person, _reminder_subject(per_person[person]),
                                          context(per_person[person])) for person in people])
    keys = [f"reminder:{person.id}:{today.isoformat()}:{min(n.notification_id for n in per_person[person])}"
            for person in people]
    queued = outbox.queue_many([outbox.Mail(person, "reminder", key, *parts)
                                for person, key, parts in zip(people, keys, rendered, strict=True)])
    bulk.set_many(Notification.__table__.c.id, Notification.__table__.c.outbox_message_id, [
        (line.notification_id, queued[key])
        for person, key in zip(people, keys, strict=True) if key in queued for line in per_person[person]])
    return len(queued)


def reminder_title(escalated: bool, n: int) -> str:
    """A reminder mail's subject, a robot's reminder message's title."""
    if escalated:
        return _("[Rectify] Escalation: %(n)d rectification items need action", n=n)
    return _("[Rectify] Reminder: %(n)d rectification items need action", n=n)


def _reminder_subject(lines: list[MailLine]) -> Callable[[], str]:
    escalated = any(line.reminder.is_escalation for line in lines)
    return lambda: reminder_title(escalated, len(lines))


@contextmanager
def phrasebook(language: str):
    """The shared phrases of `language` (links on BASE_URL, reminder lines, gettext), for the mails
    and the texts of the other channels (a group robot's markdown, an SMS) in that language."""
    # A request context only so that url_for(..., _external=True) builds links on BASE_URL.
    with current_app.test_request_context("/", base_url=current_app.config["BASE_URL"]), in_language(language):
        yield _Phrases()
