"""Changing one's password, the policy, an administrator's reset, and how long a sign-in lasts."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.helpers import Browser
from tracker import clock
from tracker.auth.models import Role, User
from tracker.auth.passwords import policy_error
from tracker.journal import JournalEntry

NEW = "Tiaozheng-2026-ok"


def change(browser, current="secret-pass", new=NEW, confirm=None):
    return browser.post("/profile/password", {"current_password": current, "new_password": new,
                                              "confirm": new if confirm is None else confirm})


@pytest.mark.parametrize("password, ok", [
    ("short-1", False), ("password1234", False), ("aaaaaaaaaaaaaa", False), ("my-head7-password", False),
    ("Tiaozheng-2026-ok", True), ("一二三四五六七八九十百千", True),
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


def test_the_session_cookie_expires_with_the_lifetime(browser, make):
    user = make.user(Role.ADMIN)
    assert "Expires=" in browser.login(user.username).headers["Set-Cookie"]
