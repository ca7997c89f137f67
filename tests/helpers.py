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


# -- HTTP receivers: a group robot, the SMS gateway ----------------------------------------------

class HttpReceiver:
    """A real HTTP server on a loopback port standing in for a group robot (DingTalk, WeCom) or
    the SMS gateway. It keeps what it accepts (`delivered`: the parsed bodies), checks DingTalk's
    signature when it has a `secret` (as DingTalk does: timestamp within the hour and
    sign = base64(HMAC-SHA256(secret, "timestamp\\nsecret")); a bad one is refused with errcode
    310000), and answers as told by `answers` (one per request, then "ok"):
    "ok", "errcode" (HTTP 200 with an error code), "5xx" (503), "hang" (no answer until stopped)."""

    SUCCESS = {"errcode": 0, "errmsg": "ok"}
    REFUSAL = {"errcode": 300001, "errmsg": "token is not exist"}

    def __init__(self, secret: str | None = None, success: dict | None = None, refusal: dict | None = None):
        import json
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qsl, urlsplit

        self.secret = secret
        self.success, self.refusal = success or self.SUCCESS, refusal or self.REFUSAL
        self.answers: list[str] = []
        self.delivered: list[dict] = []     # bodies (JSON or form/query fields) answered with success
        self.requests: list[dict] = []      # every request: path, query, body, headers
        self.bad_signatures = 0
        self.released = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):   # quiet
                pass

            def _handle(self):
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query))
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if "json" in (self.headers.get("Content-Type") or ""):
                    body = json.loads(raw or b"{}")
                else:
                    body = dict(parse_qsl(raw.decode())) if raw else dict(query)
                with receiver._lock:
                    receiver.requests.append({"path": parts.path, "query": query, "body": body,
                                              "headers": dict(self.headers)})
                    answer = receiver.answers.pop(0) if receiver.answers else "ok"
                if answer == "hang":
                    receiver.released.wait(30)
                    return
                if answer == "5xx":
                    self._send(503, b"Service Unavailable", "text/plain")
                    return
                if answer == "ok" and receiver.secret is not None and not receiver.signed(query):
                    with receiver._lock:
                        receiver.bad_signatures += 1
                    answer = "bad-sign"
                reply = {"ok": receiver.success, "errcode": receiver.refusal,
                         "bad-sign": {"errcode": 310000, "errmsg": "sign not match"}}[answer]
                if answer == "ok":
                    with receiver._lock:
                        receiver.delivered.append(body)
                self._send(200, json.dumps(reply).encode(), "application/json")

            def _send(self, status, payload, content_type):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/robot/send?access_token=test-token") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def signed(self, query: dict) -> bool:
        import base64
        import hashlib
        import hmac
        import time
        try:
            timestamp = int(query["timestamp"])
        except (KeyError, ValueError):
            return False
        if abs(time.time() * 1000 - timestamp) > 3600 * 1000:
            return False
        digest = hmac.new(self.secret.encode(), f"{timestamp}\n{self.secret}".encode(), hashlib.sha256).digest()
        return hmac.compare_digest(base64.b64encode(digest).decode(), query.get("sign", ""))

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
