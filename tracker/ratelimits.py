"""Rate-limit counters in a SQLite file on the machine, so that every gunicorn worker (and the
`make run`/`make serve` processes) counts against the same limits without a Redis. Several hosts
still need a shared store: RATELIMIT_STORAGE_URI=redis://… (README, deploy/env.example).

A storage for the `limits` library (Flask-Limiter's backend) through its documented extension
point: a `Storage` subclass registers its URI scheme, here `sqlitefile:///path/to/file`.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from urllib.parse import urlsplit

from limits.storage import Storage

_SCHEMA = ("CREATE TABLE IF NOT EXISTS counters "
           "(key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires_at REAL NOT NULL)")
PURGE_EVERY = 500  # increments between sweeps of expired counters
_SETUP = threading.Lock()


def _prepare(conn: sqlite3.Connection) -> None:
    """WAL mode and the table. Switching the journal mode takes the file for itself and does not
    wait like a write does: workers starting together retry for a few seconds."""
    for attempt in range(50):
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_SCHEMA)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 49:
                raise
            time.sleep(0.1)


class SQLiteFileStorage(Storage):
    STORAGE_SCHEME = ["sqlitefile"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = urlsplit(uri).path
        self._local = threading.local()
        self._increments = 0
        self._prepared = False  # the file's journal mode and table, once per storage
        self.now = time.time  # the limits library counts in real seconds; tests replace it

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _db(self) -> sqlite3.Connection:
        # One connection per thread and process: gunicorn forks workers after the app is loaded.
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            conn.execute("PRAGMA synchronous=NORMAL")
            with _SETUP:
                if not self._prepared:
                    _prepare(conn)
                    self._prepared = True
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = self.now()
        db = self._db()
        db.execute("BEGIN IMMEDIATE")  # a write lock first: two workers never read the same count
        try:
            db.execute("DELETE FROM counters WHERE key = ? AND expires_at <= ?", (key, now))
            value = db.execute(
                "INSERT INTO counters (key, value, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value RETURNING value",
                (key, amount, now + expiry)).fetchone()[0]
            self._increments += 1
            if self._increments % PURGE_EVERY == 0:
                db.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return value

    def get(self, key: str) -> int:
        row = self._db().execute("SELECT value FROM counters WHERE key = ? AND expires_at > ?",
                                 (key, self.now())).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._db().execute("SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?",
                                 (key, self.now())).fetchone()
        return row[0] if row else self.now()

    def check(self) -> bool:
        try:
            self._db().execute("SELECT 1")
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        return self._db().execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        self._db().execute("DELETE FROM counters WHERE key = ?", (key,))
