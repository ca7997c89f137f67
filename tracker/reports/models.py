"""What the dashboard keeps in the database: its covering index and its "items changed" marker."""
from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String

from tracker.extensions import db
from tracker.items.models import Item

# The dashboard's one grouped pass (per lead unit: statuses, lights; optionally one evaluation's
# findings) reads only this index, never the wide item rows.
dashboard_index = Index(
    "ix_items_dashboard", Item.lead_unit_id, Item.status, Item.deadline, Item.behind_on,
    Item.last_activity_on, Item.finding_id)

# One row whose token changes in every transaction that changes items, findings, units or
# evaluations (see freshness.py). A random token, not a counter: a database emptied and refilled
# can never show a cached dashboard an earlier token of its own.
dashboard_marker = db.Table(
    "dashboard_marker", db.metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("token", String(32), nullable=False),
)
MARKER_ID = 1
