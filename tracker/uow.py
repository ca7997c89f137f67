"""One unit of work: services check, change, journal and flush; the view, job or command commits.

A write that lost a race -- the item's version moved on under it (StaleDataError), or a unique index
that someone else's row now fills (two pending extension requests, the same unit name) -- is one
`Conflict`, which tracker/errors.py answers the same way for pages and the API: 409 with what changed.
Nothing of the losing request is kept: the session is rolled back before the Conflict is raised.
"""
from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from tracker import clock
from tracker.database import is_unique_violation
from tracker.errors import Conflict
from tracker.extensions import db
from tracker.items.models import Item


def lost_race(exc: BaseException) -> bool:
    """True when `exc` means someone else saved first (not a bug in the request)."""
    return isinstance(exc, StaleDataError) or (isinstance(exc, IntegrityError) and is_unique_violation(exc))


@contextmanager
def settled(item_id: int | None = None) -> Iterator[None]:
    """A lost race inside the block (at any flush) rolls back and becomes a Conflict about `item_id`."""
    try:
        yield
    except (StaleDataError, IntegrityError) as exc:
        if not lost_race(exc):
            raise
        db.session.rollback()
        raise Conflict(item_id) from None


def guarded(service):
    """Decorate a service `f(actor, item_or_other, ...)`: a lost race anywhere in it is a Conflict
    naming the item (so a view can keep the user's typed text and show what changed)."""
    @functools.wraps(service)
    def run(actor, target, *args, **kw):
        with settled(target.id if isinstance(target, Item) else None):
            return service(actor, target, *args, **kw)
    return run


def touch(item: Item) -> None:
    """Move the item's version (and `updated_at`) even when no column of it changes: a write to any
    part of the item (its evidence, requests, re-checks) then loses to, or beats, a concurrent one."""
    item.updated_at = clock.now()
    flag_modified(item, "updated_at")


def flush(item_id: int | None = None) -> None:
    """Send the changes so far: a service's last step (the caller commits)."""
    with settled(item_id):
        db.session.flush()


def commit(item_id: int | None = None) -> None:
    """End the unit of work: views, the API, jobs and commands call this once, after the service."""
    with settled(item_id):
        db.session.commit()
