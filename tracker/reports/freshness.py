"""Cached dashboard numbers (and search hits) that are never stale.

Every transaction that changes an item (any column, its cooperating units), a finding, a unit, an
evaluation or an indicator gives the `items` token (tracker/catalogue.py) a new random value just
before it commits, in the same transaction: whoever reads the token afterwards also sees the
change. The cache key holds the token, so a cached value is only ever served for the state it was
computed from. Hooking the session rather than each service means no write path (workflow,
progress, evidence, milestones, extensions, imports, admin edits, jobs) can forget it.

The token is written last in the transaction, so the row lock it takes on PostgreSQL is held
only until the commit and never waited for while holding it (no lock cycles).
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from itertools import chain
from typing import TypeVar

from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session

from tracker import catalogue
from tracker.catalogue import ITEMS, CatalogueVersion
from tracker.evaluations.models import Evaluation, Finding, Indicator
from tracker.extensions import db
from tracker.items.models import Item, item_cooperating_units
from tracker.units.models import Unit

log = logging.getLogger(__name__)

# Indicators too: the dashboard's rendered framework shows their names and ratings.
WATCHED = (Item, Finding, Unit, Evaluation, Indicator)
WATCHED_TABLES = frozenset(t.name for t in (Item.__table__, Finding.__table__, Unit.__table__,
                                             Evaluation.__table__, Indicator.__table__, item_cooperating_units))
CHANGED = "dashboard_changed"
T = TypeVar("T")


@event.listens_for(Session, "before_flush")
def _note_changed_objects(session: Session, _context, _instances) -> None:
    if any(isinstance(obj, WATCHED) for obj in chain(session.new, session.dirty, session.deleted)):
        session.info[CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_changing_statements(state: ORMExecuteState) -> None:
    """UPDATE/INSERT/DELETE statements run through the session bypass the flush."""
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in WATCHED_TABLES:
            state.session.info[CHANGED] = True


@event.listens_for(Session, "before_commit")
def _renew_marker(session: Session) -> None:
    session.flush()  # the changes still pending are part of this commit: note them first
    if session.info.pop(CHANGED, False):
        catalogue.touch(session, catalogue.ITEMS)


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(CHANGED, None)
        session.info.pop(MARKER, None)


MARKER = "items_marker"


def marker() -> str | None:
    """The current token; None before the first change (nothing may be cached then).

    Read once per transaction (a page asks for it for its counts and again for its rows); a commit
    or rollback ends the transaction and the next call reads it again."""
    info = db.session.info
    if MARKER not in info:
        info[MARKER] = db.session.scalar(select(CatalogueVersion.token).where(CatalogueVersion.name == ITEMS))
    return info[MARKER]


class Cache:
    """A small per-process LRU, keyed by (marker, ...); safe for threaded workers."""

    def __init__(self, size: int = 256):
        self._size, self._entries, self._lock = size, OrderedDict(), threading.Lock()

    def peek(self, key: Hashable):
        """The cached value for `key` or None, without a lock (a dict read is atomic in CPython)
        and without refreshing its place: for hot paths that look up many keys per request."""
        return self._entries.get(key)

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value for `key`, or compute it (and keep it unless the marker is unknown)."""
        if key[0] is None:
            return compute()
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        value = compute()
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value
