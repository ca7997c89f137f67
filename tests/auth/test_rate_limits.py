"""Rate limits on sign-in and the API, with tiny limits so that a few requests reach them."""
from __future__ import annotations

import pytest

from tests.helpers import Browser, isolated
from tracker.auth.models import Role
from tracker.extensions import limiter
from tracker.journal import JournalEntry

TINY = {"LOGIN_RATE_LIMIT": "3 per minute", "LOGIN_ADDRESS_RATE_LIMIT": "6 per minute",
        "API_RATE_LIMIT": "3 per minute", "API_ADDRESS_RATE_LIMIT": "5 per minute"}


@pytest.fixture
def tiny_limits(app):
    saved = {name: app.config[name] for name in TINY}
    app.config.update(TINY)
    limiter.reset()
    yield
    app.config.update(saved)
    limiter.reset()


def browser_at(app, address: str) -> Browser:
    browser = Browser(app)
    browser.client.environ_base["REMOTE_ADDR"] = address
    return browser


def test_brute_force_is_limited_but_the_owner_signs_in_from_elsewhere(app, make, db, tiny_limits):
    user = make.user(Role.HEAD, username="head-edu")
    attacker = browser_at(app, "203.0.113.9")
    assert [attacker.login("head-edu", f"guess-{n}").status_code for n in range(3)] == [401] * 3
    refused = attacker.login("head-edu", "secret-pass")  # even the right password, from there
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    assert "429" in refused.text and "Traceback" not in refused.text
    owner = browser_at(app, "198.51.100.7")
    assert owner.login(user.username).status_code == 302
    assert owner.get("/my").status_code == 200


def test_every_attempt_is_journaled_with_the_address(app, make, db, tiny_limits):
    make.user(Role.HEAD, username="head-edu")
    attacker = browser_at(app, "203.0.113.9")
    for n in range(4):
        attacker.login("head-edu", f"guess-{n}")
    attacker.login("nobody-here", "x")
    browser_at(app, "198.51.100.7").login("head-edu")
    actions = [e.action for e in db.session.query(JournalEntry).order_by(JournalEntry.id)]
    assert actions == ["sign_in_failed"] * 3 + ["sign_in_throttled", "sign_in_failed", "sign_in"]
    failed = db.session.query(JournalEntry).filter_by(action="sign_in_failed").first()
    assert failed.changes["address"] == [None, "203.0.113.9"] and failed.note == "username: head-edu"
    success = db.session.query(JournalEntry).filter_by(action="sign_in").one()
    assert success.changes["address"] == [None, "198.51.100.7"]


def test_successful_sign_ins_do_not_use_up_the_allowance(app, make, db, tiny_limits):
    user = make.user(Role.ADMIN)
    for _ in range(5):
        browser = browser_at(app, "192.0.2.1")
        assert browser.login(user.username).status_code == 302


def test_a_sweep_over_many_usernames_from_one_address_is_limited(app, db, tiny_limits):
    sweeper = browser_at(app, "203.0.113.50")
    codes = [sweeper.login(f"user{n}", "password").status_code for n in range(7)]
    assert codes == [401] * 6 + [429]


def test_the_limit_page_speaks_the_users_language(app, db, tiny_limits):
    browser = browser_at(app, "203.0.113.77")
    for n in range(3):
        browser.login("ghost", "x")
    english = isolated(browser.client.post, "/login?lang=en", data={
        "username": "ghost", "password": "x", "csrf_token": browser.token()})
    assert english.status_code == 429 and "Too many" in english.text


def test_the_api_is_limited_per_token_with_a_json_answer(app, make, db, tiny_limits):
    from tests.helpers import ApiClient
    user = make.user(Role.ADMIN)
    client = ApiClient(app, make.token(user, "t"))
    assert [client.get("/api/v1/me").status_code for _ in range(3)] == [200] * 3
    limited = client.get("/api/v1/me")
    assert limited.status_code == 429 and limited.get_json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0
    other = ApiClient(app, make.token(user, "u"))
    assert other.get("/api/v1/me").status_code == 200  # another token has its own allowance
