"""What the reports keep in the database: the dashboard's covering index (its cache key:
tracker/cache.py), which uploaded sheets were imported, the 督办单 issued and their numbers."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker import clock
from tracker.auth.models import User
from tracker.columns import UTCDateTime
from tracker.extensions import db
from tracker.items.models import Item


class ImportClaim(db.Model):
    """An uploaded sheet taken by its import, in the import's own transaction: a second confirm of
    the same upload (a double click, two tabs) finds it taken and writes nothing."""
    __tablename__ = "import_claims"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

# The dashboard's one grouped pass (per lead unit: statuses, lights; optionally one evaluation's
# findings) reads only this index, never the wide item rows.
dashboard_index = Index(
    "ix_items_dashboard", Item.lead_unit_id, Item.status, Item.deadline, Item.behind_on,
    Item.last_activity_on, Item.finding_id)


class DocumentNumber(db.Model):
    """The last number given in a series of papers per year (督办单: 〔2026〕第N号). Taken by one
    atomic upsert (`papers.next_number`), so two notices issued at once never share a number."""
    __tablename__ = "document_numbers"

    series: Mapped[str] = mapped_column(String(30), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int]


class SupervisionNotice(db.Model):
    """A 督办单 issued for an item: its number and what it asked; the document is rendered from this."""
    __tablename__ = "supervision_notices"
    __table_args__ = (UniqueConstraint("year", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    year: Mapped[int]
    number: Mapped[int]
    issued_on: Mapped[dt.date]
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requirement: Mapped[str] = mapped_column(Text)
    reply_by: Mapped[dt.date]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    item: Mapped[Item] = relationship()
    issued_by: Mapped[User] = relationship()

    @property
    def reference(self) -> str:
        """The number as the paper writes it: 〔2026〕第3号."""
        return f"〔{self.year}〕第{self.number}号"
