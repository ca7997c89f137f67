"""Many items at once from the ledger (admin): drafts handed out, deadlines, owners and listed
supervision set, checked first, confirmed, all or nothing, each item journaled on its own."""
import datetime as dt
import re

import pytest

from tests.helpers import counted, table
from tracker.auth.models import Role
from tracker.items.models import Item, Status
from tracker.journal import JournalEntry


@pytest.fixture
def case(make, login_as):
    unit = make.unit(name="县教育局")
    head = make.user(Role.HEAD, unit=unit, name="王局长")
    admin = make.user(Role.ADMIN)
    return {"unit": unit, "head": head, "admin": login_as(admin), "admin_user": admin}


def _drafts(make, case, n, owner=True, **kw):
    return [make.item(status=Status.DRAFT, lead_unit=case["unit"], owner=case["head"] if owner else None,
                      title=f"草稿{k}", **kw) for k in range(n)]


def _post(browser, step, items, operation="assign", checked=True, **values):
    data = {"step": step, "operation": operation, "ids": [str(i.id) for i in items]}
    data.update({f: ("" if v is None else str(v)) for f, v in values.items()})
    if step == "confirm" and checked:
        # As the check page fills it: the values it checked.
        data["checked"] = "|".join([operation] + [str(values.get(f)) if values.get(f) not in (None, "") else "None"
                                                  for f in ("lead_unit_id", "owner_id", "deadline")])
    return browser.post("/items/bulk", data)


def _statuses(db, items):
    db.session.expire_all()
    return [db.session.get(Item, i.id).status for i in items]


def test_admin_ticks_drafts_checks_and_hands_them_out(db, make, case, today):
    with_owner = _drafts(make, case, 2)
    without = _drafts(make, case, 1, owner=False)
    ledger = case["admin"].get("/items?status=draft").text
    assert f'name="ids" value="{without[0].id}"' in ledger and "批量处理" in ledger

    chosen = with_owner + without
    page = case["admin"].post("/items/bulk", {"step": "choose", "operation": "assign", "scope": "selected",
                                              "ids": [str(i.id) for i in chosen]})
    assert page.status_code == 200 and "已选 3 项" in page.text
    problems = re.search(r'id="bulk-problems".*?</div>', page.text, re.S).group(0)
    assert "所选事项中有 1 项不能这样变更" in problems and f"事项 {without[0].id}" in problems
    assert 'value="confirm"' not in page.text

    # The owner is given to the item lacking one; the check says what will be done.
    deadline = today + dt.timedelta(days=90)
    page = _post(case["admin"], "check", chosen, owner_id=case["head"].id, deadline=deadline.isoformat())
    assert page.status_code == 200, page.text
    assert "将要执行：" in page.text and "交办 3 项、1 项设定责任人和3 项设定完成时限" in page.text
    rows = table(page, "bulk-items")
    assert [r[-1] for r in rows] == ["可以执行"] * 3
    assert rows[2][4].split() == ["—", "→", "王局长"]
    assert _statuses(db, chosen) == [Status.DRAFT] * 3  # a check changes nothing

    done = _post(case["admin"], "confirm", chosen, owner_id=case["head"].id, deadline=deadline.isoformat())
    assert done.status_code == 302
    assert _statuses(db, chosen) == [Status.ASSIGNED] * 3
    for item in chosen:
        stored = db.session.get(Item, item.id)
        assert (stored.owner_id, stored.deadline, stored.original_deadline, stored.start_on) == \
            (case["head"].id, deadline, deadline, today)
        (entry,) = db.session.query(JournalEntry).filter_by(item_id=item.id, action="assign").all()
        assert entry.changes["status"] == ["draft", "assigned"] and entry.actor_id == case["admin_user"].id
    assert "已完成：交办 3 项" in case["admin"].get("/items").text
    # Handed out, the unit sees them now.
    assert "草稿0" in case["admin"].get(f"/items/{chosen[0].id}").text


def test_one_item_no_longer_a_draft_means_nothing_is_done(db, make, case):
    drafts = _drafts(make, case, 3)
    drafts[1].status = Status.ASSIGNED
    db.session.commit()
    page = _post(case["admin"], "confirm", drafts)
    assert page.status_code == 409
    assert "未作任何变更" in page.text
    problems = re.search(r'id="bulk-problems".*?</div>', page.text, re.S).group(0)
    assert f"事项 {drafts[1].id}" in problems and "已不是待交办" in problems
    assert f"事项 {drafts[0].id}" not in problems
    assert _statuses(db, drafts) == [Status.DRAFT, Status.ASSIGNED, Status.DRAFT]
    assert db.session.query(JournalEntry).filter(JournalEntry.action == "assign").count() == 0


def test_hundred_drafts_in_one_request_cost_a_fixed_number_of_statements(app, db, make, case):
    def statements(n):
        drafts = _drafts(make, case, n)
        ids = [str(d.id) for d in drafts]
        data = {"step": "confirm", "operation": "assign", "ids": ids, "checked": "assign|None|None|None",
                "csrf_token": case["admin"].token()}
        with counted(db.engine) as sent:
            response = case["admin"].post("/items/bulk", data)
        assert response.status_code == 302, response.text
        assert _statuses(db, drafts) == [Status.ASSIGNED] * n
        assert db.session.query(JournalEntry).filter(JournalEntry.action == "assign",
                                                     JournalEntry.item_id.in_([d.id for d in drafts])).count() == n
        return len(sent)

    few, many = statements(10), statements(100)
    assert many == few, (few, many)
    assert many <= 20, many


def test_all_matching_the_filter_reaches_beyond_the_page(db, make, case):
    drafts = _drafts(make, case, 30)
    make.item(status=Status.IN_PROGRESS, lead_unit=case["unit"], owner=case["head"], title="已交办的")
    page = case["admin"].post("/items/bulk", {"step": "choose", "operation": "assign", "scope": "filter",
                                              "status": "draft", "unit": str(case["unit"].id)})
    assert "已选 30 项" in page.text and "已交办的" not in page.text
    assert len(table(page, "bulk-items")) == 30
    on_page = case["admin"].post("/items/bulk", {"step": "choose", "operation": "assign", "scope": "page",
                                                 "page_ids": [str(d.id) for d in drafts[:25]]})
    assert "已选 25 项" in on_page.text
    nothing = case["admin"].post("/items/bulk", {"step": "choose", "operation": "assign", "scope": "selected"},
                                 follow_redirects=True)
    assert "请至少选择一项" in nothing.text


def test_deadline_owner_and_listed_supervision_on_many_items(db, make, case, today):
    drafts = _drafts(make, case, 2)
    assigned = make.item(status=Status.IN_PROGRESS, lead_unit=case["unit"], owner=case["head"])
    later = today + dt.timedelta(days=120)
    page = _post(case["admin"], "check", drafts + [assigned], operation="deadline", deadline=later.isoformat())
    assert "交办后完成时限只能通过延期申请变更" in page.text and 'value="confirm"' not in page.text
    _post(case["admin"], "confirm", drafts, operation="deadline", deadline=later.isoformat())
    db.session.expire_all()
    assert [db.session.get(Item, d.id).deadline for d in drafts] == [later, later]
    assert _statuses(db, drafts) == [Status.DRAFT] * 2

    staff = make.user(Role.STAFF, unit=case["unit"], name="联络员小李")
    stranger = make.user(Role.STAFF, name="外单位的人")
    page = _post(case["admin"], "check", drafts + [assigned], operation="owner", owner_id=stranger.id)
    assert page.status_code == 422 and page.text.count("责任人必须属于牵头单位") == 2 * 3  # in the list and on each row
    assert 'value="confirm"' not in page.text
    _post(case["admin"], "confirm", drafts + [assigned], operation="owner", owner_id=staff.id)
    db.session.expire_all()
    assert {db.session.get(Item, i.id).owner_id for i in drafts + [assigned]} == {staff.id}

    _post(case["admin"], "confirm", drafts + [assigned], operation="listed")
    db.session.expire_all()
    assert all(db.session.get(Item, i.id).listed_supervision for i in drafts + [assigned])
    assert db.session.query(JournalEntry).filter_by(action="list_item").count() == 3


def test_changed_values_after_the_check_need_a_new_check(db, make, case, today):
    drafts = _drafts(make, case, 2)
    data = {"step": "confirm", "operation": "assign", "ids": [str(d.id) for d in drafts],
            "deadline": (today + dt.timedelta(days=30)).isoformat(), "checked": "assign|None|None|None"}
    page = case["admin"].post("/items/bulk", data)
    assert page.status_code == 422 and "核对后内容有改动" in page.text
    assert _statuses(db, drafts) == [Status.DRAFT] * 2


def test_lead_unit_set_for_all_but_not_a_cooperating_one(db, make, case):
    other = make.unit(name="县财政局")
    other_head = make.user(Role.HEAD, unit=other, name="李局长")
    plain = _drafts(make, case, 1)[0]
    cooperating = make.item(status=Status.DRAFT, lead_unit=case["unit"], owner=case["head"], cooperating=[other])
    page = _post(case["admin"], "check", [plain, cooperating], lead_unit_id=other.id, owner_id=other_head.id)
    assert "牵头单位不能同时作为配合单位" in page.text
    _post(case["admin"], "confirm", [plain], lead_unit_id=other.id, owner_id=other_head.id)
    db.session.expire_all()
    stored = db.session.get(Item, plain.id)
    assert (stored.status, stored.lead_unit_id, stored.owner_id) == (Status.ASSIGNED, other.id, other_head.id)


def test_only_admins_and_only_with_the_form_token(db, make, case, login_as, app):
    drafts = _drafts(make, case, 1)
    for role in (Role.HEAD, Role.STAFF, Role.INSPECTOR, Role.LEADER):
        browser = login_as(make.user(role, unit=case["unit"] if role in (Role.HEAD, Role.STAFF) else None))
        assert _post(browser, "confirm", drafts).status_code == 403
        assert 'name="ids"' not in browser.get("/items").text
    anonymous = app.test_client()
    assert anonymous.post("/items/bulk", data={"step": "confirm", "ids": [str(drafts[0].id)]}).status_code in (302, 400)
    forged = case["admin"].post("/items/bulk", {"step": "confirm", "operation": "assign",
                                                "ids": [str(drafts[0].id)], "csrf_token": "forged"})
    assert forged.status_code in (302, 400)
    assert _statuses(db, drafts) == [Status.DRAFT]
