"""Evaluation rounds, their indicator framework, and the problems (findings) they found."""
from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db


class Rating(enum.StrEnum):
    FULLY = "fully"          # 完全落实
    BASICALLY = "basically"  # 基本落实
    NOT_YET = "not_yet"      # 尚未落实


def _enum(cls, name):
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=20,
                values_callable=lambda e: [m.value for m in e])


class Evaluation(db.Model):
    """An evaluation round (履行教育职责评价), e.g. the 2019 self-evaluation of a county."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    year: Mapped[int]
    issuing_body: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[dt.date | None]

    indicators: Mapped[list[Indicator]] = relationship(
        back_populates="evaluation", order_by="Indicator.sort_key")
    findings: Mapped[list[Finding]] = relationship(back_populates="evaluation", order_by="Finding.id")

    def __str__(self) -> str:
        return self.title


class Indicator(db.Model):
    """One node of the three-level indicator framework (一级/二级/三级指标)."""

    __tablename__ = "indicators"
    __table_args__ = (
        UniqueConstraint("evaluation_id", "code"),
        CheckConstraint("level BETWEEN 1 AND 3", name="level_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("indicators.id"))
    level: Mapped[int]
    code: Mapped[str] = mapped_column(String(20))
    # Zero-padded code so that 3.10 sorts after 3.9.
    sort_key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    self_rating: Mapped[Rating | None] = mapped_column(_enum(Rating, "indicator_rating"))
    # The rating after rectification, set by an inspector or admin (None: not re-rated yet).
    rating_after: Mapped[Rating | None] = mapped_column(_enum(Rating, "indicator_rating_after"))
    score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))

    evaluation: Mapped[Evaluation] = relationship(back_populates="indicators")
    parent: Mapped[Indicator | None] = relationship(remote_side=[id])

    @staticmethod
    def sort_key_for(code: str) -> str:
        return ".".join(part.zfill(4) for part in code.split("."))

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Finding(db.Model):
    """A problem found in an evaluation (存在的问题); rectification items address it."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), index=True)
    # Indexed: the dashboard lists the items of an evaluation's indicators; without it PostgreSQL
    # read every finding per dashboard view.
    indicator_id: Mapped[int | None] = mapped_column(ForeignKey("indicators.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(50))

    evaluation: Mapped[Evaluation] = relationship(back_populates="findings")
    indicator: Mapped[Indicator | None] = relationship()

    @property
    def short_text(self) -> str:
        return self.text if len(self.text) <= 60 else self.text[:60] + "…"

    def __str__(self) -> str:
        return self.short_text
