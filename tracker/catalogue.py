"""Tokens that key per-process caches which must never go stale: units, people, evaluations, items.

A province has thousands of units and people; the ledger's filter lists show them on every page.
Building those lists per request cost more than the rest of the page, so they are cached in each
worker process. The cache must stay correct across processes (several gunicorn workers, the CLI),
hence a row per catalogue holding a random token that every ORM change of a unit or a person's
listed attributes replaces inside the same transaction. A cache entry built under token T is used
only while the database still says T. Tokens are random, never counters, so a wiped table (the
test suite does that) cannot bring an old token back. The `items` token is renewed at commit by
tracker/reports/freshness.py; the dashboard and the ledger's searches and reddest-first
listings are cached under it. (Rendered ledger rows need no token: their key is what they show.)
"""
from __future__ import annotations

import secrets
from collections.abc import Callable

from sqlalchemy import Connection, Engine, String, event, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracker.extensions import db

UNITS = "units"
PEOPLE = "people"
EVALUATIONS = "evaluations"
# Renewed at commit by any change of items, findings, units, evaluations or indicators
# (tracker/reports/freshness.py): the key of the cached dashboard, search hits and listings.
ITEMS = "items"
# What the lists show of a person: a change of anything else (a sign-in, a password) is not a change.
_PERSON_FIELDS = ("name", "role", "unit_id", "active")
_UNIT_FIELDS = ("name", "active")
_EVALUATION_FIELDS = ("title", "year")


class CatalogueVersion(db.Model):
    __tablename__ = "catalogue_versions"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


def tokens() -> dict[str, str]:
    """Every catalogue's current token; a catalogue never stamped has none (nothing is cached)."""
    return dict(db.session.execute(select(CatalogueVersion.name, CatalogueVersion.token)).all())


def touch(executor: Session | Connection, name: str) -> None:
    """Give the catalogue a new token in the current transaction: one upsert, no read first.

    `executor` is the ORM session (during a flush or a commit) or a Core connection (bulk loads)."""
    connection = executor if isinstance(executor, Connection) else executor.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    token = secrets.token_hex(16)
    executor.execute(insert(CatalogueVersion.__table__).values(name=name, token=token)
                     .on_conflict_do_update(index_elements=["name"], set_={"token": token}))


_cache: dict[tuple, tuple[str, object]] = {}


def cached(name: str, key: tuple, build: Callable[[], object], current: dict[str, str]) -> object:
    """`build()` for this catalogue and key, rebuilt whenever the catalogue's token changed.

    `current` is tokens(), read before the rows: a change in between only makes the entry newer."""
    token = current.get(name)
    if token is None:
        return build()
    hit = _cache.get((name, *key))
    if hit is not None and hit[0] == token:
        return hit[1]
    value = build()
    _cache[(name, *key)] = (token, value)
    return value


def _changed(obj, fields: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[f].history.has_changes() for f in fields)


@event.listens_for(Session, "before_flush")
def _stamp_changed_catalogues(session: Session, _context, _instances) -> None:
    from tracker.auth.models import User
    from tracker.evaluations.models import Evaluation
    from tracker.units.models import Unit
    kinds = ((Unit, UNITS, _UNIT_FIELDS), (User, PEOPLE, _PERSON_FIELDS),
             (Evaluation, EVALUATIONS, _EVALUATION_FIELDS))
    touched = set()
    for obj in (*session.new, *session.deleted):
        touched.update(name for model, name, _fields in kinds if isinstance(obj, model))
    for obj in session.dirty:
        touched.update(name for model, name, fields in kinds if isinstance(obj, model) and _changed(obj, fields))
    for name in touched:
        touch(session, name)


# Statements that bypass the flush (ORM-enabled update()/insert()/delete() through the session,
# Core statements on a connection: bulk loads, the CLI) are seen on every engine's connections.
_TABLES = {"units": {UNITS: _UNIT_FIELDS}, "users": {PEOPLE: _PERSON_FIELDS},
           "evaluations": {EVALUATIONS: _EVALUATION_FIELDS}}
_NOTED = "catalogues_changed"


def _set_columns(connection, statement, multiparams, params) -> set[str] | None:
    """The columns an UPDATE sets (its bound parameters' names), or None when they cannot be
    told (then all count). Only statements on the watched tables are compiled again: rare."""
    names = set(statement.compile(dialect=connection.dialect).params)
    for row in (multiparams if isinstance(multiparams, list) else [multiparams, params]):
        if isinstance(row, dict):
            names.update(row)
    return names or None


@event.listens_for(Engine, "after_execute")
def _note_changing_statements(connection, statement, multiparams, params, _options, _result) -> None:
    if not getattr(statement, "is_dml", False) or getattr(statement, "table", None) is None:
        return
    watched = _TABLES.get(getattr(statement.table, "name", None))
    if not watched:
        return
    columns = _set_columns(connection, statement, multiparams, params) if statement.is_update else None
    names = [name for name, fields in watched.items() if columns is None or columns & set(fields)]
    if names:
        connection.info.setdefault(_NOTED, set()).update(names)


@event.listens_for(Engine, "commit")
def _renew_noted(connection) -> None:
    for name in sorted(connection.info.pop(_NOTED, ())):
        touch(connection, name)


@event.listens_for(Engine, "begin")
def _forget_noted(connection) -> None:
    """What a rolled-back transaction noted is dropped when the next one begins."""
    connection.info.pop(_NOTED, None)
