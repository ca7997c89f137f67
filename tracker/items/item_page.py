"""What the item page lists of the item itself (progress updates, milestones, the journal), read as
plain rows; evidence.page and inspection.page add their parts through items.hooks.

An item at province scale has dozens of updates, files and journal entries. Built as ORM objects with
their users, and each given its links by `url_for`, they cost several times the page's SQL; plain
rows of the shown columns, with links made from one `url_for` per kind of link, do not.
"""
from __future__ import annotations

from sqlalchemy import bindparam, select

from tracker.auth.models import User
from tracker.extensions import db
from tracker.items import presentation
from tracker.items.models import Milestone, ProgressUpdate
from tracker.journal import JournalEntry

# The statements are built once: building one costs more than running it.
_UPDATES = (select(ProgressUpdate.id, ProgressUpdate.created_at, ProgressUpdate.percent, ProgressUpdate.body,
                   User.name.label("author"))
            .outerjoin(User, User.id == ProgressUpdate.author_id)
            .where(ProgressUpdate.item_id == bindparam("item_id"))
            .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc()))


def _rows(statement, item_id: int) -> list:
    """The rows of one of this module's statements for the item. Run on the session's connection: plain
    rows need nothing of the ORM's result handling, which costs more than most of these statements."""
    return db.session.connection().execute(statement, {"item_id": item_id}).all()


def progress_updates(item_id: int) -> list:
    """The item's progress updates, newest first, with their author's name."""
    return _rows(_UPDATES, item_id)


# In the order of Item.milestones.
_MILESTONES = (select(Milestone.id, Milestone.title, Milestone.due_on, Milestone.done)
               .where(Milestone.item_id == bindparam("item_id")).order_by(Milestone.due_on))


def milestones(item_id: int) -> list:
    """The item's milestones, earliest first."""
    return _rows(_MILESTONES, item_id)


_JOURNAL = (select(JournalEntry.id, JournalEntry.at, JournalEntry.action, JournalEntry.changes, JournalEntry.note,
                   User.name.label("actor_name"))
            .outerjoin(User, User.id == JournalEntry.actor_id)
            .where(JournalEntry.item_id == bindparam("item_id"))
            .order_by(JournalEntry.at.desc(), JournalEntry.id.desc()))


def journal(item_id: int) -> list[dict]:
    """The item's journal, newest first, as `presentation.journal_rows` (entries are plain rows
    with the actor's name as `actor_name`)."""
    return presentation.journal_rows(_rows(_JOURNAL, item_id))
