"""Serving with gunicorn (gunicorn.conf.py, as `make serve` does): several workers, a clear refusal
to start on a wrong DATABASE_URL, and a graceful stop that finishes the request in flight."""
from __future__ import annotations

import http.cookiejar
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from tests.factories import PASSWORD
from tests.locks import RowLock
from tests.helpers import free_port, postgres_url
from tests.processes import Process, app_environment
from tracker.auth.models import Role
from tracker.items.models import Item, Status

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def gunicorn(env: dict[str, str]) -> Process:
    return Process([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], env)


@contextmanager
def served(app, **env):
    """gunicorn serving the test database on a free port, with these settings; stopped after."""
    port = free_port()
    server = gunicorn(app_environment(app, PORT=port, **env))
    try:
        server.wait_for("Listening at")
        yield server, port
    finally:
        server.close()


def signed_in(port: int, user) -> Visitor:
    visitor = Visitor(port)
    assert visitor.post("/login", "/login", {"username": user.username, "password": PASSWORD}) == 302
    return visitor


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kw):
        return None  # the 302 itself is the answer (the server may be gone by the next request)


class Visitor:
    """A browser over real HTTP: cookies and CSRF tokens; a POST answers with its status."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect)

    def get(self, path: str) -> tuple[int, str]:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.status, response.read().decode()

    def post(self, path: str, form_page: str, data: dict) -> int:
        token = TOKEN.search(self.get(form_page)[1]).group(1)
        body = urllib.parse.urlencode({**data, "csrf_token": token}).encode()
        try:
            with self.opener.open(self.base + path, body, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as answer:
            answer.close()
            return answer.code


def test_a_wrong_database_url_stops_gunicorn_at_once_with_a_clear_message(tmp_path, app):
    env = app_environment(app, PORT=free_port(), WEB_CONCURRENCY=1,
                          DATABASE_URL=f"sqlite:///{tmp_path / 'missing' / 'db.sqlite3'}")
    server = gunicorn(env)
    try:
        assert server.wait(60) != 0
    finally:
        server.close()
    assert "Cannot connect to the database" in server.output and "Check DATABASE_URL" in server.output


@pytest.mark.skipif(postgres_url() is None, reason="needs a row lock other connections can be seen waiting on")
def test_several_workers_serve_and_a_graceful_stop_finishes_the_request_in_flight(app, db, make):
    item = make.item(status=Status.SUBMITTED, with_evidence=True)
    inspector = make.user(Role.INSPECTOR, language="en")
    with served(app, WEB_CONCURRENCY=2, GUNICORN_GRACEFUL_TIMEOUT=30) as (server, port):
        visitor = signed_in(port, inspector)
        assert visitor.get("/healthz")[0] == 200
        with ThreadPoolExecutor(1) as pool:
            with RowLock(app.config["SQLALCHEMY_DATABASE_URI"]).hold("items", item.id) as lock:
                in_flight = pool.submit(visitor.post, f"/items/{item.id}/actions/close_item",
                                        f"/items/{item.id}", {"result": "rectified"})
                lock.wait_for_waiters(1)
                server.terminate()  # as systemd would on a deploy
                server.wait_for("Handling signal: term")
            assert in_flight.result(timeout=60) == 302  # answered, not cut off
        assert server.wait(60) == 0, server.output
    assert server.output.count("Booting worker") >= 2
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == Status.CLOSED


def test_rate_limits_hold_across_workers_without_a_redis(app, db, make, tmp_path):
    """Each worker used to count on its own: with 2 workers a limit of 4 let 8 guesses through."""
    make.user(Role.HEAD, username="head-edu")
    with served(app, WEB_CONCURRENCY=2, LOGIN_RATE_LIMIT="4 per minute", LOGIN_ADDRESS_RATE_LIMIT="1000 per minute",
                RATELIMIT_STORAGE_URI=f"sqlitefile://{tmp_path / 'limits.sqlite3'}") as (server, port):
        answers = [Visitor(port).post("/login", "/login", {"username": "head-edu", "password": f"guess-{n}"})
                   for n in range(12)]
        server.terminate()  # a kill of the master alone would leave its workers holding the output
        server.wait(60)
    assert server.output.count("Booting worker") >= 2
    assert answers == [401] * 4 + [429] * 8


@pytest.mark.skipif(postgres_url() is None, reason="needs a row lock other connections can be seen waiting on")
def test_saves_waiting_on_a_lock_leave_the_health_check_and_reads_answering(app, db, make):
    item = make.item(status=Status.SUBMITTED, with_evidence=True)
    inspector = make.user(Role.INSPECTOR, language="en")
    with served(app, WEB_CONCURRENCY=1, DB_LOCK_TIMEOUT_MS=60000) as (server, port):
        visitor = signed_in(port, inspector)
        with ThreadPoolExecutor(2) as pool:
            with RowLock(app.config["SQLALCHEMY_DATABASE_URI"]).hold("items", item.id) as lock:
                saves = [pool.submit(visitor.post, f"/items/{item.id}/actions/close_item", f"/items/{item.id}",
                                     {"result": "rectified"}) for _ in range(2)]
                lock.wait_for_waiters(1, timeout=60)  # one sync worker would now be stuck for a minute
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as health:
                    assert health.status == 200
                status, page = visitor.get("/items?lang=en")
                assert status == 200 and item.title in page
            assert sorted(save.result(timeout=60) for save in saves)[0] == 302
        server.terminate()
        server.wait(60)
