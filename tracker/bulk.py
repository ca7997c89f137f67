"""Writing and finding thousands of rows in a few statements, for the scan and the digest.

On PostgreSQL a multi-row INSERT with RETURNING (SQLAlchemy's "insertmanyvalues") or a long IN list
has a placeholder per value, and psycopg re-parses each such long statement in Python (it caches
only short ones): that was most of a large scan's time. There, the rows go as one JSON parameter,
made a table by json_to_recordset() in a short statement. (One array per column through unnest()
did the same, but psycopg writes array literals value by value in Python, a good part of the
daily scan; json.dumps writes them in C.) SQLite gets plain placeholders,
which it handles well.
"""
from __future__ import annotations

import datetime as dt
import enum
import json

from sqlalchemy import Enum, Table, Text, bindparam, cast, column, func, insert, select, tuple_, update
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.types import String, TypeDecorator

from tracker.extensions import db

CHUNK = 5000  # values per IN list or array: far below the parameter limits of SQLite and PostgreSQL
ROWS_PER_INSERT = 1000  # PostgreSQL: rows per INSERT (one JSON text each)


def in_chunks(items: list, size: int = CHUNK):
    """Slices of `items` short enough for one statement's parameters."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def insert_many(table: Table, rows: list[dict], *returning) -> list:
    """Insert `rows` (dicts with the same keys); returns the `returning` columns of each, in no
    particular order: match them up by a unique key. (Asking SQLAlchemy for the rows' order makes
    it insert one row per statement on SQLite.)"""
    if not rows:
        return []
    if db.engine.dialect.name != "postgresql":
        if not returning:
            db.session.execute(insert(table), rows)
            return []
        return db.session.execute(insert(table).returning(*returning), rows).all()
    names = list(rows[0])
    found = []
    # In slices: the JSON text of thousands of mails (bodies and all) would otherwise be held at once.
    for chunk in in_chunks(rows, ROWS_PER_INSERT):
        source = _recordset(chunk, *(column(name, _element_type(table.c[name])) for name in names))
        statement = insert(table).from_select(names, select(*(source.c[name] for name in names)))
        result = db.session.execute(statement.returning(*returning) if returning else statement)
        found.extend(result.all() if returning else [])
    return found


def one_of(columns: list, rows: list[tuple]):
    """A condition: `columns` hold the values of one of `rows`. An IN list on SQLite; on PostgreSQL
    a join to a JSON recordset (a long row IN list there is compared row by row, and parsed slowly)."""
    if db.engine.dialect.name != "postgresql":
        if len(columns) == 1:
            return columns[0].in_([row[0] for row in rows])
        return tuple_(*columns).in_(rows)
    names = [c.name for c in columns]
    given = _recordset([dict(zip(names, row)) for row in rows], *(column(c.name, _element_type(c)) for c in columns))
    return tuple_(*columns).in_(select(given))


def set_many(key, target, pairs: list[tuple]) -> None:
    """For each (key value, new value) pair, set `target` on the row whose `key` column matches."""
    if not pairs:
        return
    table = key.table
    if db.engine.dialect.name != "postgresql":
        db.session.execute(update(table).where(key == bindparam("key_value")).values({target.name: bindparam("new")}),
                           [{"key_value": old, "new": new} for old, new in pairs])
        return
    given = _recordset([{"key_value": old, "new": new} for old, new in pairs],
                       column("key_value", _element_type(key)), column("new", _element_type(target)))
    db.session.execute(update(table).where(key == given.c.key_value).values({target.name: given.c.new}))


def _recordset(rows: list[dict], *columns):
    """PostgreSQL: `rows` (dicts keyed by the columns' names) as a typed table, from one JSON parameter."""
    payload = bindparam("rows", json.dumps(rows, default=_json_value, ensure_ascii=False), type_=Text, unique=True)
    return func.json_to_recordset(cast(payload, JSON)).table_valued(*columns).render_derived(with_types=True)


def _element_type(table_column):
    kind = table_column.type
    if isinstance(kind, TypeDecorator):
        return kind.impl
    if isinstance(kind, Enum):   # stored as text (native_enum=False)
        return String()
    return kind


def _json_value(value):
    """What json.dumps cannot write itself: dates and times as ISO text (PostgreSQL reads them back,
    with their offset), enum members as their value (the column holds the value)."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} cannot go into a JSON recordset")
