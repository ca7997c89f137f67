"""Rectification items (整改事项), their milestones and progress updates."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (CheckConstraint, Column, Enum, ForeignKey, Index, String, Table, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker import clock
from tracker.auth.models import User
from tracker.columns import UTCDateTime
from tracker.evaluations.models import Finding
from tracker.extensions import db
from tracker.units.models import Unit

# Field limits, shared by the forms and the model validators.
LIMITS = {"title": 200, "measures": 5000, "target": 2000, "responsible_leader": 100,
          "body": 5000, "reason": 2000, "milestone_title": 200,
          "ledger_no": 20, "owner_text": 100, "remarks": 5000, "deadline_text": 100}


class Status(enum.StrEnum):
    DRAFT = "draft"                # 待交办
    ASSIGNED = "assigned"          # 已交办
    IN_PROGRESS = "in_progress"    # 已签收·整改中
    SIGNOFF = "signoff"            # 待审核: staff prepared the submission, the unit's head signs it off
    SUBMITTED = "submitted"        # 申请销号
    RETURNED = "returned"          # 退回
    CLOSED = "closed"              # 已销号
    CANCELLED = "cancelled"        # 已撤销


OPEN_STATUSES = frozenset(set(Status) - {Status.CLOSED, Status.CANCELLED})
# Handed out and not finished: what lights, overdue counts and reminders are about (a draft is not late).
LIVE_STATUSES = OPEN_STATUSES - {Status.DRAFT}
PROGRESS_STATUSES = frozenset({Status.IN_PROGRESS, Status.RETURNED})  # acknowledged, not yet submitted
# Submitted and waiting for a decision on the evidence as it is: the unit head's sign-off, then the inspectors'.
WAITING_STATUSES = frozenset({Status.SIGNOFF, Status.SUBMITTED})


class ItemKind(enum.StrEnum):
    IMMEDIATE = "immediate"    # 立行立改
    DEADLINE = "deadline"      # 限期整改
    LONG_TERM = "long_term"    # 长期坚持


class ClosureResult(enum.StrEnum):
    RECTIFIED = "rectified"    # 已整改
    ONGOING = "ongoing"        # 持续整改


def _enum(cls, name):
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=20,
                values_callable=lambda e: [m.value for m in e])


item_cooperating_units = Table(
    "item_cooperating_units", db.metadata,
    Column("item_id", ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id"), primary_key=True, index=True),
)


class Item(db.Model):
    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint("progress_percent BETWEEN 0 AND 100", name="progress_range"),
        CheckConstraint("status <> 'closed' OR (closed_at IS NOT NULL AND closed_by_id IS NOT NULL "
                        "AND closure_result IS NOT NULL)", name="closed_has_closer"),
        CheckConstraint("status <> 'cancelled' OR (cancelled_at IS NOT NULL AND cancel_reason IS NOT NULL)",
                        name="cancelled_has_reason"),
        Index("ix_items_status_deadline", "status", "deadline"),
        Index("ix_items_lead_unit_status", "lead_unit_id", "status"),
        # The dashboard's closures per week.
        Index("ix_items_status_closed_at", "status", "closed_at"),
        # The reminder scan's pre-selection: unacknowledged and stale items.
        Index("ix_items_status_assigned_at", "status", "assigned_at"),
        Index("ix_items_status_last_activity_on", "status", "last_activity_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    title: Mapped[str] = mapped_column(String(LIMITS["title"]))
    measures: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    kind: Mapped[ItemKind] = mapped_column(_enum(ItemKind, "item_kind"))
    lead_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    responsible_leader: Mapped[str] = mapped_column(String(LIMITS["responsible_leader"]), default="")
    deadline: Mapped[dt.date]
    # The deadline first set; only an approved extension moves `deadline` away from it.
    original_deadline: Mapped[dt.date]
    status: Mapped[Status] = mapped_column(_enum(Status, "item_status"), default=Status.DRAFT)
    listed_supervision: Mapped[bool] = mapped_column(default=False, server_default="0")
    progress_percent: Mapped[int] = mapped_column(default=0, server_default="0")
    # What an imported ledger said and the database has no better place for: the sheet's own
    # number (序号, shown as the item's ledger number), the owner's name when no user of the lead
    # unit has it, the remarks (备注), and the deadline as the office wrote it (e.g. 长期坚持: a
    # long-term item whose `deadline` is then the review date the admin set in the preview).
    ledger_no: Mapped[str] = mapped_column(String(LIMITS["ledger_no"]), default="", server_default="")
    owner_text: Mapped[str] = mapped_column(String(LIMITS["owner_text"]), default="", server_default="")
    remarks: Mapped[str] = mapped_column(Text, default="", server_default="")
    deadline_text: Mapped[str] = mapped_column(String(LIMITS["deadline_text"]), default="", server_default="")

    # Schedule columns behind the traffic light (see lights.py), kept by services.
    start_on: Mapped[dt.date | None]
    behind_on: Mapped[dt.date | None]
    last_activity_on: Mapped[dt.date]

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    assigned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closure_result: Mapped[ClosureResult | None] = mapped_column(_enum(ClosureResult, "closure_result"))
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    return_reason: Mapped[str | None] = mapped_column(Text)
    acceptance_opinion: Mapped[str | None] = mapped_column(Text)  # 验收意见, written when closing
    # The unit head's comment when sending a staff member's submission back (单位负责人审核).
    signoff_comment: Mapped[str | None] = mapped_column(Text)
    # Optimistic lock: bumped by every service write.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    finding: Mapped[Finding] = relationship()
    lead_unit: Mapped[Unit] = relationship(foreign_keys=[lead_unit_id])
    cooperating_units: Mapped[list[Unit]] = relationship(secondary=item_cooperating_units,
                                                         order_by=Unit.name)
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="item", order_by="Milestone.due_on", cascade="all, delete-orphan")
    progress_updates: Mapped[list[ProgressUpdate]] = relationship(
        back_populates="item", order_by="ProgressUpdate.created_at.desc()")

    # -- permission questions (one place; pages, the API and services ask these) -------------
    def unit_ids(self) -> set[int]:
        return {self.lead_unit_id, *(u.id for u in self.cooperating_units)}

    def can_view(self, user: User) -> bool:
        if self.status == Status.DRAFT and not user.role.can_see_drafts():
            return False
        return user.role.can_read_everything() or (user.unit_id is not None and user.unit_id in self.unit_ids())

    def is_lead_member(self, user: User) -> bool:
        return user.unit_id is not None and user.unit_id == self.lead_unit_id

    def _worker_of_unit(self, user: User, *, lead_only: bool) -> bool:
        """Admins, and heads and staff of the item's (lead) unit."""
        if user.role.can_administer():
            return True
        if not user.role.can_work_on_items() or not self.can_view(user):
            return False
        return self.is_lead_member(user) if lead_only else self.can_view(user)

    def can_edit(self, user: User) -> bool:
        return user.role.can_administer() and self.is_open

    def can_post_progress(self, user: User) -> bool:
        if self.status not in PROGRESS_STATUSES:
            return False
        return self._worker_of_unit(user, lead_only=False)

    def can_attach_evidence(self, user: User) -> bool:
        """The item's units and admins add evidence while the item is open."""
        return self.is_open and self._worker_of_unit(user, lead_only=False)

    def can_withdraw_evidence(self, user: User, uploader_unit_id: int | None) -> bool:
        """Admins, and the uploader's unit while the item is open and not waiting for closure (its
        evidence is what the inspector decides on: the unit takes the submission back first)."""
        if not self.is_open:
            return False
        if user.role.can_administer():
            return True
        return (user.role.can_work_on_items() and user.unit_id == uploader_unit_id
                and self.status not in WAITING_STATUSES)

    def can_complete_milestones(self, user: User) -> bool:
        return self.is_open and self._worker_of_unit(user, lead_only=True)

    def can_request_extension(self, user: User) -> bool:
        return self.is_open and self.status != Status.DRAFT and self._worker_of_unit(user, lead_only=True)

    def can_supervise(self, user: User) -> bool:
        """Deciders set the evidence checklist and listed supervision of an open item."""
        return user.role.can_decide() and self.is_open

    def can_recheck(self, user: User) -> bool:
        """Deciders schedule and record re-checks of a closed item."""
        return user.role.can_decide() and self.status == Status.CLOSED

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Milestone(db.Model):
    """A stage target (阶段目标) of an item, with its own date."""

    __tablename__ = "milestones"
    # The reminder scan's open milestones falling due.
    __table_args__ = (Index("ix_milestones_done_due_on", "done", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(LIMITS["milestone_title"]))
    due_on: Mapped[dt.date]
    done: Mapped[bool] = mapped_column(default=False, server_default="0")
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    item: Mapped[Item] = relationship(back_populates="milestones")


class ProgressUpdate(db.Model):
    """A progress report (进展) posted by the item's units."""

    __tablename__ = "progress_updates"
    __table_args__ = (
        CheckConstraint("percent BETWEEN 0 AND 100", name="percent_range"),
        # The form carries a one-time key, so a double-submitted form cannot post twice.
        UniqueConstraint("item_id", "submission_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    percent: Mapped[int]
    submission_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    item: Mapped[Item] = relationship(back_populates="progress_updates")
    author: Mapped[User] = relationship()
