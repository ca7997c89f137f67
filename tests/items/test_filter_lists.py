"""The ledger's unit and owner filter lists: cached per process, never stale, short at any scale."""
import re

import pytest
from sqlalchemy import delete, insert, update

from tracker.auth.models import Role, User
from tracker.items import choices
from tracker.units.models import Unit


@pytest.fixture
def admin(login_as, make):
    return login_as(make.user(Role.ADMIN))


def options(page, select_id: str) -> list[str]:
    block = re.search(rf'<select id="{select_id}" name="{select_id}"[^>]*>(.*?)</select>', page.text, re.S)
    return re.findall(r"<option [^>]*>([^<]*)</option>", block.group(1))[1:]   # without "All"


def test_a_renamed_or_new_unit_shows_in_the_filter_at_once(admin, make):
    make.unit("县教育局")
    assert "县教育局" in options(admin.get("/items"), "unit")            # cached now
    unit = make.unit("县财政局")
    assert options(admin.get("/items"), "unit") == ["县教育局", "县财政局"]
    admin.post(f"/admin/units/{unit.id}", {"name": "县财政局（改）", "code": unit.code})
    assert options(admin.get("/items"), "unit") == ["县教育局", "县财政局（改）"]


def test_a_change_made_by_another_worker_is_seen(admin, make, app, db):
    unit = make.unit("县教育局")
    assert options(admin.get("/items"), "unit") == ["县教育局"]
    # Another process renames the unit: this process's cache knows nothing of it but the token.
    with app.app_context():
        db.session.get(Unit, unit.id).name = "县教育体育局"
        db.session.commit()
    assert options(admin.get("/items"), "unit") == ["县教育体育局"]


def test_a_unit_renamed_by_an_update_statement_through_the_session_is_seen(admin, make, app, db):
    unit = make.unit("县教育局")
    assert options(admin.get("/items"), "unit") == ["县教育局"]
    with app.app_context():  # an ORM-enabled UPDATE: no flush, no object changes
        db.session.execute(update(Unit).where(Unit.id == unit.id).values(name="县教育体育局"))
        db.session.commit()
    assert options(admin.get("/items"), "unit") == ["县教育体育局"]


def test_an_owner_renamed_by_an_update_statement_through_the_session_is_seen(admin, make, app, db):
    user = make.user(Role.HEAD, unit=make.unit(), name="王主任")
    assert options(admin.get("/items"), "owner") == ["王主任"]
    with app.app_context():
        db.session.execute(update(User).where(User.id == user.id).values(name="王局长"))
        db.session.commit()
    assert options(admin.get("/items"), "owner") == ["王局长"]


def test_an_owner_renamed_on_a_core_connection_is_seen(admin, make, app, db):
    user = make.user(Role.HEAD, unit=make.unit(), name="王主任")
    assert options(admin.get("/items"), "owner") == ["王主任"]
    with app.app_context(), db.engine.begin() as connection:   # as a bulk load or the CLI writes
        connection.execute(update(User.__table__).where(User.__table__.c.id == user.id).values(name="王局长"))
    assert options(admin.get("/items"), "owner") == ["王局长"]


def test_a_person_added_or_removed_on_a_core_connection_is_seen(admin, make, app, db):
    unit = make.unit()
    user = make.user(Role.HEAD, unit=unit, name="王主任")
    assert options(admin.get("/items"), "owner") == ["王主任"]
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(insert(User.__table__).values(
            username="li", name="李干事", email="li@example.org", role=Role.STAFF, unit_id=unit.id, active=True, password_hash="x"))
    assert options(admin.get("/items"), "owner") == ["李干事", "王主任"]
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(delete(User.__table__).where(User.__table__.c.id == user.id))
    assert options(admin.get("/items"), "owner") == ["李干事"]


def test_a_rolled_back_rename_leaves_the_list(admin, make, app, db):
    user = make.user(Role.HEAD, unit=make.unit(), name="王主任")
    assert options(admin.get("/items"), "owner") == ["王主任"]
    with app.app_context():
        db.session.execute(update(User).where(User.id == user.id).values(name="王局长"))
        db.session.rollback()
    assert options(admin.get("/items"), "owner") == ["王主任"]


def test_the_chosen_unit_and_owner_stay_selected(admin, make):
    unit = make.unit("县教育局")
    owner = make.user(Role.HEAD, unit=unit, name="王主任")
    page = admin.get(f"/items?unit={unit.id}&owner={owner.id}").text
    assert f'<option value="{unit.id}" selected>县教育局</option>' in page
    assert f'<option value="{owner.id}" selected>王主任</option>' in page


def test_with_many_people_the_owner_list_shows_the_chosen_units_people(admin, make, monkeypatch):
    monkeypatch.setattr(choices, "OWNER_LIST_MAX", 2)
    edu, fin = make.unit("县教育局"), make.unit("县财政局")
    wang = make.user(Role.HEAD, unit=edu, name="王主任")
    make.user(Role.STAFF, unit=edu, name="李干事")
    make.user(Role.HEAD, unit=fin, name="赵科长")
    everyone = admin.get("/items")
    assert options(everyone, "owner") == []
    assert "选择单位后可按其人员筛选" in everyone.text
    assert options(admin.get(f"/items?unit={edu.id}"), "owner") == ["李干事", "王主任"]
    # An owner already filtered on stays in the list (and selected), whatever the unit.
    page = admin.get(f"/items?unit={fin.id}&owner={wang.id}")
    assert options(page, "owner") == ["赵科长", "王主任"]
    # The unit's list is kept, and renewed by any change of its people.
    make.user(Role.STAFF, unit=edu, name="孙干事")
    assert options(admin.get(f"/items?unit={edu.id}"), "owner") == ["孙干事", "李干事", "王主任"]


def test_few_people_are_all_listed_and_a_new_one_appears(admin, make, db):
    unit = make.unit()
    make.user(Role.HEAD, unit=unit, name="王主任")
    assert options(admin.get("/items"), "owner") == ["王主任"]
    user = make.user(Role.STAFF, unit=unit, name="李干事")
    assert options(admin.get("/items"), "owner") == ["李干事", "王主任"]
    db.session.get(User, user.id).role = Role.INSPECTOR   # no longer an owner
    db.session.commit()
    assert options(admin.get("/items"), "owner") == ["王主任"]
