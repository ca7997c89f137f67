"""Writing and finding thousands of rows in a few statements, for the scan and the digest.

On PostgreSQL a multi-row INSERT with RETURNING (SQLAlchemy's "insertmanyvalues") or a long IN list
has a placeholder per value, and psycopg re-parses each such long statement in Python (it caches
only short ones): that was most of a large scan's time. There, rows go as one array per column
through unnest(), in a short statement; SQLite gets plain placeholders, which it handles well.
"""
from __future__ import annotations

import enum

from sqlalchemy import Enum, Table, bindparam, column, func, insert, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import String, TypeDecorator

from tracker.extensions import db

CHUNK = 5000  # values per IN list or array: far below the parameter limits of SQLite and PostgreSQL


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
    columns = [column(name, _element_type(table.c[name])) for name in names]
    source = _unnested([tuple(_plain(row[name]) for name in names) for row in rows], *columns)
    statement = insert(table).from_select(names, select(*(source.c[name] for name in names)))
    result = db.session.execute(statement.returning(*returning) if returning else statement)
    return result.all() if returning else []


def one_of(columns: list, rows: list[tuple]):
    """A condition: `columns` hold the values of one of `rows`. An IN list on SQLite; on PostgreSQL
    a join to unnest()ed arrays (a long row IN list there is compared row by row, and parsed slowly)."""
    if db.engine.dialect.name != "postgresql":
        if len(columns) == 1:
            return columns[0].in_([row[0] for row in rows])
        return tuple_(*columns).in_(rows)
    given = _unnested(rows, *(column(c.name, c.type) for c in columns))
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
    given = _unnested(pairs, column("key_value", key.type), column("new", target.type))
    db.session.execute(update(table).where(key == given.c.key_value).values({target.name: given.c.new}))


def _unnested(rows: list[tuple], *columns):
    """PostgreSQL: `rows` as a table, one array parameter per column."""
    arrays = [bindparam(f"rows_{c.name}", [row[i] for row in rows], type_=ARRAY(c.type)) for i, c in enumerate(columns)]
    return func.unnest(*arrays).table_valued(*columns).render_derived()


def _element_type(table_column):
    kind = table_column.type
    if isinstance(kind, TypeDecorator):
        return kind.impl
    if isinstance(kind, Enum):   # stored as text (native_enum=False)
        return String()
    return kind


def _plain(value):
    # psycopg would send an enum member's name; the column holds its value.
    return value.value if isinstance(value, enum.Enum) else value
