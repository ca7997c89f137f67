"""What the reports keep in the database: the dashboard's covering index (its cache key:
tracker/cache.py), and which uploaded sheets were imported."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker import clock
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
