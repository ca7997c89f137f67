"""Fixtures: one migrated database per test run (SQLite file, or a fresh PostgreSQL schema when
DATABASE_URL points at PostgreSQL), emptied after every test; the app; a browser-like client
that handles CSRF tokens (tests/helpers.py); factories; and the clock."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from config import TestConfig
from tests.helpers import ROOT, TODAY, Browser, empty_database, postgres_url
from tracker import clock, create_app
from tracker.extensions import db as _db


def _compile_catalogues() -> None:
    """Compile the .po catalogues (as `make` does), so a bare `pytest` sees the Chinese UI."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    for po in (ROOT / "tracker" / "translations").glob("*/LC_MESSAGES/messages.po"):
        with po.open("rb") as src:
            catalog = read_po(src)
        with po.with_suffix(".mo").open("wb") as dst:
            write_mo(dst, catalog)


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
        MAIL_DIR = str(tmp_path_factory.mktemp("mail"))

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
        empty_database(request.getfixturevalue("app"))


@pytest.fixture
def db(app):
    with app.app_context():
        yield _db
        _db.session.remove()


@pytest.fixture
def today():
    return TODAY


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


@pytest.fixture
def empty_app(tmp_path):
    """An app on a database of its own with no tables at all, for the migration tests to upgrade."""
    base = postgres_url()
    schema = None
    if base:
        schema = f"m_{uuid.uuid4().hex[:10]}"
        _run_on(base, f'CREATE SCHEMA "{schema}"')
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{tmp_path / 'migrate.sqlite3'}"

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url

    application = create_app(Config)
    with application.app_context():
        yield application
        _db.session.remove()
        _db.engine.dispose()
    if schema:
        _run_on(base, f'DROP SCHEMA "{schema}" CASCADE')


def _run_on(url: str, statement: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()
