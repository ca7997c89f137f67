"""Health check and a database that is missing or not migrated."""
from config import TestConfig
from tracker import create_app


def test_healthz_reports_ok_after_a_database_round_trip(browser):
    response = browser.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "reachable"}


def test_unmigrated_database_gives_a_clear_page_not_a_stack_trace(tmp_path):
    class Empty(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'empty.sqlite3'}"

    client = create_app(Empty).test_client()
    page = client.get("/login")
    assert page.status_code == 200  # the sign-in form itself needs no table
    page = client.post("/login", data={"username": "a", "password": "b"})
    assert page.status_code in (400, 503)
    health = client.get("/healthz")
    assert health.status_code == 200  # SELECT 1 works on an empty database


def test_a_database_behind_the_code_asks_the_operator_to_upgrade(tmp_path):
    class Empty(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        WTF_CSRF_ENABLED = False

    page = create_app(Empty).test_client().post("/login", data={"username": "a", "password": "b"})
    assert page.status_code == 503
    assert ".venv/bin/flask --app wsgi db upgrade" in page.text and "Traceback" not in page.text


def test_unreachable_database_gives_503(tmp_path):
    class Missing(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'no-such-dir' / 'db.sqlite3'}"
        WTF_CSRF_ENABLED = False

    client = create_app(Missing).test_client()
    page = client.post("/login", data={"username": "a", "password": "b"})
    assert page.status_code == 503
    assert "暂时无法连接数据库，本次操作未保存" in page.text and "Traceback" not in page.text
    assert "db upgrade" not in page.text  # the schema is not what is wrong
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json() == {"status": "unavailable", "database": "unreachable"}
