"""Signing in and out."""

import re

import pytest

from tests.helpers import Browser, isolated
from tracker.auth.models import Role, User


def test_login_page_has_username_and_password_fields(browser):
    page = browser.get("/login")
    assert page.status_code == 200
    assert 'name="username"' in page.text and 'name="password"' in page.text
    assert 'name="csrf_token"' in page.text


def test_wrong_password_says_so_and_does_not_sign_in(browser, make):
    user = make.user(Role.ADMIN)
    page = browser.login(user.username, "wrong-password")
    assert page.status_code == 401
    assert "用户名或密码错误" in page.text
    assert browser.get("/items").status_code == 302  # still signed out


def test_many_wrong_passwords_keep_answering_clearly(browser, make):
    user = make.user(Role.ADMIN)
    for _ in range(12):
        page = browser.login(user.username, "nope")
        assert page.status_code == 401 and "用户名或密码错误" in page.text
    assert browser.login(user.username).status_code == 302


def test_unknown_user_gets_the_same_message(browser, db):
    page = browser.login("ghost", "whatever")
    assert page.status_code == 401 and "用户名或密码错误" in page.text


def test_inactive_user_cannot_sign_in(browser, make):
    user = make.user(Role.ADMIN, active=False)
    assert browser.login(user.username).status_code == 401


@pytest.mark.parametrize("role, lands_on, shows", [
    (Role.HEAD, "/my", "我的事项"), (Role.STAFF, "/my", "我的事项"), (Role.ADMIN, "/items", "整改台账"),
    (Role.INSPECTOR, "/review", "销号审核"), (Role.LEADER, "/reports/", "工作看板"),
])
def test_each_role_lands_on_what_it_comes_to_do(login_as, make, role, lands_on, shows):
    browser = login_as(make.user(role))
    response = browser.get("/")
    assert response.headers["Location"].endswith(lands_on)
    assert re.search(rf"<h1[^>]*>\s*{shows}", browser.get(response.headers["Location"]).text)


def test_session_cookie_is_httponly_and_samesite(browser, make):
    user = make.user(Role.ADMIN)
    response = browser.login(user.username)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_cookie_copied_before_sign_out_no_longer_works(app, login_as, make):
    user = make.user(Role.ADMIN)
    browser = login_as(user)
    stolen = browser.client.get_cookie("session").value
    browser.logout()
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert isolated(thief.get, "/items").status_code == 302  # sent to the login page


def test_other_sessions_survive_one_sign_out(login_as, make):
    user = make.user(Role.ADMIN)
    laptop, phone = login_as(user), login_as(user)
    laptop.logout()
    assert phone.get("/items").status_code == 200


def test_post_without_csrf_token_is_refused(browser, make):
    user = make.user(Role.ADMIN)
    response = browser.client.post("/login", data={"username": user.username, "password": "secret-pass"})
    assert response.status_code == 400
    assert browser.get("/items").status_code == 302


def test_sign_out_is_a_post_only(login_as, make):
    browser = login_as(make.user(Role.ADMIN))
    assert browser.get("/logout").status_code == 405
    assert browser.get("/items").status_code == 200


def test_next_parameter_cannot_redirect_off_site(browser, make):
    user = make.user(Role.ADMIN)
    response = browser.post("/login?next=https://evil.example/", {"username": user.username,
                                                                  "password": "secret-pass"})
    assert response.headers["Location"] == "/"


def test_next_parameter_returns_to_the_page_asked_for(browser, make):
    user = make.user(Role.ADMIN)
    response = browser.post("/login?next=/evaluations/", {"username": user.username, "password": "secret-pass"})
    assert response.headers["Location"] == "/evaluations/"


def test_create_user_command_makes_an_account_that_can_sign_in(app, db, browser):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "--username", "coord", "--name", "整改办", "--email",
                                 "c@example.org", "--role", "admin", "--password", "long-enough-1"])
    assert result.exit_code == 0, result.output
    assert db.session.query(User).filter_by(username="coord").one().role == Role.ADMIN
    assert browser.login("coord", "long-enough-1").status_code == 302


def test_create_user_command_refuses_a_head_without_unit(app, db):
    result = app.test_cli_runner().invoke(args=[
        "create-user", "--username", "h", "--name", "H", "--email", "h@example.org", "--role", "head",
        "--password", "long-enough-1"])
    assert result.exit_code != 0
    assert "unit" in result.output.lower()
    assert db.session.query(User).count() == 0


def test_unknown_username_costs_a_password_hash_like_a_known_one(browser, make, monkeypatch):
    """Timing must not tell which usernames exist: the hash runs for unknown names too."""
    from tracker.auth import models
    calls = []
    real = models.check_password_hash

    def counting(password_hash, password):
        calls.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(models, "check_password_hash", counting)
    user = make.user(Role.ADMIN)
    assert browser.login(user.username, "wrong-password").status_code == 401
    known = len(calls)
    assert known == 1
    assert browser.login("ghost", "wrong-password").status_code == 401
    assert len(calls) - known == known


@pytest.mark.parametrize("target", ["/items%0d%0aSet-Cookie:%20x=1", "/%0aevil", "/\\evil.example/",
                                    "/items%09"])
def test_a_next_target_with_control_characters_or_backslashes_goes_home(browser, make, target):
    user = make.user(Role.ADMIN)
    response = browser.post(f"/login?next={target}", {"username": user.username, "password": "secret-pass"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Set-Cookie: x" not in str(response.headers)


@pytest.mark.parametrize("lang, message", [("zh_CN", "请先登录，再查看此页面。"), ("en", "Please sign in to see this page.")])
def test_the_sign_in_page_asks_in_the_users_language(browser, lang, message):
    response = browser.get(f"/items?lang={lang}")
    assert response.status_code == 302
    page = browser.get(response.headers["Location"])
    assert message in page.text
    assert ("Please log in" not in page.text)
