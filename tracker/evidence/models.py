"""Evidence files (佐证材料): immutable, content-addressed, attributable."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker import clock
from tracker.auth.models import User
from tracker.columns import UTCDateTime
from tracker.extensions import db
from tracker.items.models import Item, ProgressUpdate


# What the preview route serves inline (anything else is only downloaded).
PREVIEWABLE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "application/pdf"})


class Evidence(db.Model):
    __tablename__ = "evidence"
    __table_args__ = (
        # The same bytes are attached to an item once.
        UniqueConstraint("item_id", "sha256"),
        CheckConstraint("size > 0", name="not_empty"),
        CheckConstraint("NOT withdrawn OR (withdrawn_at IS NOT NULL AND withdrawn_by_id IS NOT NULL "
                        "AND withdraw_reason IS NOT NULL)", name="withdrawn_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    progress_update_id: Mapped[int | None] = mapped_column(ForeignKey("progress_updates.id"), index=True)
    # The checklist entry (EvidenceRequirement) this file satisfies, if any.
    requirement_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_requirements.id"), index=True)
    # The cooperating unit's part (tracker.parts) this file was posted for, if any.
    part_id: Mapped[int | None] = mapped_column(ForeignKey("parts.id"), index=True)
    # Where the bytes live in the storage (content-addressed: derived from the hash).
    storage_key: Mapped[str] = mapped_column(String(200))
    original_name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(120))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    withdrawn: Mapped[bool] = mapped_column(default=False, server_default="0")
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdraw_reason: Mapped[str | None] = mapped_column(Text)

    item: Mapped[Item] = relationship()
    progress_update: Mapped[ProgressUpdate | None] = relationship()
    uploaded_by: Mapped[User] = relationship(foreign_keys=[uploaded_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])

    @property
    def is_previewable(self) -> bool:
        return self.content_type in PREVIEWABLE_TYPES


class EvidenceRequirement(db.Model):
    """One entry of an item's required-evidence checklist (e.g. 立项批复, 用地划拨, 竣工验收)."""

    __tablename__ = "evidence_requirements"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    item: Mapped[Item] = relationship()
