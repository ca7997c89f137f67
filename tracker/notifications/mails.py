"""Rendering mails in the recipient's language, with links built from BASE_URL."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from tracker.auth.models import User
from tracker.extensions import db
from tracker.notifications import outbox
from tracker.notifications.models import Notification, OutboxMessage, Reminder, ReminderKind


def render(user: User, template: str, subject: Callable[[], str], **context) -> tuple[str, str, str]:
    """(subject, text, html) of templates/email/<template>.{txt,html} in the user's language."""
    languages = current_app.config["LANGUAGES"]
    language = user.language if user.language in languages else current_app.config["BABEL_DEFAULT_LOCALE"]
    # A request context only so that url_for(..., _external=True) builds links on BASE_URL.
    with current_app.test_request_context("/", base_url=current_app.config["BASE_URL"]), \
            force_locale(language):
        context.update(user=user, describe=describe, role_label=role_label)
        return (subject(), render_template(f"email/{template}.txt", **context),
                render_template(f"email/{template}.html", **context))


def describe(reminder: Reminder) -> str:
    """What the reminder is about, in the current language."""
    days = reminder.days
    deadline = reminder.item.deadline.isoformat()
    title = reminder.milestone.title if reminder.milestone is not None else ""
    if reminder.kind == ReminderKind.DUE_SOON:
        if days == 0:
            return _("Due today (deadline %(date)s)", date=deadline)
        return _("Due in %(days)d days (deadline %(date)s)", days=days, date=deadline)
    if reminder.kind == ReminderKind.OVERDUE:
        return _("Overdue by %(days)d days (deadline %(date)s)", days=days, date=deadline)
    if reminder.kind == ReminderKind.ESCALATION:
        if reminder.item.listed_supervision:
            return _("Escalated, under listed supervision: overdue by %(days)d days (deadline %(date)s)",
                     days=days, date=deadline)
        return _("Escalated: overdue by %(days)d days (deadline %(date)s)", days=days, date=deadline)
    if reminder.kind == ReminderKind.UNACKNOWLEDGED:
        return _("Receipt not acknowledged %(days)d days after assignment", days=days)
    if reminder.kind == ReminderKind.STALE:
        return _("No progress reported for %(days)d days", days=days)
    due_on = reminder.milestone.due_on.isoformat() if reminder.milestone is not None else ""
    if reminder.kind == ReminderKind.MILESTONE_DUE:
        return _("Milestone “%(title)s” due in %(days)d days (%(date)s)", title=title, days=days, date=due_on)
    return _("Milestone “%(title)s” overdue by %(days)d days (%(date)s)", title=title, days=days, date=due_on)


def role_label(role: str) -> str:
    return {"owner": _("as the responsible person"), "head": _("as head of the lead unit"),
            "coordinator": _("as coordinator")}.get(role, role)


def queue_reminder_mail(user: User, notifications: list[Notification], today: dt.date) -> OutboxMessage | None:
    """One mail for all of `user`'s reminders of this scan (added to the session, not committed)."""
    db.session.flush()
    reminders = sorted((n.reminder for n in notifications), key=lambda r: (r.item_id, r.number))
    escalated = any(r.is_escalation for r in reminders)

    def subject():
        if escalated:
            return _("[Rectify] Escalation: %(n)d rectification items need action", n=len(reminders))
        return _("[Rectify] Reminder: %(n)d rectification items need action", n=len(reminders))

    subject_line, text, html = render(user, "reminders", subject, notifications=notifications,
                                      reminders=reminders, today=today)
    key = f"reminder:{user.id}:{today.isoformat()}:{min(n.id for n in notifications)}"
    message = outbox.queue(user, "reminder", key, subject_line, text, html)
    if message is not None:
        for notification in notifications:
            notification.outbox_message_id = message.id
    return message
