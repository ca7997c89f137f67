"""The append-only audit journal: who changed what, when, from which value to which."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker import clock
from tracker.auth.models import User
from tracker.columns import UTCDateTime
from tracker.extensions import db


class JournalEntry(db.Model):
    __tablename__ = "journal_entries"
    # The statistics count the returns (退回) up to a day.
    __table_args__ = (Index("ix_journal_entries_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int]
    # Set for anything that belongs to an item, so the item page shows one timeline.
    item_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(40))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[User | None] = relationship()


@event.listens_for(JournalEntry, "before_update")
@event.listens_for(JournalEntry, "before_delete")
def _append_only(mapper, connection, target):
    raise RuntimeError("journal entries are append-only")


def plain(value: Any) -> Any:
    """JSON-friendly form of a column value."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    if isinstance(value, (list, tuple, set)):
        return sorted(plain(v) for v in value)
    return str(value)


def apply_changes(obj: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set attributes on obj and return the {field: [old, new]} diff of those that changed."""
    diff: dict[str, list[Any]] = {}
    for field, new in values.items():
        old = getattr(obj, field)
        if plain(old) != plain(new):
            diff[field] = [plain(old), plain(new)]
            setattr(obj, field, new)
    return diff


def record(actor: User | None, action: str, obj: Any, changes: dict | None = None,
           note: str | None = None, item_id: int | None = None, flush: bool = True) -> JournalEntry:
    """Add a journal entry for obj (flushes to get ids; the caller commits).

    flush=False is for batch writers that flushed once already, so that obj.id is known."""
    if flush:
        db.session.flush()
    entry = JournalEntry(
        actor_id=actor.id if actor else None,
        object_type=obj.__tablename__,
        object_id=obj.id,
        item_id=item_id,
        action=action,
        changes=changes or {},
        note=note,
        at=clock.now(),
    )
    db.session.add(entry)
    return entry


def entry(actor: User | None, action: str, object_type: str, object_id: int, changes: dict | None = None,
          note: str | None = None, item_id: int | None = None) -> dict[str, Any]:
    """The columns of one journal entry, for jobs that insert thousands at once."""
    return {"actor_id": actor.id if actor else None, "object_type": object_type, "object_id": object_id,
            "item_id": item_id, "action": action, "changes": changes or {}, "note": note, "at": clock.now()}

