"""Creating, editing and posting progress survive bad input: clear messages, nothing changed."""
import datetime as dt

import pytest

from tracker.auth.models import Role
from tracker.items.models import Item, ProgressUpdate, Status
from tracker.journal import JournalEntry

D = dt.timedelta


@pytest.fixture
def setup(make, login_as):
    lead, partner = make.unit("县教育局人事股"), make.unit("县委编办")
    owner = make.user(Role.HEAD, unit=lead)
    admin = login_as(make.user(Role.ADMIN))
    finding = make.finding()
    return {"lead": lead, "partner": partner, "owner": owner, "admin": admin, "finding": finding}


def form(setup, today, **override):
    data = {"finding_id": setup["finding"].id, "title": "补充音体美专业教师", "measures": "加大招聘力度",
            "target": "配备率达到90%", "kind": "deadline", "lead_unit_id": setup["lead"].id,
            "cooperating_unit_ids": [setup["partner"].id], "owner_id": setup["owner"].id,
            "responsible_leader": "副县长", "deadline": (today + D(days=30)).isoformat()}
    data.update(override)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_creates_a_draft_item_from_a_finding(setup, db, today):
    page = setup["admin"].get(f"/items/new?finding={setup['finding'].id}")
    assert page.status_code == 200 and 'selected' in page.text
    response = setup["admin"].post("/items/new", form(setup, today))
    assert response.status_code == 302
    item = db.session.query(Item).one()
    assert item.status == Status.DRAFT and item.original_deadline == today + D(days=30)
    assert [u.name for u in item.cooperating_units] == ["县委编办"]
    entry = db.session.query(JournalEntry).filter_by(item_id=item.id, action="create").one()
    assert entry.changes["title"] == [None, "补充音体美专业教师"]


@pytest.mark.parametrize("override,field_message", [
    ({"title": ""}, "必填"), ({"title": "   "}, "必填"), ({"title": "长" * 201}, "200"),
    ({"measures": "x" * 5001}, "5000"), ({"target": None}, "必填"),
    ({"lead_unit_id": "99999"}, "有效"), ({"lead_unit_id": "abc"}, ""),
    ({"cooperating_unit_ids": ["99999"]}, ""), ({"owner_id": "99999"}, ""),
    ({"kind": "forever"}, ""), ({"deadline": "2026-13-45"}, ""), ({"deadline": ""}, ""),
    ({"finding_id": "0"}, ""),
])
def test_bad_item_input_is_refused_with_a_message_and_saves_nothing(setup, db, today, override, field_message):
    response = setup["admin"].post("/items/new", form(setup, today, **override))
    assert response.status_code == 422
    assert 'class="errors"' in response.text and field_message in response.text
    assert db.session.query(Item).count() == 0


def test_lead_unit_cannot_also_cooperate(setup, db, today):
    response = setup["admin"].post("/items/new", form(setup, today, cooperating_unit_ids=[setup["lead"].id]))
    assert response.status_code == 422 and db.session.query(Item).count() == 0


def test_owner_must_belong_to_the_lead_unit(setup, db, today, make):
    outsider = make.user(Role.HEAD, unit=setup["partner"])
    response = setup["admin"].post("/items/new", form(setup, today, owner_id=outsider.id))
    assert response.status_code == 422 and db.session.query(Item).count() == 0


def test_past_deadline_needs_confirmation(setup, db, today):
    past = (today - D(days=1)).isoformat()
    response = setup["admin"].post("/items/new", form(setup, today, deadline=past))
    assert response.status_code == 422 and "已过" in response.text
    assert db.session.query(Item).count() == 0
    response = setup["admin"].post("/items/new", form(setup, today, deadline=past, confirm_past_deadline="y"))
    assert response.status_code == 302
    assert db.session.query(Item).one().deadline == today - D(days=1)


def test_form_keeps_what_was_typed_after_an_error(setup, today):
    response = setup["admin"].post("/items/new", form(setup, today, title="", measures="我的整改措施草稿"))
    assert "我的整改措施草稿" in response.text


def test_html_in_text_fields_is_shown_escaped(setup, db, today, login_as):
    setup["admin"].post("/items/new", form(setup, today, title="<script>alert(1)</script>",
                                           measures="<b>bold</b>"))
    item = db.session.query(Item).one()
    for page in (setup["admin"].get(f"/items/{item.id}"), setup["admin"].get("/items")):
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<b>bold</b>" not in setup["admin"].get(f"/items/{item.id}").text


def test_edit_journals_old_and_new_values(setup, db, today, make):
    item = make.item(status=Status.DRAFT, lead_unit=setup["lead"], owner=setup["owner"], title="旧标题")
    page = setup["admin"].get(f"/items/{item.id}/edit")
    assert "旧标题" in page.text
    data = form(setup, today, title="新标题", version=item.version, cooperating_unit_ids=[])
    assert setup["admin"].post(f"/items/{item.id}/edit", data).status_code == 302
    entry = db.session.query(JournalEntry).filter_by(item_id=item.id, action="update").one()
    assert entry.changes["title"] == ["旧标题", "新标题"]
    assert "cooperating_units" not in entry.changes  # unchanged fields are not journaled
    assert "旧标题" in setup["admin"].get(f"/items/{item.id}").text  # shown in the history


def test_deadline_is_frozen_after_assignment(setup, db, today, make):
    item = make.item(status=Status.IN_PROGRESS, lead_unit=setup["lead"], owner=setup["owner"],
                     deadline=today + D(days=30))
    data = form(setup, today, deadline=(today + D(days=90)).isoformat(), version=item.version)
    response = setup["admin"].post(f"/items/{item.id}/edit", data)
    assert response.status_code == 422 and "延期" in response.text
    db.session.expire_all()
    assert db.session.get(Item, item.id).deadline == today + D(days=30)


def test_stale_edit_form_is_refused(setup, db, today, make):
    item = make.item(status=Status.DRAFT, lead_unit=setup["lead"], owner=setup["owner"], title="原标题")
    stale_version = item.version
    setup["admin"].post(f"/items/{item.id}/edit", form(setup, today, title="第一人修改", version=stale_version))
    response = setup["admin"].post(f"/items/{item.id}/edit", form(setup, today, title="第二人修改",
                                                                  version=stale_version), follow_redirects=True)
    assert "其他人" in response.text or "他人" in response.text
    db.session.expire_all()
    assert db.session.get(Item, item.id).title == "第一人修改"


@pytest.mark.parametrize("version", [None, "", "abc", "9" * 30])
def test_an_edit_posted_without_a_usable_version_is_a_bad_request_never_a_500(setup, db, today, make, version):
    item = make.item(status=Status.DRAFT, lead_unit=setup["lead"], owner=setup["owner"], title="旧标题")
    data = form(setup, today, title="新标题", cooperating_unit_ids=[])
    data.pop("version", None)
    if version is not None:
        data["version"] = version
    response = setup["admin"].post(f"/items/{item.id}/edit", data)
    assert response.status_code == 400 and "请求无效" in response.text
    db.session.expire_all()
    assert db.session.get(Item, item.id).title == "旧标题"


@pytest.fixture
def progress_case(make, login_as):
    lead = make.unit()
    item = make.item(status=Status.IN_PROGRESS, lead_unit=lead, progress=20)
    return item, login_as(make.user(Role.HEAD, unit=lead))


def test_progress_updates_the_item_and_journal(progress_case, db):
    item, head = progress_case
    response = head.post(f"/items/{item.id}/progress", {"body": "完成笔试", "percent": "45", "submission_key": "a"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Item, item.id).progress_percent == 45
    entry = db.session.query(JournalEntry).filter_by(item_id=item.id, action="progress").one()
    assert entry.changes["progress_percent"] == [20, 45]
    page = head.get(f"/items/{item.id}")
    assert "完成笔试" in page.text and "45%" in page.text


@pytest.mark.parametrize("percent", ["-1", "101", "abc", "", "50.5", "1e3"])
def test_percent_outside_0_to_100_is_refused(progress_case, db, percent):
    item, head = progress_case
    response = head.post(f"/items/{item.id}/progress", {"body": "x", "percent": percent, "submission_key": "a"})
    assert response.status_code == 422 and 'class="errors"' in response.text
    assert db.session.query(ProgressUpdate).count() == 0


@pytest.mark.parametrize("body", ["", "   ", "字" * 5001])
def test_empty_or_overlong_progress_text_is_refused(progress_case, db, body):
    item, head = progress_case
    response = head.post(f"/items/{item.id}/progress", {"body": body, "percent": "30", "submission_key": "a"})
    assert response.status_code == 422
    assert db.session.query(ProgressUpdate).count() == 0


def test_double_submitted_progress_form_posts_once(progress_case, db):
    item, head = progress_case
    data = {"body": "完成面试", "percent": "60", "submission_key": "same-key"}
    head.post(f"/items/{item.id}/progress", data)
    second = head.post(f"/items/{item.id}/progress", data, follow_redirects=True)
    assert "已报送过" in second.text
    assert db.session.query(ProgressUpdate).filter_by(item_id=item.id).count() == 1


def test_progress_before_acknowledgement_is_refused(make, login_as, db):
    lead = make.unit()
    item = make.item(status=Status.ASSIGNED, lead_unit=lead)
    response = login_as(make.user(Role.HEAD, unit=lead)).post(
        f"/items/{item.id}/progress", {"body": "x", "percent": "10", "submission_key": "k"}, follow_redirects=True)
    assert "签收" in response.text
    assert db.session.query(ProgressUpdate).count() == 0
