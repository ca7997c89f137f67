"""Inspection side of an item: deadline extensions and re-checks (回头看); the required-evidence
checklist is evidence.models.EvidenceRequirement."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Enum, ForeignKey, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker import clock
from tracker.auth.models import User
from tracker.columns import UTCDateTime
from tracker.extensions import db
from tracker.items.models import Item


def _enum(cls, name):
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=20,
                values_callable=lambda e: [m.value for m in e])


class ExtensionStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"  # settled without a decision: the item was closed, cancelled or reopened


class ExtensionRequest(db.Model):
    """A request to move the deadline (延期申请); the original deadline stays on the item."""

    __tablename__ = "extension_requests"
    __table_args__ = (
        # At most one pending request per item, enforced by the database too.
        Index("uq_extension_requests_one_pending", "item_id", unique=True,
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    current_deadline: Mapped[dt.date]
    requested_deadline: Mapped[dt.date]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ExtensionStatus] = mapped_column(_enum(ExtensionStatus, "extension_status"),
                                                    default=ExtensionStatus.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(Text)

    item: Mapped[Item] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class RecheckOutcome(enum.StrEnum):
    HOLDS = "holds"                  # the rectification holds
    PROBLEM_BACK = "problem_back"    # the problem is back: the item reopens


class Recheck(db.Model):
    """A scheduled re-check (回头看) of a closed item."""

    __tablename__ = "rechecks"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    due_on: Mapped[dt.date] = mapped_column(index=True)
    scheduled_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[RecheckOutcome | None] = mapped_column(_enum(RecheckOutcome, "recheck_outcome"))
    finding: Mapped[str | None] = mapped_column(Text)

    item: Mapped[Item] = relationship()
    scheduled_by: Mapped[User] = relationship(foreign_keys=[scheduled_by_id])
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])
