"""Changing one's password, the policy, an administrator's reset, and how long a sign-in lasts."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.helpers import Browser, isolated
from tracker import clock
from tracker.auth.models import LoginSession, Role, User
from tracker.extensions import limiter
from tracker.auth.passwords import policy_error
from tracker.journal import JournalEntry

NEW = "Tiaozheng-2026-ok"


def change(browser, current="secret-pass", new=NEW, confirm=None):
    return browser.post("/profile/password", {"current_password": current, "new_password": new,
                                              "confirm": new if confirm is None else confirm})


@pytest.mark.parametrize("password, ok", [
    ("short-1", False), ("password1234", False), ("aaaaaaaaaaaaaa", False), ("my-head7-password", False),
    ("Tiaozheng-2026-ok", True), ("一二三四五六七八九十百千", True),
    # from the common-password lists (not in the app's own short list) and keyboard walks
    ("iloveyou2026", False), ("1qaz2wsx3edc4rfv", False), ("qazwsxedcrfvtgb", False), ("Password2026!", False),
    ("woaini1314520", False), ("zhongguo2026!", False),
])
def test_the_policy(password, ok):
    assert (policy_error(password, "head7") is None) is ok


def test_changing_the_password_signs_out_every_other_device(app, make, login_as, db):
    user = make.user(Role.HEAD, username="head7")
    laptop, phone = login_as(user), login_as(user)
    response = change(laptop)
    assert response.status_code == 302
    assert laptop.get("/my").status_code == 200          # this browser goes on
    assert phone.get("/my").status_code == 302           # the other one is signed out
    assert Browser(app).login("head7", NEW).status_code == 302
    assert Browser(app).login("head7", "secret-pass").status_code == 401
    entry = db.session.query(JournalEntry).filter_by(action="change_password").one()
    assert entry.changes == {"password": ["***", "***"]}


def test_changing_the_password_revokes_the_api_tokens_and_says_so(app, make, login_as, db):
    user = make.user(Role.HEAD, username="head7")
    secret = make.token(user, "报表脚本")
    client = app.test_client()

    def me():  # in a thread of its own, like a real request
        return isolated(client.get, "/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me().status_code == 200
    browser = login_as(user)
    home = browser.get(change(browser).headers["Location"])
    assert "您的 API 令牌已全部吊销" in browser.get(home.headers["Location"]).text
    assert me().status_code == 401
    assert db.session.query(JournalEntry).filter_by(action="revoke_token").one().note == "报表脚本"


def test_guessing_the_current_password_is_rate_limited(app, make, login_as, db):
    app.config["PASSWORD_CHECK_RATE_LIMIT"] = "3 per minute"
    limiter.reset()
    try:
        browser = login_as(make.user(Role.HEAD, username="head7"))
        assert [change(browser, current=f"guess-{n}").status_code for n in range(3)] == [422] * 3
        assert change(browser, current="secret-pass").status_code == 429  # even the right one, for now
    finally:
        app.config["PASSWORD_CHECK_RATE_LIMIT"] = "100000 per minute"
        limiter.reset()
    db.session.expire_all()
    assert db.session.scalar(select(User).filter_by(username="head7")).check_password("secret-pass")


@pytest.mark.parametrize("kw, field", [
    ({"current": "wrong"}, "current_password"), ({"new": "short"}, "new_password"),
    ({"new": "secret-pass"}, "new_password"), ({"confirm": "Something-else-1"}, "confirm"),
])
def test_a_refused_change_says_why_and_changes_nothing(make, login_as, db, kw, field):
    user = make.user(Role.HEAD, username="head7")
    browser = login_as(user)
    response = change(browser, **kw)
    assert response.status_code == 422
    assert f'id="{field}-errors"' in response.text
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password("secret-pass")


def test_an_admin_reset_forces_a_new_password_at_next_sign_in(app, make, login_as, db):
    admin = login_as(make.user(Role.ADMIN))
    user = make.user(Role.HEAD, username="head7")
    admin.post(f"/admin/users/{user.id}", {
        "username": "head7", "name": user.name, "email": user.email, "role": "head", "unit_id": user.unit_id,
        "language": "zh_CN", "active": "y", "password": "Reset-by-admin-1"})
    browser = Browser(app)
    signed_in = browser.login("head7", "Reset-by-admin-1")
    assert signed_in.headers["Location"].endswith("/profile/password")
    assert browser.get("/my").headers["Location"].endswith("/profile/password")
    page = browser.get("/profile/password")
    assert page.status_code == 200
    browser._token = Browser.TOKEN.search(page.text).group(1)  # every other page sends it here
    assert change(browser, current="Reset-by-admin-1").status_code == 302
    assert browser.get("/my").status_code == 200


def test_a_sign_in_expires_after_the_session_lifetime(app, make, login_as):
    browser = login_as(make.user(Role.ADMIN))
    cookie = browser.get("/items")
    assert cookie.status_code == 200
    lifetime = app.permanent_session_lifetime
    clock.freeze(clock.now() + lifetime - dt.timedelta(minutes=1))
    assert browser.get("/items").status_code == 200
    clock.freeze(clock.now() + dt.timedelta(minutes=2))
    assert browser.get("/items").status_code == 302


def test_expired_sessions_are_deleted_at_the_next_sign_in(app, make, login_as, db):
    early, late = make.user(Role.HEAD, username="early"), make.user(Role.HEAD, username="late")
    login_as(early), login_as(early)
    clock.freeze(clock.now() + app.permanent_session_lifetime + dt.timedelta(minutes=1))
    still_in = login_as(late)
    owners = db.session.scalars(select(LoginSession.user_id)).all()
    assert owners == [late.id]  # early's two expired rows are gone, late's own session is kept
    assert still_in.get("/my").status_code == 200


def test_the_session_cookie_expires_with_the_lifetime(browser, make):
    user = make.user(Role.ADMIN)
    assert "Expires=" in browser.login(user.username).headers["Set-Cookie"]
