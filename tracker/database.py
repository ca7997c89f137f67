"""The database connection in production: timeouts on every connection, a start-up check with a
clear message, and the classification of database errors into what a user can be told.

Why timeouts: a long transaction holding a row lock (an administrator's slow import, a stuck
worker) must not make every other request wait forever. With DB_LOCK_TIMEOUT_MS a request that
waits that long for a lock fails with "busy, try again" (503) and nothing is saved; the worker is
free again. SQLite gets the same limit as its busy timeout.
"""
from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable

from flask import Flask, g, has_request_context
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# SQLSTATEs of a statement that gave up waiting: lock_timeout, statement_timeout, deadlock, and
# a serialisation failure; all transient, so the user is told to try again.
BUSY_SQLSTATES = {"55P03", "57014", "40P01", "40001"}


def _install_timeouts(engine: Engine, lock_ms: int, statement_ms: int) -> None:
    """Set the lock and statement timeouts on each new connection of `engine`."""
    dialect = engine.dialect.name

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        try:
            if dialect == "postgresql":
                cursor.execute(f"SET lock_timeout = {int(lock_ms)}")
                cursor.execute(f"SET statement_timeout = {int(statement_ms)}")
                # JIT compiles a query plan that reads many rows (a good part of a broad search)
                # and never pays back on the short statements of a web page.
                cursor.execute("SET jit = off")
            elif dialect == "sqlite" and lock_ms > 0:
                cursor.execute(f"PRAGMA busy_timeout = {int(lock_ms)}")
        finally:
            cursor.close()
        if dialect == "postgresql":
            dbapi_connection.commit()  # psycopg opened a transaction for the SETs; keep them


# A request whose statements have waited this much less than DB_LOCK_TIMEOUT_MS in all gets the
# rest as its lock timeout; before that no statement pays for a SET.
WAITED_MS = 500


def _bound_request_waits(app: Flask, engine: Engine, lock_ms: int) -> None:
    """DB_LOCK_TIMEOUT_MS bounds a request's waiting in all, not each statement's: six statements
    that each wait just under the limit would otherwise hold a worker six times as long."""
    postgres = engine.dialect.name == "postgresql"

    @app.before_request
    def _start_the_wait_budget():
        g.db_wait_deadline = time.monotonic() + lock_ms / 1000

    @event.listens_for(engine, "before_cursor_execute")
    def _shrink_the_timeout(conn, cursor, _statement, _parameters, _context, _executemany):
        deadline = g.get("db_wait_deadline") if has_request_context() else None
        if deadline is None:
            return
        left_ms = int((deadline - time.monotonic()) * 1000)
        if left_ms > lock_ms - WAITED_MS:
            return
        left_ms = max(left_ms, 1)
        if postgres:  # for the rest of this transaction only
            cursor.execute(f"SET LOCAL lock_timeout = {left_ms}")
        else:
            cursor.execute(f"PRAGMA busy_timeout = {left_ms}")
            conn.info["busy_timeout_shrunk"] = True

    @event.listens_for(engine, "checkin")
    def _restore_sqlite_timeout(dbapi_connection, record):
        if record.info.pop("busy_timeout_shrunk", False):
            dbapi_connection.execute(f"PRAGMA busy_timeout = {int(lock_ms)}")


def init_app(app: Flask, db) -> None:
    """Apply DB_LOCK_TIMEOUT_MS and DB_STATEMENT_TIMEOUT_MS to the app's engine."""
    with app.app_context():
        engine = db.engine
    lock_ms = app.config.get("DB_LOCK_TIMEOUT_MS", 0)
    _install_timeouts(engine, lock_ms, app.config.get("DB_STATEMENT_TIMEOUT_MS", 0))
    if lock_ms > 0:
        _bound_request_waits(app, engine, lock_ms)
    if engine.dialect.name == "postgresql":
        _keep_prepared_statements(app, db)


# psycopg prepares a statement after its fifth run on a connection, so that PostgreSQL plans it
# once (the item page's main statement costs ten times more to plan than to run) -- but it forgets
# every prepared statement at each ROLLBACK, and a request's session ended its transaction with
# one even when it only read. A transaction that wrote nothing is now ended with COMMIT (the same
# for a reader); one that wrote and was not committed is still rolled back.
_WROTE = "rectify_wrote"


@event.listens_for(Session, "after_flush")
def _flushed(session, _context):
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _wrote(state):
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _ended(session, transaction):
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


def _keep_prepared_statements(app: Flask, db) -> None:
    @app.teardown_request
    def _end_reads_with_commit(exc):
        if not db.session.registry.has():
            return  # the request never used the database
        session = db.session()
        if exc is not None or not session.in_transaction() or session.info.get(_WROTE) \
                or session.new or session.dirty or session.deleted:
            return  # Flask-SQLAlchemy's teardown rolls back, as before
        try:
            session.commit()
        except SQLAlchemyError:
            session.rollback()


def is_busy(exc: BaseException) -> bool:
    """True when the database gave up waiting (a lock held by another transaction, a timeout)."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in BUSY_SQLSTATES:
        return True
    return "database is locked" in str(orig or "")  # SQLite's busy timeout


def is_unique_violation(exc: BaseException) -> bool:
    """True when an IntegrityError is a unique index refusing a second row (someone else's first)."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) == "23505":
        return True
    return getattr(orig, "sqlite_errorname", "") in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")


def schema_state(engine: Engine) -> str:
    """"behind" when the database is reachable and its migrations are not at the code's head (or it
    has none), "current" when they are, "unreachable" when no connection can be made now."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from flask import current_app
    heads = set(ScriptDirectory(str(current_app.extensions["migrate"].directory)).get_heads())
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError:
        return "unreachable"
    return "current" if current == heads else "behind"


def safe_url(url: str) -> str:
    """The URL with its password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown as given: it has no password we could find
        return url


def check_connection(url: str) -> str | None:
    """None when a connection to `url` can run SELECT 1; otherwise a message for the operator."""
    try:
        engine = create_engine(url)
    except Exception as exc:  # a malformed URL or a missing driver
        return f"DATABASE_URL {safe_url(url)!r} is not usable: {exc}"
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = str(exc.orig if isinstance(exc, DBAPIError) else exc).strip().splitlines()[0]
        return (f"Cannot connect to the database {safe_url(url)}: {reason}. "
                "Check DATABASE_URL (host, port, database name, user and password) and that the "
                "database server is running.")
    finally:
        engine.dispose()
    return None


# Python functions that SQLite statements call by name (the search index's triggers, the
# statistics' local days): registered by their modules, installed on every SQLite connection.
_SQLITE_FUNCTIONS: dict[str, tuple[int, Callable]] = {}


def sqlite_function(name: str, arity: int, function: Callable) -> None:
    _SQLITE_FUNCTIONS[name] = (arity, function)


def install_sqlite_functions(dbapi_connection) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        for name, (arity, function) in _SQLITE_FUNCTIONS.items():
            dbapi_connection.create_function(name, arity, function, deterministic=True)


@event.listens_for(Engine, "connect")
def _install_sqlite_functions(dbapi_connection, _record):
    install_sqlite_functions(dbapi_connection)
