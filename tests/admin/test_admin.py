"""Admins manage units and users; bad input is refused field by field and journaled changes are kept."""
import pytest

from tracker.auth.models import Role, User
from tracker.journal import JournalEntry
from tracker.units.models import Unit


@pytest.fixture
def admin(login_as, make):
    return login_as(make.user(Role.ADMIN, username="boss"))


def test_create_and_rename_a_unit_with_a_parent(admin, db, make):
    parent = make.unit("县教育局")
    response = admin.post("/admin/units/new", {"name": "县教育局人事股", "code": "edu-personnel",
                                               "parent_id": parent.id, "active": "y"})
    assert response.status_code == 302
    unit = db.session.query(Unit).filter_by(code="edu-personnel").one()
    assert unit.parent_id == parent.id
    admin.post(f"/admin/units/{unit.id}", {"name": "人事股", "code": "edu-personnel", "parent_id": parent.id,
                                          "active": "y"})
    entry = db.session.query(JournalEntry).filter_by(object_type="units", object_id=unit.id,
                                                     action="update").one()
    assert entry.changes["name"] == ["县教育局人事股", "人事股"]
    assert "人事股" in admin.get("/admin/units").text


@pytest.mark.parametrize("data", [
    {"name": "", "code": "x"}, {"name": "长" * 101, "code": "x"}, {"name": "单位", "code": "Not Valid!"},
    {"name": "单位", "code": "x", "parent_id": "99999"},
])
def test_bad_unit_input_is_refused(admin, db, data):
    response = admin.post("/admin/units/new", data)
    assert response.status_code == 422 and 'class="errors"' in response.text
    assert db.session.query(Unit).count() == 0


def test_duplicate_unit_name_is_refused(admin, db, make):
    make.unit("县财政局", code="finance")
    response = admin.post("/admin/units/new", {"name": "县财政局", "code": "finance-2"})
    assert response.status_code == 422
    assert db.session.query(Unit).count() == 1


def test_unit_cannot_be_its_own_ancestor(admin, db, make):
    top = make.unit("上级")
    child = make.unit("下级", parent=top)
    response = admin.post(f"/admin/units/{top.id}", {"name": "上级", "code": top.code, "parent_id": child.id})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Unit, top.id).parent_id is None


def test_create_a_head_who_can_then_sign_in(admin, db, make, browser):
    unit = make.unit()
    response = admin.post("/admin/users/new", {"username": "head-new", "name": "新股长", "email": "n@example.org",
                                               "role": "head", "unit_id": unit.id, "language": "zh_CN",
                                               "active": "y", "password": "long-enough-1"})
    assert response.status_code == 302
    assert browser.login("head-new", "long-enough-1").status_code == 302


@pytest.mark.parametrize("override", [
    {"username": "has space"}, {"username": "boss"}, {"email": "not-an-email"}, {"role": "king"},
    {"role": "head", "unit_id": ""}, {"password": "short"}, {"unit_id": "99999"},
])
def test_bad_user_input_is_refused(admin, db, make, override):
    data = {"username": "someone", "name": "某人", "email": "s@example.org", "role": "leader",
            "language": "zh_CN", "active": "y", "password": "long-enough-1"}
    data.update(override)
    response = admin.post("/admin/users/new", data)
    assert response.status_code == 422
    assert db.session.query(User).filter_by(username=data["username"]).count() == (1 if data["username"] == "boss" else 0)


def test_password_reset_signs_the_user_out_everywhere(admin, db, make, login_as):
    user = make.user(Role.LEADER)
    victim = login_as(user)
    admin.post(f"/admin/users/{user.id}", {"username": user.username, "name": user.name, "email": user.email,
                                          "role": "leader", "language": "zh_CN", "active": "y",
                                          "password": "brand-new-pass"})
    assert victim.get("/items").status_code == 302
    entry = db.session.query(JournalEntry).filter_by(object_type="users", object_id=user.id, action="update").one()
    assert entry.changes["password"] == ["***", "***"]  # recorded, never revealed


def test_password_reset_revokes_the_users_api_tokens(admin, app, db, make):
    from tests.helpers import ApiClient
    user = make.user(Role.HEAD)
    secret = make.token(user, "报表脚本")
    program = ApiClient(app, secret)
    assert program.get("/api/v1/me").status_code == 200
    response = admin.post(f"/admin/users/{user.id}", {"username": user.username, "name": user.name,
                                                     "email": user.email, "role": "head", "unit_id": user.unit_id,
                                                     "language": "zh_CN", "active": "y", "password": "brand-new-pass"})
    assert response.status_code == 302, response.text
    assert program.get("/api/v1/me").status_code == 401
    assert db.session.query(JournalEntry).filter_by(object_type="api_tokens", action="revoke_token").count() == 1


def test_deactivated_user_is_signed_out(admin, db, make, login_as):
    user = make.user(Role.LEADER)
    victim = login_as(user)
    admin.post(f"/admin/users/{user.id}", {"username": user.username, "name": user.name, "email": user.email,
                                          "role": "leader", "language": "zh_CN"})
    assert victim.get("/items").status_code == 302


def test_admin_cannot_demote_themselves(admin, db):
    me = db.session.query(User).filter_by(username="boss").one()
    response = admin.post(f"/admin/users/{me.id}", {"username": "boss", "name": me.name, "email": me.email,
                                                   "role": "leader", "language": "zh_CN", "active": "y"})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(User, me.id).role == Role.ADMIN
