"""Units (单位): departments, townships and schools that own rectification items."""
from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db

NAME_MAX = 100
CODE_MAX = 40


class Unit(db.Model):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    # Short ASCII code, used in demo user names (head-<code>) and exports.
    code: Mapped[str] = mapped_column(String(CODE_MAX), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    active: Mapped[bool] = mapped_column(default=True, server_default="1")
    # Staff (联络员) submissions for closure go to the unit's head first (单位负责人审核), where the
    # deployment asks for it too (UNIT_SIGNOFF).
    signoff_required: Mapped[bool] = mapped_column(default=True, server_default="1")

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent")

    def __str__(self) -> str:
        return self.name
