"""Who may see and do what: another unit's item is invisible, readers read, only admins edit."""
import re

import pytest

from tracker.auth.models import Role
from tracker.items.models import Item, ProgressUpdate, Status


@pytest.fixture
def world(make):
    lead, partner, stranger = make.unit("县教育局"), make.unit("县财政局"), make.unit("县残联")
    item = make.item(status=Status.IN_PROGRESS, lead_unit=lead, cooperating=[partner], title="补充紧缺学科教师")
    return {"item": item, "lead": lead, "partner": partner, "stranger": stranger}


@pytest.mark.parametrize("role,unit_key,visible", [
    (Role.ADMIN, None, True), (Role.INSPECTOR, None, True), (Role.LEADER, None, True),
    (Role.HEAD, "lead", True), (Role.STAFF, "lead", True), (Role.HEAD, "partner", True),
    (Role.STAFF, "partner", True), (Role.HEAD, "stranger", False), (Role.STAFF, "stranger", False),
])
def test_item_page_and_ledger_visibility(login_as, make, world, role, unit_key, visible):
    user = make.user(role, unit=world[unit_key] if unit_key else None)
    browser = login_as(user)
    item = world["item"]
    page = browser.get(f"/items/{item.id}")
    assert page.status_code == (200 if visible else 404)
    assert ("补充紧缺学科教师" in browser.get("/items").text) == visible


def test_guessing_ids_gives_the_same_404_as_a_missing_item(login_as, make, world):
    browser = login_as(make.user(Role.HEAD, unit=world["stranger"]))
    hidden = browser.get(f"/items/{world['item'].id}")
    missing = browser.get("/items/999999")
    assert hidden.status_code == missing.status_code == 404
    def without_paths(text):  # the pages differ only by the URL they echo (language links)
        return re.sub(r"/items/\d+", "/items/N", text)
    assert without_paths(hidden.text) == without_paths(missing.text)


@pytest.mark.parametrize("url", ["/items/abc", "/items/-1", "/items/1.5", "/items/99999999999999999999"])
def test_tampered_item_ids_answer_404(login_as, make, url):
    assert login_as(make.user(Role.ADMIN)).get(url).status_code == 404


@pytest.mark.parametrize("role,unit_key,allowed", [
    (Role.ADMIN, None, True), (Role.HEAD, "lead", True), (Role.STAFF, "partner", True),
    (Role.INSPECTOR, None, False), (Role.LEADER, None, False),
])
def test_who_may_post_progress(login_as, make, db, world, role, unit_key, allowed):
    item = world["item"]
    browser = login_as(make.user(role, unit=world[unit_key] if unit_key else None))
    page = browser.get(f"/items/{item.id}")
    assert ('name="percent"' in page.text) == allowed
    browser.post(f"/items/{item.id}/progress", {"body": "已完成招聘", "percent": "30", "submission_key": "k1"})
    assert db.session.query(ProgressUpdate).filter_by(item_id=item.id).count() == (1 if allowed else 0)


def test_other_units_head_cannot_post_progress_by_guessing(login_as, make, db, world):
    item = world["item"]
    response = login_as(make.user(Role.HEAD, unit=world["stranger"])).post(
        f"/items/{item.id}/progress", {"body": "x", "percent": "50", "submission_key": "k"})
    assert response.status_code == 404
    assert db.session.query(ProgressUpdate).count() == 0


@pytest.mark.parametrize("role", [Role.HEAD, Role.STAFF, Role.INSPECTOR, Role.LEADER])
@pytest.mark.parametrize("url", ["/items/new", "/admin/units", "/admin/users", "/admin/units/new",
                                 "/admin/users/new"])
def test_admin_pages_are_forbidden_to_other_roles(login_as, make, role, url):
    assert login_as(make.user(role)).get(url).status_code == 403


def test_non_admin_cannot_edit_an_item(login_as, make, db, world):
    item = world["item"]
    browser = login_as(make.user(Role.HEAD, unit=world["lead"]))
    assert browser.get(f"/items/{item.id}/edit").status_code == 403
    response = browser.post(f"/items/{item.id}/edit", {"title": "改过的标题"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Item, item.id).title == "补充紧缺学科教师"


@pytest.mark.parametrize("url", ["/items", "/items/1", "/my", "/evaluations/", "/admin/users"])
def test_signed_out_visitors_are_sent_to_sign_in(browser, url):
    response = browser.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_my_items_shows_lead_and_cooperating_items_of_the_unit(login_as, make, world):
    own = make.item(lead_unit=world["partner"], title="财政局牵头事项")
    other = make.item(lead_unit=world["stranger"], title="残联事项")
    page = login_as(make.user(Role.HEAD, unit=world["partner"])).get("/my")
    assert "补充紧缺学科教师" in page.text and own.title in page.text
    assert other.title not in page.text


def test_my_items_puts_what_waits_for_the_unit_first(login_as, make, today):
    import datetime as dt
    import re
    lead = make.unit("县教育局")
    head = make.user(Role.HEAD, unit=lead)
    make.item(lead_unit=lead, title="红灯事项", deadline=today - dt.timedelta(days=5))
    make.item(lead_unit=lead, title="正常推进", deadline=today + dt.timedelta(days=90))
    make.item(lead_unit=lead, title="退回重办", status=Status.RETURNED)
    make.item(lead_unit=lead, title="待签收事项", status=Status.ASSIGNED)
    page = login_as(head).get("/my").text
    titles = re.findall(r'<td class="title-cell"><a href="/items/\d+">([^<]+)</a>', page)
    assert titles == ["待签收事项", "退回重办", "红灯事项", "正常推进"]
    assert "退回：佐证材料不足" in page
