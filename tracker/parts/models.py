"""A cooperating unit's part of an item, and the progress it posts on it."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker import clock
from tracker.auth.models import User
from tracker.columns import UTCDateTime
from tracker.extensions import db
from tracker.items.models import Item, Status
from tracker.units.models import Unit


class PartStatus(enum.StrEnum):
    PENDING = "pending"            # 待签收
    IN_PROGRESS = "in_progress"    # 办理中
    DONE = "done"                  # 已反馈
    RETURNED = "returned"          # 退回: the lead unit asks for more
    CANCELLED = "cancelled"        # the unit no longer cooperates on the item (kept, with its evidence)


# Not yet reported back: what a submission for closure waits on, and what reminders are about.
OPEN_PART_STATUSES = frozenset({PartStatus.PENDING, PartStatus.IN_PROGRESS, PartStatus.RETURNED})
WORKING_PART_STATUSES = frozenset({PartStatus.IN_PROGRESS, PartStatus.RETURNED})
# The item states in which the units work on their parts: handed out and not waiting for the inspectors.
ACTIVE_ITEM_STATUSES = frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.RETURNED})


def _enum(cls, name):
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=20,
                values_callable=lambda e: [m.value for m in e])


class Part(db.Model):
    __tablename__ = "parts"
    __table_args__ = (
        UniqueConstraint("item_id", "unit_id"),
        CheckConstraint("status <> 'done' OR (done_at IS NOT NULL AND statement IS NOT NULL)",
                        name="done_has_statement"),
        CheckConstraint("status <> 'returned' OR return_reason IS NOT NULL", name="returned_has_reason"),
        CheckConstraint("status <> 'cancelled' OR cancelled_at IS NOT NULL", name="cancelled_has_time"),
        # The reminder scan and the per-unit counts: open parts by deadline.
        Index("ix_parts_status_deadline", "status", "deadline"),
        Index("ix_parts_item_status_unit_deadline", "item_id", "status", "unit_id", "deadline"),  # the counts by unit
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    request: Mapped[str] = mapped_column(Text)           # what the unit is asked to do
    deadline: Mapped[dt.date]                            # never later than the item's
    status: Mapped[PartStatus] = mapped_column(_enum(PartStatus, "part_status"), default=PartStatus.PENDING)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_activity_on: Mapped[dt.date]
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    statement: Mapped[str | None] = mapped_column(Text)  # 反馈: what the unit did
    return_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The lead unit's head submitted the item while this part was open, for this reason.
    override_reason: Mapped[str | None] = mapped_column(Text)
    overridden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    item: Mapped[Item] = relationship()
    unit: Mapped[Unit] = relationship()
    overridden_by: Mapped[User | None] = relationship(foreign_keys=[overridden_by_id])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_PART_STATUSES

    # -- permission questions (pages, the API and the services ask these) --------------------
    def is_member(self, user: User) -> bool:
        """Heads and staff of the part's unit."""
        return user.role.acts_for_unit() and user.unit_id == self.unit_id

    def can_view(self, user: User, item: Item) -> bool:
        """Who may open the part's actions: readers of every unit, the lead unit, the part's unit.
        Another cooperating unit's part answers 404, exactly like a missing one."""
        if not item.can_view(user):
            return False
        return user.role.can_read_everything() or item.is_lead_member(user) or self.is_member(user)

    def _works(self, user: User, item: Item) -> bool:
        return (item.status in ACTIVE_ITEM_STATUSES
                and (user.role.can_administer() or (user.role.can_work_on_items() and self.is_member(user))))

    def can_acknowledge(self, user: User, item: Item) -> bool:
        return self.status == PartStatus.PENDING and self._works(user, item)

    def can_post_progress(self, user: User, item: Item) -> bool:
        return self.status in WORKING_PART_STATUSES and self._works(user, item)

    def can_report_done(self, user: User, item: Item) -> bool:
        return self.status in WORKING_PART_STATUSES and self._works(user, item)

    def can_return(self, user: User, item: Item) -> bool:
        """The lead unit's head (or an admin) asks for more: of a part reported back or under way."""
        if self.status not in (PartStatus.DONE, PartStatus.IN_PROGRESS) or item.status not in ACTIVE_ITEM_STATUSES:
            return False
        return user.role.can_administer() or (user.role.can_answer_for_unit() and item.is_lead_member(user))

    def can_edit(self, user: User, item: Item) -> bool:
        """The coordinator changes what a unit is asked to do and by when, while the part is open."""
        return user.role.can_administer() and self.is_open and item.is_open

    @staticmethod
    def can_override(user: User, item: Item) -> bool:
        """The lead unit's head (or an admin) may submit the item while parts are not done, with a reason."""
        return user.role.can_administer() or (user.role.can_answer_for_unit() and item.is_lead_member(user))


class PartUpdate(db.Model):
    """A progress entry a cooperating unit posts on its part."""

    __tablename__ = "part_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    part: Mapped[Part] = relationship()
    author: Mapped[User] = relationship()
