"""Units (单位): departments, townships and schools that own rectification items."""
from __future__ import annotations

import enum
import re

from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db

NAME_MAX = 100
CODE_MAX = 40


WEBHOOK_MAX = 500


class RobotKind(enum.StrEnum):
    """The group robots a unit's group chat may have (政务钉钉 / 企业微信)."""
    DINGTALK = "dingtalk"
    WECOM = "wecom"


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
    # The unit's group robot (tracker/notifications/channels.py): its kind, webhook, DingTalk's
    # signing secret, and which kinds of message go to the group (comma-separated ROBOT_TOPICS).
    robot_kind: Mapped[RobotKind | None] = mapped_column(Enum(
        RobotKind, name="robot_kind", native_enum=False, create_constraint=True, length=10,
        values_callable=lambda e: [m.value for m in e]))
    robot_webhook: Mapped[str | None] = mapped_column(String(WEBHOOK_MAX))
    robot_secret: Mapped[str | None] = mapped_column(String(200))
    robot_topics: Mapped[str] = mapped_column(String(300), default="", server_default="")
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

    @property
    def has_robot(self) -> bool:
        return self.robot_kind is not None and bool(self.robot_webhook)

    def robot_hears(self, topic: str) -> bool:
        """Whether messages of this kind go to the unit's group robot."""
        return self.has_robot and topic in self.robot_topics.split(",")
