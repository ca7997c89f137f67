"""Two people changing one item at once: the optimistic lock and what the loser is shown.

Every service write bumps `Item.version` (SQLAlchemy's version_id_col): the UPDATE says
`WHERE id = ? AND version = ?`, so of two transactions that read the same version only the first
to commit changes the row; the other's UPDATE matches nothing (on PostgreSQL it waits for the
first one's row lock, then finds the version moved on) and SQLAlchemy raises StaleDataError.
`guarded` turns that into a Conflict with nothing saved. The edit form also carries the version
it was opened with and the newest journal entry then, so the second editor is told exactly which
fields the other person changed (old -> new) while their own typed values stay in the form.
"""
from __future__ import annotations

import functools

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from tracker.errors import Conflict
from tracker.extensions import db
from tracker.journal import JournalEntry


def stale_message() -> str:
    return _("Someone else changed this item at the same time. "
             "Reload the page to see their change, then try again.")


def guarded(service):
    """Decorate a service `f(actor, item, ...)`: a lost race at any flush or commit is a Conflict."""
    @functools.wraps(service)
    def run(actor, item, *args, **kw):
        item_id = item.id
        try:
            return service(actor, item, *args, **kw)
        except StaleDataError:
            db.session.rollback()
            raise Conflict(stale_message(), item_id) from None
    return run


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
