"""The outbox, the reminder record and the scheduler's bookkeeping.

- `OutboxMessage`: one message to send, on its channel (e-mail, a unit's group robot, SMS); the de-duplication key makes queueing idempotent and the
  status column (claimed by one sender at a time) makes sending happen once.
- `Reminder`: one reminder or escalation about an item (第N次催办), with its `Notification` rows
  (who received it). Leaders read this record in 约谈, so it is never deleted.
- `SchedulerLease` and `JobRun`: which process may run a job now, and what the last runs did.
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker import clock
from tracker.auth.models import User
from tracker.columns import UTCDateTime
from tracker.extensions import db
from tracker.items.models import Item, Milestone
from tracker.parts.models import Part
from tracker.units.models import Unit


def _enum(cls, name):
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=20,
                values_callable=lambda e: [m.value for m in e])


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"    # waiting for a sender (also after a failed attempt, until the limit)
    SENDING = "sending"    # claimed by one sender
    SENT = "sent"
    FAILED = "failed"      # gave up (attempt limit, or no usable address); `outbox retry` requeues


class OutboxChannel(enum.StrEnum):
    EMAIL = "email"   # to_address is the e-mail address
    ROBOT = "robot"   # unit_id names the unit whose group robot receives it (to_address stays empty)
    SMS = "sms"       # to_address is the mobile number


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
        Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # kind + recipient + period (+ item): a second scan or digest run finds the row and adds nothing.
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[OutboxChannel] = mapped_column(_enum(OutboxChannel, "outbox_channel"),
                                                   default=OutboxChannel.EMAIL, server_default="email")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str] = mapped_column(String(100), default="")
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus, "outbox_status"),
                                                 default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    recipient: Mapped[User | None] = relationship()
    unit: Mapped[Unit | None] = relationship()


class RobotQuota(db.Model):
    """The moments of the last messages handed to one group robot (keyed by its webhook's hash):
    the robot accepts ROBOT_MAX_PER_MINUTE a minute, and every sender process counts here."""

    __tablename__ = "robot_quotas"

    robot: Mapped[str] = mapped_column(String(40), primary_key=True)
    recent: Mapped[str] = mapped_column(Text, default="")   # epoch seconds, comma-separated, oldest first


class ReminderKind(enum.StrEnum):
    DUE_SOON = "due_soon"                      # before the deadline, at a configured offset
    OVERDUE = "overdue"                        # first overdue day, then every N days
    ESCALATION = "escalation"                  # overdue for M days, or listed supervision
    UNACKNOWLEDGED = "unacknowledged"          # not acknowledged (签收) in time
    STALE = "stale"                            # no progress for STALE_DAYS
    MILESTONE_DUE = "milestone_due"
    MILESTONE_OVERDUE = "milestone_overdue"


class Reminder(db.Model):
    """One reminder (催办) or escalation about one item, sent on one day to one or more people."""

    __tablename__ = "reminders"
    __table_args__ = (
        # The occasion (e.g. "overdue:2026-03-01:2") happens once per item: scans are idempotent.
        UniqueConstraint("item_id", "occasion"),
        Index("ix_reminders_unit_on", "unit_id", "sent_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id", ondelete="CASCADE"))
    # A cooperating unit's part (tracker.parts) the reminder is about; its unit is then `unit_id`.
    part_id: Mapped[int | None] = mapped_column(ForeignKey("parts.id", ondelete="CASCADE"))
    # The lead unit when the reminder was sent (the per-unit record must not move with the item), or
    # the cooperating unit whose part it is about.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    kind: Mapped[ReminderKind] = mapped_column(_enum(ReminderKind, "reminder_kind"))
    occasion: Mapped[str] = mapped_column(String(100))
    number: Mapped[int]                                  # 第N次催办 for this item
    days: Mapped[int] = mapped_column(default=0)         # days left, overdue or idle
    sent_on: Mapped[dt.date]                             # local date of the scan
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    item: Mapped[Item] = relationship()
    milestone: Mapped[Milestone | None] = relationship()
    part: Mapped[Part | None] = relationship()
    unit: Mapped[Unit] = relationship()
    notifications: Mapped[list[Notification]] = relationship(back_populates="reminder",
                                                             order_by="Notification.id")

    @property
    def is_escalation(self) -> bool:
        return self.kind == ReminderKind.ESCALATION


class Notification(db.Model):
    """One person told about one reminder: the in-app notifications list and the mail's lines."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("reminder_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminders.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))       # owner, head or coordinator
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    reminder: Mapped[Reminder] = relationship(back_populates="notifications")
    user: Mapped[User] = relationship()
    outbox_message: Mapped[OutboxMessage | None] = relationship()


class SchedulerLease(db.Model):
    """Who may run a job until when: a second scheduler process finds the lease taken and skips."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class JobRun(db.Model):
    """One run of a scheduled job, for the admin page."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40), index=True)
    holder: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(default=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    day: Mapped[dt.date | None] = mapped_column(default=None)   # the day a daily scan completed for


class NoticeKind(enum.StrEnum):
    """What happened to an item that someone must hear of (event notices, not deadline reminders)."""
    ASSIGNED = "assigned"                        # 交办
    RETURNED = "returned"                        # 退回
    SUBMITTED = "submitted"                      # 申请销号
    EXTENSION_REQUESTED = "extension_requested"  # 延期申请
    EXTENSION_APPROVED = "extension_approved"
    EXTENSION_REFUSED = "extension_refused"
    LISTED = "listed"                            # 挂牌督办 set
    UNLISTED = "unlisted"                        # 挂牌督办 lifted
    RECHECK_HOLDS = "recheck_holds"              # 回头看: the rectification holds
    RECHECK_BACK = "recheck_back"                # 回头看: the problem is back, the item reopened
    REOPENED = "reopened"
    CANCELLED = "cancelled"
    REQUIREMENT_ADDED = "requirement_added"      # a new required-evidence entry
    MILESTONE_MISSED = "milestone_missed"
    SIGNOFF_REQUESTED = "signoff_requested"      # staff submitted: waiting for the unit head's sign-off
    SENT_BACK = "sent_back"                      # the unit head sent the staff's submission back


class Notice(db.Model):
    """One person told of one event on an item: shown on their notifications page at once, and
    gathered with the other notices of their window into one message (`gathered_at`, `outbox_message`)."""

    __tablename__ = "notices"
    __table_args__ = (
        Index("ix_notices_user_created", "user_id", "created_at"),
        Index("ix_notices_pending", "gathered_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    kind: Mapped[NoticeKind] = mapped_column(_enum(NoticeKind, "notice_kind"))
    role: Mapped[str] = mapped_column(String(20))       # why this person: owner, head, cooperating, ...
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    detail: Mapped[str | None] = mapped_column(Text)    # the reason, comment, finding or entry
    on_date: Mapped[dt.date | None]                      # the deadline asked for, the milestone's date
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    gathered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"), index=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    item: Mapped[Item] = relationship()
    outbox_message: Mapped[OutboxMessage | None] = relationship()


class NoticePreference(db.Model):
    """A person's choice for one topic of notice on one channel; no row means on."""

    __tablename__ = "notice_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(30), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True, default="email", server_default="email")
    enabled: Mapped[bool] = mapped_column(default=True, server_default="1")


class UnitInspector(db.Model):
    """The inspector who handles a unit (分管督学): told of its submissions instead of every inspector."""

    __tablename__ = "unit_inspectors"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
