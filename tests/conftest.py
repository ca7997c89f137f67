"""Fixtures: one migrated database per test run (SQLite file, or a fresh PostgreSQL schema when
DATABASE_URL points at PostgreSQL), emptied after every test; the app; a browser-like client
that handles CSRF tokens; factories; and the clock."""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from config import TestConfig
from tracker import clock, create_app
from tracker.extensions import db as _db

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 3, 16)  # a Monday; tests pin the clock here unless they move it


def _compile_catalogues() -> None:
    """Compile the .po catalogues (as `make` does), so a bare `pytest` sees the Chinese UI."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    for po in (ROOT / "tracker" / "translations").glob("*/LC_MESSAGES/messages.po"):
        with po.open("rb") as src:
            catalog = read_po(src)
        with po.with_suffix(".mo").open("wb") as dst:
            write_mo(dst, catalog)


def postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A URL to an empty database private to this test run."""
    base = postgres_url()
    if base is None:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    _compile_catalogues()

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        UPLOAD_DIR = str(tmp_path_factory.mktemp("uploads"))

    application = create_app(Config)
    with application.app_context():
        from flask_migrate import upgrade
        upgrade()
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()  # close pooled connections before the schema is dropped


@pytest.fixture(autouse=True)
def _fresh_state(request):
    """Every test starts with the clock pinned on TODAY and (if it used the app) an empty database."""
    clock.freeze(TODAY)
    yield
    clock.freeze(None)
    clock.set_real_source(None)
    if "app" in request.fixturenames:
        application = request.getfixturevalue("app")
        with application.app_context():
            _db.session.remove()
            with _db.engine.begin() as conn:
                for table in reversed(_db.metadata.sorted_tables):
                    conn.execute(table.delete())
        shutil.rmtree(application.config["UPLOAD_DIR"], ignore_errors=True)


@pytest.fixture
def db(app):
    with app.app_context():
        yield _db
        _db.session.remove()


@pytest.fixture
def today():
    return TODAY


class Browser:
    """A test client that signs in and sends forms with a valid CSRF token, like a browser would."""

    TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

    def __init__(self, app):
        self.client = app.test_client()
        self._token = None

    @staticmethod
    def _isolated(call, *args, **kw):
        """Run a request in a fresh thread: its own app context, `g` and database session,
        as in production, not the test's own app context."""
        with ThreadPoolExecutor(max_workers=1) as pool:
            response = pool.submit(call, *args, **kw).result()
        response.get_data()  # buffer a streamed body (a sent file), then release the file handle
        response.close()
        return response

    def get(self, url, **kw):
        return self._isolated(self.client.get, url, **kw)

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
        return self._isolated(self.client.post, url, data=data, **kw)

    def login(self, username, password="secret-pass"):
        self._token = None
        response = self.post("/login", {"username": username, "password": password})
        self._token = None
        return response

    def logout(self):
        response = self.post("/logout")
        self._token = None
        return response


@pytest.fixture
def browser(app, db):
    return Browser(app)


@pytest.fixture
def login_as(app, db):
    """login_as(user) -> a Browser signed in as that user."""
    def _login(user):
        b = Browser(app)
        response = b.login(user.username)
        assert response.status_code == 302, response.text
        return b
    return _login


# -- factories ----------------------------------------------------------------------

from tests.factories import Factory  # noqa: E402


@pytest.fixture
def make(db):
    return Factory(db)
