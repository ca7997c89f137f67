"""Reading the notifications and the outbox for the pages, and a person's own settings."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tracker import journal, uow
from tracker.auth.models import User
from tracker.errors import Invalid
from tracker.extensions import db
from tracker.notifications import channels
from tracker.notifications.models import Notification, OutboxMessage, OutboxStatus, Reminder
from tracker.parts.models import Part


def _change(user: User, values: dict) -> dict:
    """Apply the user's own settings, journaled (a mobile number masked); returns the diff."""
    changes = journal.apply_changes(user, values)
    if "mobile" in changes:
        changes["mobile"] = [channels.masked(v) if v else v for v in changes["mobile"]]
    if changes:
        journal.record(user, "update", user, changes)
    uow.flush()
    return changes


def set_digest_opt_out(user: User, opt_out: bool) -> dict:
    """Switch the user's weekly digest off (or on again); returns the journaled diff."""
    return _change(user, {"digest_opt_out": bool(opt_out)})


def set_channels(user: User, mobile: str | None, sms_enabled: bool, email_enabled: bool) -> dict:
    """The user's own mobile number (normalised; Invalid when not a mainland mobile) and channels."""
    try:
        number = channels.normalise_mobile(mobile)
    except ValueError:
        raise Invalid({"mobile": channels.mobile_error()}) from None
    return _change(user, {"mobile": number, "sms_enabled": bool(sms_enabled), "email_enabled": bool(email_enabled)})


def notifications_of(user: User, page: int, per_page: int):
    """The user's reminders and escalations, newest first."""
    query = (select(Notification).where(Notification.user_id == user.id)
             .order_by(Notification.created_at.desc(), Notification.id.desc())
             .options(selectinload(Notification.reminder).selectinload(Reminder.item),
                      selectinload(Notification.reminder).selectinload(Reminder.part).selectinload(Part.unit),
                      selectinload(Notification.outbox_message)))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def outbox_page(status: OutboxStatus | None, page: int, per_page: int):
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def outbox_counts() -> dict[OutboxStatus, int]:
    counts = dict(db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    return {status: counts.get(status, 0) for status in OutboxStatus}
