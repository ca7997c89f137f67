"""Units (单位): departments, townships and schools that own rectification items."""
from __future__ import annotations

import re

from sqlalchemy import ForeignKey, String, Text
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
    # Other names offices use for the unit (县人社局 for 县人力资源和社会保障局), one per line:
    # the importer matches a sheet's unit cells against them.
    aliases: Mapped[str] = mapped_column(Text, default="", server_default="")

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent")

    @property
    def alias_list(self) -> list[str]:
        return [a.strip() for a in re.split(r"[\n、，,；;]+", self.aliases or "") if a.strip()]

    def __str__(self) -> str:
        return self.name
