"""What the dashboard keeps in the database: its covering index (its cache key: tracker/cache.py)."""
from __future__ import annotations

from sqlalchemy import Index

from tracker.items.models import Item

# The dashboard's one grouped pass (per lead unit: statuses, lights; optionally one evaluation's
# findings) reads only this index, never the wide item rows.
dashboard_index = Index(
    "ix_items_dashboard", Item.lead_unit_id, Item.status, Item.deadline, Item.behind_on,
    Item.last_activity_on, Item.finding_id)
