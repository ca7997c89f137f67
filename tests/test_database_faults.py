"""The database misbehaving: a row lock held too long, connections killed under the app, a wrong
connection string, a migration run twice. Users get a clear page; the app recovers by itself."""
from __future__ import annotations

import shutil
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import flask
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from config import TestConfig
from tests.helpers import Browser, postgres_url
from tests.locks import RowLock
from tracker import create_app
from tracker.auth.models import Role
from tracker.database import check_connection, is_busy
from tracker.extensions import db as _db
from tracker.items.models import Item, Status


@pytest.fixture
def second_app(app):
    """Another instance of the app (as another worker would be) on the same database."""
    instances = []

    def build(**settings):
        config = type("Worker", (TestConfig,), {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "UPLOAD_DIR": app.config["UPLOAD_DIR"], **settings})
        instance = create_app(config)
        instances.append(instance)
        return instance

    yield build
    for instance in instances:
        with instance.app_context():
            _db.session.remove()
            _db.engine.dispose()


def _signed_in(instance, user) -> Browser:
    browser = Browser(instance)
    assert browser.login(user.username).status_code == 302
    return browser


def test_a_row_lock_held_too_long_gives_a_clear_busy_page_and_saves_nothing(second_app, make, db):
    worker = second_app(DB_LOCK_TIMEOUT_MS=300)
    item = make.item(status=Status.SUBMITTED, with_evidence=True)
    inspector = _signed_in(worker, make.user(Role.INSPECTOR, language="en"))
    with RowLock(worker.config["SQLALCHEMY_DATABASE_URI"]).hold("items", item.id):
        page = inspector.post(f"/items/{item.id}/actions/close_item", {"result": "rectified"})
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "Someone else is saving the same record right now" in page.text and "Traceback" not in page.text
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == Status.SUBMITTED
    again = inspector.post(f"/items/{item.id}/actions/close_item", {"result": "rectified"})
    assert again.status_code == 302  # the lock is gone: the same request now goes through
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == Status.CLOSED


@pytest.mark.skipif(postgres_url() is None, reason="kills PostgreSQL backends; SQLite: the test below")
def test_connections_killed_under_load_give_503_then_the_app_recovers_without_a_restart(second_app, make, db):
    name = f"rectify-test-{uuid.uuid4().hex[:8]}"
    worker = second_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True,
                                                   "connect_args": {"application_name": name}})
    item = make.item(status=Status.SUBMITTED, with_evidence=True)
    inspector = _signed_in(worker, make.user(Role.INSPECTOR, language="en"))
    assert inspector.get("/items").status_code == 200

    def kill_all():
        engine = create_engine(postgres_url())
        try:
            with engine.connect() as admin:
                return admin.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                          "WHERE application_name = :name"), {"name": name}).scalar()
        finally:
            engine.dispose()

    with ThreadPoolExecutor(1) as pool:
        with RowLock(worker.config["SQLALCHEMY_DATABASE_URI"]).hold("items", item.id) as lock:
            in_flight = pool.submit(inspector.post, f"/items/{item.id}/actions/close_item",
                                    {"result": "rectified"})
            lock.wait_for_waiters(1)
            assert kill_all() >= 1  # the database "restarts" while a request is in flight
        page = in_flight.result(timeout=30)
    assert page.status_code == 503 and "Traceback" not in page.text
    assert "The connection to the database broke off" in page.text and "try again" in page.text
    assert "db upgrade" not in page.text  # the schema is fine: telling an operator to migrate misleads

    kill_all()  # and once more, now that every pooled connection is idle
    assert inspector.get("/healthz").get_json()["database"] == "reachable"
    assert inspector.post(f"/items/{item.id}/actions/close_item", {"result": "rectified"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == Status.CLOSED


def test_a_database_that_comes_back_is_used_again_without_a_restart(app, tmp_path):
    """SQLite's outage: the database file is not there; once it is back the same app serves again."""
    if postgres_url() is not None:
        pytest.skip("SQLite's equivalent of the test above")
    home = tmp_path / "moved"
    config = type("Worker", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{home / 'db.sqlite3'}"})
    worker = create_app(config)
    client = worker.test_client()
    try:
        assert client.get("/healthz").status_code == 503
        home.mkdir()
        source = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
        shutil.copy(source, home / "db.sqlite3")
        assert client.get("/healthz").get_json() == {"status": "ok", "database": "reachable"}
        assert client.get("/login").status_code == 200
    finally:
        with worker.app_context():
            _db.session.remove()
            _db.engine.dispose()


def test_a_wrong_connection_string_is_explained_at_start_up(tmp_path):
    if postgres_url():
        url = postgres_url().replace("postgres@", "no_such_role:s3cret-pw@", 1)
        expected = "no_such_role"
    else:
        url = f"sqlite:///{tmp_path / 'no-such-dir' / 'db.sqlite3'}"
        expected = "unable to open database file"
    message = check_connection(url)
    assert message.startswith("Cannot connect to the database") and expected in message
    assert "Check DATABASE_URL" in message and "s3cret-pw" not in message
    assert check_connection(postgres_url() or f"sqlite:///{tmp_path / 'ok.sqlite3'}") is None


def test_running_the_migrations_twice_changes_nothing(app):
    from flask_migrate import current, upgrade
    with app.app_context():
        upgrade()  # already at the head: a no-op, not an error
        with _db.engine.connect() as connection:
            heads = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        current()
    assert len(heads) == 1


def test_postgresql_connections_do_not_jit_compile(db):
    from sqlalchemy import text
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no JIT")
    with db.engine.connect() as connection:
        assert connection.execute(text("SHOW jit")).scalar() == "off"


def test_postgresql_read_only_requests_keep_prepared_statements(app, db, make):
    """A request that only read ends its transaction with COMMIT, so psycopg keeps the statements it
    prepared (a ROLLBACK discards them all and every statement is planned again); a request that
    wrote and did not commit is still rolled back."""
    from sqlalchemy import select, text

    from tracker.units.models import Unit
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no prepared statements to keep")
    make.unit("县教育局")
    db.session.commit()
    with app.test_request_context("/"):
        db.session.scalars(select(Unit)).all()
        assert db.session().in_transaction()
    assert not db.session().in_transaction()          # ended by COMMIT at the request's teardown
    with app.test_request_context("/"):
        db.session.add(Unit(name="未提交的单位", code="uncommitted"))
        db.session.flush()
    with db.engine.connect() as other:                 # the flushed row was never committed
        assert other.execute(text("SELECT count(*) FROM units WHERE code = 'uncommitted'")).scalar() == 0
    db.session.rollback()
    assert db.session.query(Unit).filter_by(code="uncommitted").count() == 0


def _lock_timeout_ms(session) -> int:
    if session.get_bind().dialect.name == "postgresql":
        return session.execute(text("SELECT setting::int FROM pg_settings WHERE name = 'lock_timeout'")).scalar()
    return session.execute(text("PRAGMA busy_timeout")).scalar()


def test_a_requests_lock_waits_add_up_to_the_timeout_not_each_to_its_own(second_app, make, db):
    worker = second_app(DB_LOCK_TIMEOUT_MS=2000)
    item = make.item()
    with worker.test_request_context("/items"):
        worker.preprocess_request()
        assert _lock_timeout_ms(_db.session) == 2000  # nothing waited yet: no statement pays a SET
        _db.session.rollback()
        flask.g.db_wait_deadline = time.monotonic() + 0.3  # as if earlier statements waited 1.7 s
        assert _lock_timeout_ms(_db.session) <= 300
        with RowLock(worker.config["SQLALCHEMY_DATABASE_URI"]).hold("items", item.id):
            started = time.monotonic()
            with pytest.raises(OperationalError) as waited:
                _db.session.execute(text("UPDATE items SET title = 'x' WHERE id = :id"), {"id": item.id})
            assert is_busy(waited.value) and time.monotonic() - started < 1.5
        _db.session.rollback()
        _db.session.remove()
    with worker.test_request_context("/items"):  # the next request has the whole budget again
        worker.preprocess_request()
        assert _lock_timeout_ms(_db.session) == 2000
        _db.session.remove()
