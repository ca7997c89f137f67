"""Two requests racing on every write path: one wins, the other is told "changed by someone else"
(409, the conflict page or the API's `version_conflict`) with nothing of it saved; never a 500.

The other writer is simulated inside the losing request (runs on SQLite and PostgreSQL alike): just
before the request's flush, another statement bumps the item's version, or takes the unit name or
username the request is about to save. On PostgreSQL, two real progress posts also race behind a
row lock (progress is appended: both are kept).
"""
import datetime as dt
import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, insert, update
from sqlalchemy.orm import Session

from tests.helpers import TODAY, postgres_url
from tests.evidence import samples
from tests.locks import RowLock
from tracker.auth.models import Role, User
from tracker.inspection.models import ExtensionRequest, Recheck
from tracker.items.models import Item, Milestone, ProgressUpdate, Status
from tracker.journal import JournalEntry
from tracker.units.models import Unit

D = dt.timedelta
TODAY_PLUS_90 = TODAY + D(days=90)
STALE = "Someone else changed this item at the same time"
TAKEN = "Someone else saved a change to the same record at the same time"


@pytest.fixture
def other_writer():
    """other_writer(statement): run `statement` in the next request's first flush that writes
    something of its own (not a sign-in's), as another person's save committed a moment before."""
    pending = []

    def interfere(session, _context, _instances):
        if pending and any(type(o).__name__ not in ("LoginSession", "ApiToken")
                           for o in (*session.new, *session.dirty, *session.deleted)):
            session.connection().execute(pending.pop())
    event.listen(Session, "before_flush", interfere)
    yield pending.append
    event.remove(Session, "before_flush", interfere)


def bump_versions():
    return update(Item.__table__).values(version=Item.__table__.c.version + 1)


@pytest.fixture
def desk(make, login_as, db, today):
    lead = make.unit("县教育局")
    head = make.user(Role.HEAD, unit=lead, language="en")
    admin, inspector = make.user(Role.ADMIN, language="en"), make.user(Role.INSPECTOR, language="en")
    return {"lead": lead, "users": {"head": head, "admin": admin, "inspector": inspector},
            "browsers": {}, "login_as": login_as, "make": make, "db": db, "today": today}


def browser(desk, role):
    if role not in desk["browsers"]:
        desk["browsers"][role] = desk["login_as"](desk["users"][role])
    return desk["browsers"][role]


def pdf(name="佐证.pdf", side="a"):
    return (io.BytesIO(samples.pdf(side)), name)


# Each write path: (role, status of the item, prepare(desk, item) -> extra, post(browser, item, extra),
# what must be unchanged afterwards: check(db, item, extra)).
def _edit(b, item, _extra):
    return b.post(f"/items/{item.id}/edit", {
        "finding_id": item.finding_id, "lead_unit_id": item.lead_unit_id, "title": "我输入的新标题",
        "measures": "措施", "target": "目标", "kind": "deadline", "responsible_leader": "",
        "deadline": item.deadline.isoformat(), "version": item.version, "seen_entry": 0})


def _with_evidence(desk, item):
    return desk["make"].evidence(item, uploader=desk["users"]["head"]).id


def _pending_extension(desk, item):
    browser(desk, "head").post(f"/items/{item.id}/extension", {
        "new_deadline": (item.deadline + D(days=60)).isoformat(), "reason": "用地审批未完成"})
    return desk["db"].session.query(ExtensionRequest).one().id


def _due_recheck(desk, item):
    recheck = Recheck(item_id=item.id, due_on=desk["today"], scheduled_by_id=desk["users"]["inspector"].id)
    desk["db"].session.add(recheck)
    desk["db"].session.commit()
    return recheck.id


def _milestone(desk, item):
    milestone = Milestone(item_id=item.id, title="完成选址", due_on=desk["today"] + D(days=20))
    desk["db"].session.add(milestone)
    desk["db"].session.commit()
    return milestone.id


def _journal(db, item):
    return db.session.query(JournalEntry).filter_by(item_id=item.id).count()


PAGE_PATHS = {
    "edit": ("admin", Status.DRAFT, None, _edit),
    "transition": ("head", Status.ASSIGNED, None,
                   lambda b, item, _x: b.post(f"/items/{item.id}/actions/acknowledge")),
    "evidence upload": ("head", Status.IN_PROGRESS, None,
                        lambda b, item, _x: b.post(f"/items/{item.id}/evidence", {"files": [pdf()]},
                                                   content_type="multipart/form-data")),
    "evidence withdraw": ("head", Status.IN_PROGRESS, _with_evidence,
                          lambda b, item, eid: b.post(f"/items/{item.id}/evidence/{eid}/withdraw",
                                                      {"reason": "传错了文件"})),
    "extension request": ("head", Status.IN_PROGRESS, None,
                          lambda b, item, _x: b.post(f"/items/{item.id}/extension", {
                              "new_deadline": (item.deadline + D(days=60)).isoformat(), "reason": "用地审批"})),
    "extension decide": ("inspector", Status.IN_PROGRESS, _pending_extension,
                         lambda b, item, rid: b.post(f"/items/{item.id}/extension/{rid}/approve", {"comment": ""})),
    "listed supervision": ("inspector", Status.IN_PROGRESS, None,
                           lambda b, item, _x: b.post(f"/items/{item.id}/listed/on")),
    "checklist": ("inspector", Status.IN_PROGRESS, None,
                  lambda b, item, _x: b.post(f"/items/{item.id}/requirements", {"title": "会议纪要"})),
    "re-check schedule": ("inspector", Status.CLOSED, None,
                          lambda b, item, _x: b.post(f"/items/{item.id}/rechecks",
                                                     {"due_on": (item.deadline + D(days=90)).isoformat()})),
    "re-check record": ("inspector", Status.CLOSED, _due_recheck,
                        lambda b, item, rid: b.post(f"/items/{item.id}/rechecks/{rid}",
                                                    {"outcome": "problem_back", "finding": "问题反弹"})),
    "milestone add": ("admin", Status.IN_PROGRESS, None,
                      lambda b, item, _x: b.post(f"/items/{item.id}/milestones",
                                                 {"title": "完成招标", "due_on": (item.deadline).isoformat()})),
    "milestone done": ("head", Status.IN_PROGRESS, _milestone,
                       lambda b, item, mid: b.post(f"/items/{item.id}/milestones/{mid}/done")),
}


@pytest.mark.parametrize("path", list(PAGE_PATHS))
def test_a_page_write_that_lost_a_race_shows_the_conflict_page(desk, other_writer, path):
    role, status, prepare, post = PAGE_PATHS[path]
    db = desk["db"]
    item = desk["make"].item(status=status, lead_unit=desk["lead"], owner=desk["users"]["head"],
                             deadline=desk["today"] + D(days=30))
    extra = prepare(desk, item) if prepare else None
    b = browser(desk, role)
    db.session.expire_all()
    before = (_journal(db, item), db.session.get(Item, item.id).version)
    other_writer(bump_versions())
    page = post(b, item, extra)
    assert page.status_code == 409, page.text[:500]
    assert STALE in page.text and "Changed by someone else" in page.text
    db.session.expire_all()
    assert (_journal(db, item), db.session.get(Item, item.id).version) == before  # nothing of it saved


def test_the_edit_form_that_lost_a_race_keeps_what_was_typed(desk, other_writer):
    item = desk["make"].item(status=Status.DRAFT, lead_unit=desk["lead"], title="原标题")
    admin = browser(desk, "admin")
    other_writer(bump_versions())
    page = _edit(admin, item, None)
    assert page.status_code == 409 and 'value="我输入的新标题"' in page.text


def test_the_conflict_page_shows_what_the_other_person_changed(desk, other_writer):
    item = desk["make"].item(status=Status.IN_PROGRESS, lead_unit=desk["lead"], owner=desk["users"]["head"])
    browser(desk, "head").post(f"/items/{item.id}/progress", {"body": "已完成选址", "percent": "40",
                                                              "submission_key": "k1"})
    inspector = browser(desk, "inspector")
    other_writer(bump_versions())
    page = inspector.post(f"/items/{item.id}/listed/on")
    assert page.status_code == 409
    box = page.text.split('class="card wide conflict"')[1].split("</section>")[0]
    assert "已完成选址" in box and "<del>0%</del> → <ins>40%</ins>" in box


def test_progress_posted_while_someone_else_saves_is_kept(desk, other_writer, db):
    """Progress is appended: a post does not need the version the poster read."""
    item = desk["make"].item(status=Status.IN_PROGRESS, lead_unit=desk["lead"], owner=desk["users"]["head"])
    head = browser(desk, "head")
    other_writer(bump_versions())
    page = head.post(f"/items/{item.id}/progress", {
        "body": "完成了两所学校的扩建", "percent": "60", "submission_key": "k2"}, follow_redirects=True)
    assert page.status_code == 200 and "Progress posted." in page.text
    db.session.expire_all()
    assert db.session.get(Item, item.id).progress_percent == 60


MEANWHILE = {"submitted for closure": {"status": Status.SUBMITTED.value},
             "deadline extended": {"deadline": TODAY_PLUS_90}}


@pytest.mark.parametrize("meanwhile", list(MEANWHILE))
def test_progress_on_an_item_changed_meanwhile_keeps_the_typed_text(desk, db, meanwhile):
    """Progress is refused only when what it depends on changed: the state, or the schedule its
    traffic light is computed from."""
    item = desk["make"].item(status=Status.IN_PROGRESS, lead_unit=desk["lead"], owner=desk["users"]["head"])
    head = browser(desk, "head")

    def submit_first(session, _context, _instances):
        """A colleague's change is saved just before this post is."""
        if any(isinstance(o, ProgressUpdate) for o in session.new):
            session.connection().execute(update(Item.__table__).where(Item.__table__.c.id == item.id)
                                         .values(**MEANWHILE[meanwhile]))
    event.listen(Session, "before_flush", submit_first)
    try:
        page = head.post(f"/items/{item.id}/progress", {"body": "我写的很长的进展说明", "percent": "70",
                                                        "submission_key": "k3"})
    finally:
        event.remove(Session, "before_flush", submit_first)
    assert page.status_code == 409 and STALE in page.text
    assert "我写的很长的进展说明" in page.text  # the typed text is still in the form
    db.session.expire_all()
    assert db.session.query(ProgressUpdate).filter_by(item_id=item.id).count() == 0


def test_admin_saves_that_lost_a_race_for_a_name_show_the_conflict_page(desk, other_writer, db):
    admin = browser(desk, "admin")
    unit = desk["make"].unit("县卫健委", code="wjw")
    other_writer(insert(Unit.__table__).values(name="县卫生健康委员会", code="wsjk", active=True))
    page = admin.post(f"/admin/units/{unit.id}", {"name": "县卫生健康委员会", "code": "wjw", "active": "y"})
    assert page.status_code == 409 and TAKEN in page.text
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).name == "县卫健委"

    user = desk["users"]["head"]
    other_writer(insert(User.__table__).values(username="zhang.san", name="张三", email="", role=Role.STAFF.value,
                                               unit_id=desk["lead"].id, active=True, password_hash="x",
                                               language="zh_CN"))
    page = admin.post(f"/admin/users/{user.id}", {
        "username": "zhang.san", "name": user.name, "email": user.email, "role": "head",
        "unit_id": desk["lead"].id, "language": "en", "active": "y"})
    assert page.status_code == 409 and TAKEN in page.text
    db.session.expire_all()
    assert db.session.get(User, user.id).username == desk["users"]["head"].username


def test_revoking_a_token_twice_revokes_it_once(desk, db):
    from tracker.api.models import ApiToken
    head = browser(desk, "head")
    desk["make"].token(desk["users"]["head"], "脚本")
    token = db.session.query(ApiToken).one()
    first, second = (head.post(f"/profile/tokens/{token.id}/revoke") for _ in range(2))
    assert (first.status_code, second.status_code) == (302, 302)
    assert db.session.query(JournalEntry).filter_by(action="revoke_token").count() == 1


# -- the API ---------------------------------------------------------------------------------

API_PATHS = {
    "transition": ("head", Status.ASSIGNED, lambda c, item: c.post(f"/api/v1/items/{item.id}/actions/acknowledge")),
    "evidence upload": ("head", Status.IN_PROGRESS,
                        lambda c, item: c.post(f"/api/v1/items/{item.id}/evidence", data={"files": [pdf()]},
                                               content_type="multipart/form-data")),
    "close": ("inspector", Status.SUBMITTED,
              lambda c, item: c.post(f"/api/v1/items/{item.id}/actions/close_item", json={"result": "rectified"})),
}


@pytest.fixture
def api_of(desk, app):
    from tests.helpers import ApiClient

    def client(role):
        c = ApiClient(app, desk["make"].token(desk["users"][role]))
        assert c.get("/api/v1/me").status_code == 200  # the token's first use is recorded now, not in the race
        return c
    return client


@pytest.mark.parametrize("path", list(API_PATHS))
def test_an_api_write_that_lost_a_race_is_a_409_version_conflict(desk, api_of, other_writer, path):
    role, status, post = API_PATHS[path]
    db = desk["db"]
    item = desk["make"].item(status=status, lead_unit=desk["lead"], owner=desk["users"]["head"],
                             with_evidence=status == Status.SUBMITTED)
    client = api_of(role)
    before = (_journal(db, item), db.session.get(Item, item.id).status)
    other_writer(bump_versions())
    response = post(client, item)
    assert response.status_code == 409, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] == "version_conflict" and error["message"]
    assert isinstance(error["changes"], list)
    db.session.expire_all()
    assert (_journal(db, item), db.session.get(Item, item.id).status) == before


def test_an_api_progress_post_while_someone_else_saves_is_kept(desk, api_of, other_writer, db):
    item = desk["make"].item(status=Status.IN_PROGRESS, lead_unit=desk["lead"], owner=desk["users"]["head"])
    client = api_of("head")
    other_writer(bump_versions())
    response = client.post(f"/api/v1/items/{item.id}/progress", json={"body": "进展", "percent": 30})
    assert response.status_code == 201 and response.get_json()["item"]["progress_percent"] == 30


@pytest.mark.skipif(postgres_url() is None, reason="a real row-lock race needs PostgreSQL")
def test_simultaneous_progress_posts_are_all_kept(desk, app, db):
    """Issue 15 point 10: posts queued behind one row lock all land, none is refused."""
    item = desk["make"].item(status=Status.IN_PROGRESS, lead_unit=desk["lead"], owner=desk["users"]["head"])
    heads = [desk["login_as"](desk["users"]["head"]) for _ in range(3)]
    for h in heads:
        h.token()
    with ThreadPoolExecutor(len(heads)) as pool:
        with RowLock(app.config["SQLALCHEMY_DATABASE_URI"]).hold("items", item.id) as lock:
            futures = [pool.submit(h.post, f"/items/{item.id}/progress",
                                   {"body": f"第{n}条进展", "percent": str(10 * (n + 1)), "submission_key": f"p{n}"})
                       for n, h in enumerate(heads)]
            lock.wait_for_waiters(len(heads))
        responses = [f.result(timeout=30) for f in futures]
    assert [r.status_code for r in responses] == [302, 302, 302]
    db.session.expire_all()
    assert db.session.query(ProgressUpdate).filter_by(item_id=item.id).count() == 3
