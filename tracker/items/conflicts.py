"""Two people changing one item at once: the optimistic lock and what the loser is shown.

Every service write bumps `Item.version` (SQLAlchemy's version_id_col): the UPDATE says
`WHERE id = ? AND version = ?`, so of two transactions that read the same version only the first
to commit changes the row; the other's UPDATE matches nothing (on PostgreSQL it waits for the
first one's row lock, then finds the version moved on) and SQLAlchemy raises StaleDataError.
tracker/uow.py turns that into a Conflict with nothing saved, which tracker/errors.py answers with 409
and the item's latest changes. The edit form also carries the version
it was opened with and the newest journal entry then, so the second editor is told exactly which
fields the other person changed (old -> new) while their own typed values stay in the form.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tracker.extensions import db
from tracker.journal import JournalEntry


def latest_entries(item_id: int, limit: int = 5) -> list[JournalEntry]:
    """The item's newest journal entries, newest first: what the loser of a race is shown."""
    return db.session.scalars(
        select(JournalEntry).where(JournalEntry.item_id == item_id)
        .options(selectinload(JournalEntry.actor)).order_by(JournalEntry.id.desc()).limit(limit)).all()


def entry_json(entry: JournalEntry) -> dict:
    """A journal entry as the API shows it in a conflict: who did what, when, field by field."""
    return {"action": entry.action, "at": entry.at.isoformat(), "by": entry.actor.name if entry.actor else None,
            "changes": {name: list(change) for name, change in entry.changes.items()}}


def latest_entry_id(item_id: int) -> int:
    """The newest journal entry of the item (0 when none): the form remembers what its reader saw."""
    return db.session.scalar(select(func.max(JournalEntry.id)).where(JournalEntry.item_id == item_id)) or 0


def entries_since(item_id: int, seen_entry_id: str | int | None) -> list[JournalEntry]:
    """Journal entries of the item written after `seen_entry_id`, oldest first ([] when unknown)."""
    if not str(seen_entry_id or "").isdigit():
        return []
    return db.session.scalars(
        select(JournalEntry).where(JournalEntry.item_id == item_id, JournalEntry.id > int(seen_entry_id))
        .options(selectinload(JournalEntry.actor)).order_by(JournalEntry.id)).all()
