"""Helpers that test modules import: the browser-like clients, the database URL and wipe, the clock's
test day, SQL statement counts and plans, reading a page's tables, queueing mail, a free port.
(Fixtures are in the conftest files; builders in factories.py.)"""
from __future__ import annotations

import datetime as dt
import html
import os
import re
import shutil
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, text

from tracker import clock
from tracker.extensions import db

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 3, 16)  # a Monday; tests pin the clock here unless they move it


def postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


def empty_database(app) -> None:
    """Delete every row and every stored upload, children first."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
    shutil.rmtree(app.config["UPLOAD_DIR"], ignore_errors=True)


def isolated(call, *args, **kw):
    """Run a request in a fresh thread: its own app context, `g` and database session, as in
    production, not the test's own app context."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        response = pool.submit(call, *args, **kw).result()
    response.get_data()  # buffer a streamed body (a sent file), then release the file handle
    response.close()
    return response


class Browser:
    """A test client that signs in and sends forms with a valid CSRF token, like a browser would."""

    TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

    def __init__(self, app):
        self.client = app.test_client()
        self._token = None

    def get(self, url, **kw):
        return isolated(self.client.get, url, **kw)

    def token(self) -> str:
        if self._token is None:
            page = self.get("/login" if not self._signed_in() else "/items")
            self._token = self.TOKEN.search(page.text).group(1)
        return self._token

    def _signed_in(self) -> bool:
        return self.get("/items").status_code == 200

    def post(self, url, data=None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token())
        return isolated(self.client.post, url, data=data, **kw)

    def login(self, username, password="secret-pass"):
        self._token = None
        response = self.post("/login", {"username": username, "password": password})
        self._token = None
        return response

    def logout(self):
        response = self.post("/logout")
        self._token = None
        return response


class ApiClient:
    """An API client that sends a personal token, each request in its own thread like a real one."""

    def __init__(self, app, secret: str | None):
        self.client = app.test_client()
        self.secret = secret

    def _headers(self, kw) -> dict:
        headers = dict(kw.pop("headers", None) or {})
        if self.secret is not None:
            headers.setdefault("Authorization", f"Bearer {self.secret}")
        return headers

    def get(self, url, **kw):
        return isolated(self.client.get, url, headers=self._headers(kw), **kw)

    def post(self, url, **kw):
        return isolated(self.client.post, url, headers=self._headers(kw), **kw)


# -- SQL: statements sent, and the database's plan ---------------------------------------------------

@contextmanager
def counted(engine):
    """Count the SQL statements sent while the block runs (from any thread)."""
    statements: list[str] = []
    lock = threading.Lock()

    def before(conn, cursor, statement, params, context, executemany):
        with lock:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def query_plan(db, stmt, *pg_settings: str) -> str:
    """The database's plan for `stmt`, as one string (`pg_settings`: more SET statements)."""
    compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            return "\n".join(row[-1] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        conn.execute(text("SET enable_seqscan = off"))  # tiny test tables: ask whether an index *can* serve
        for setting in pg_settings:
            conn.execute(text(setting))
        return "\n".join(row[0] for row in conn.execute(text(f"EXPLAIN {compiled}")))


def scans_every_item(plan: str, dialect: str) -> bool:
    if dialect == "sqlite":
        return re.search(r"\bSCAN (TABLE )?items\b(?! USING)", plan) is not None
    return re.search(r"Seq Scan on items\b", plan) is not None


# -- pages ---------------------------------------------------------------------------------------------

def table(page, table_id) -> list[list[str]]:
    """The body rows of the table with this id, as the cells' visible text."""
    body = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', page.text, re.S).group(1)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [[html.unescape(re.sub(r"<[^>]+>|\s+", " ", cell)).strip() for cell in
             re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)] for row in rows]


def tile(page, tile_id) -> str:
    return re.search(rf'id="{tile_id}">([^<]*)<', page.text).group(1)


# -- mail and time -------------------------------------------------------------------------------------

def queue_for(users, prefix="test"):
    """One queued reminder mail per user."""
    from tracker.notifications import outbox
    for n, user in enumerate(users):
        outbox.queue(user, "reminder", f"{prefix}:{user.id}:{n}", f"Subject {n}", f"text {n}", f"<p>html {n}</p>")
    db.session.commit()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def move_clock(**delta) -> None:
    """Advance the frozen clock (minutes, days)."""
    clock.freeze(clock.now() + dt.timedelta(**delta))
