"""The unit's own sign-off (单位负责人审核): a staff member's submission for closure waits for the
unit's head, who passes it on to the inspectors or sends it back with a comment."""
import re

import pytest

from tracker.auth.models import Role
from tracker.items.models import Item, Status
from tracker.journal import JournalEntry


@pytest.fixture
def unit_case(make, login_as):
    """A unit with a head and a staff member, and an item it leads, in progress, with evidence."""
    def build(*, head=True, signoff=True):
        unit = make.unit(signoff_required=signoff)
        people = {"staff": make.user(Role.STAFF, unit=unit, name="联络员 马丽")}
        if head:
            people["head"] = make.user(Role.HEAD, unit=unit, name="负责人 王强")
        item = make.item(status=Status.IN_PROGRESS, lead_unit=unit, owner=people["staff"],
                         title="补齐音体美教师", with_evidence=True)
        return unit, item, {name: login_as(user) for name, user in people.items()}
    return build


def _status(db, item):
    db.session.expire_all()
    return db.session.get(Item, item.id).status


def _journal(db, item):
    return [e.action for e in db.session.query(JournalEntry).filter_by(item_id=item.id).order_by(JournalEntry.id)]


def test_staff_submission_waits_for_the_head_then_reaches_the_inspectors(db, make, login_as, unit_case):
    _unit, item, b = unit_case()
    inspector = login_as(make.user(Role.INSPECTOR))

    page = b["staff"].get(f"/items/{item.id}").text
    assert "提交单位负责人审核" in page and f"/items/{item.id}/actions/submit_for_closure" not in page
    # Straight to the inspectors is refused for staff of a unit that signs off.
    refused = b["staff"].post(f"/items/{item.id}/actions/submit_for_closure", follow_redirects=True)
    assert "请提交单位负责人审核" in refused.text and _status(db, item) == Status.IN_PROGRESS

    page = b["staff"].post(f"/items/{item.id}/actions/submit_for_signoff", follow_redirects=True).text
    assert _status(db, item) == Status.SIGNOFF
    assert "待单位负责人审核" in page and "负责人审核后才报送督导" in page
    assert "补齐音体美教师" not in inspector.get("/review").text  # not the inspectors' yet

    mine = b["head"].get("/my").text
    assert "有 1 项联络员提交的销号申请待您审核" in mine and "补齐音体美教师" in mine
    page = b["head"].get(f"/items/{item.id}").text
    assert "审核通过，申请销号" in page and "退回联络员" in page

    b["head"].post(f"/items/{item.id}/actions/approve_submission", follow_redirects=True)
    assert _status(db, item) == Status.SUBMITTED
    assert "补齐音体美教师" in inspector.get("/review").text
    assert "待您审核" not in b["head"].get("/my").text
    assert _journal(db, item)[-2:] == ["submit_for_signoff", "approve_submission"]
    history = b["staff"].get(f"/items/{item.id}").text
    assert "提交单位负责人审核" in history and "审核通过并申请销号" in history


def test_head_sends_back_with_a_comment_the_staff_reads(db, unit_case):
    _unit, item, b = unit_case()
    b["staff"].post(f"/items/{item.id}/actions/submit_for_signoff")

    empty = b["head"].post(f"/items/{item.id}/actions/send_back", {"reason": "  "})
    assert empty.status_code == 422 and "请填写理由" in empty.text
    assert _status(db, item) == Status.SIGNOFF

    b["head"].post(f"/items/{item.id}/actions/send_back", {"reason": "请补充学校签收的花名册"})
    assert _status(db, item) == Status.IN_PROGRESS
    page = b["staff"].get(f"/items/{item.id}").text
    assert "单位负责人退回：" in page and "请补充学校签收的花名册" in page
    entry = db.session.query(JournalEntry).filter_by(item_id=item.id, action="send_back").one()
    assert entry.note == "请补充学校签收的花名册"

    # Submitted again and signed off, the comment is gone from the page.
    b["staff"].post(f"/items/{item.id}/actions/submit_for_signoff")
    b["head"].post(f"/items/{item.id}/actions/approve_submission")
    assert _status(db, item) == Status.SUBMITTED
    assert "请补充学校签收的花名册" not in b["staff"].get(f"/items/{item.id}").text.split('id="journal-h"')[0]


def test_unit_without_signoff_submits_straight_through(db, unit_case):
    _unit, item, b = unit_case(signoff=False)
    page = b["staff"].get(f"/items/{item.id}").text
    assert "submit_for_signoff" not in page
    b["staff"].post(f"/items/{item.id}/actions/submit_for_closure")
    assert _status(db, item) == Status.SUBMITTED


def test_deployment_without_signoff_submits_straight_through(app, db, unit_case, monkeypatch):
    monkeypatch.setitem(app.config, "UNIT_SIGNOFF", False)
    _unit, item, b = unit_case()
    b["staff"].post(f"/items/{item.id}/actions/submit_for_closure")
    assert _status(db, item) == Status.SUBMITTED


def test_heads_own_submission_needs_no_second_step(db, unit_case):
    _unit, item, b = unit_case()
    assert "submit_for_signoff" not in b["head"].get(f"/items/{item.id}").text
    b["head"].post(f"/items/{item.id}/actions/submit_for_closure")
    assert _status(db, item) == Status.SUBMITTED


def test_unit_without_a_head_is_signed_off_by_the_coordinator(db, make, login_as, unit_case):
    unit, item, b = unit_case(head=False)
    make.user(Role.HEAD, unit=unit, active=False)  # a head who left does not count
    b["staff"].post(f"/items/{item.id}/actions/submit_for_signoff")
    assert _status(db, item) == Status.SIGNOFF
    admin = login_as(make.user(Role.ADMIN))
    page = admin.get(f"/items/{item.id}").text
    assert "该单位没有在岗的负责人，由整改办代为审核" in page and "审核通过，申请销号" in page
    assert "待单位负责人审核" in admin.get("/items?status=signoff").text
    admin.post(f"/items/{item.id}/actions/approve_submission")
    assert _status(db, item) == Status.SUBMITTED


def test_only_the_lead_units_head_signs_off(db, make, login_as, unit_case):
    _unit, item, b = unit_case()
    b["staff"].post(f"/items/{item.id}/actions/submit_for_signoff")
    other_head = login_as(make.user(Role.HEAD))
    assert other_head.post(f"/items/{item.id}/actions/approve_submission").status_code == 404
    assert other_head.post(f"/items/{item.id}/actions/send_back", {"reason": "不行"}).status_code == 404
    # The staff member cannot sign off their own submission, nor an inspector.
    refused = b["staff"].post(f"/items/{item.id}/actions/approve_submission", follow_redirects=True)
    assert 'class="flash flash-error"' in refused.text
    inspector = login_as(make.user(Role.INSPECTOR))
    inspector.post(f"/items/{item.id}/actions/approve_submission")
    assert _status(db, item) == Status.SIGNOFF


def test_waiting_submission_freezes_evidence_and_can_be_taken_back(db, unit_case):
    _unit, item, b = unit_case()
    b["staff"].post(f"/items/{item.id}/actions/submit_for_signoff")
    page = b["staff"].get(f"/items/{item.id}").text
    assert "撤回销号申请" in page
    b["staff"].post(f"/items/{item.id}/actions/withdraw_submission")
    assert _status(db, item) == Status.IN_PROGRESS


def test_admin_turns_a_units_signoff_off_on_its_form(db, make, login_as):
    unit = make.unit(name="县残联", code="dpf")
    admin = login_as(make.user(Role.ADMIN))
    form = admin.get(f"/admin/units/{unit.id}").text
    box = re.search(r'<input[^>]*name="signoff_required"[^>]*>', form).group(0)
    assert "联络员的销号申请须经单位负责人审核" in form and "checked" in box  # on unless switched off
    admin.post(f"/admin/units/{unit.id}", {"name": "县残联", "code": "dpf", "active": "y"})
    db.session.expire_all()
    assert db.session.get(type(unit), unit.id).signoff_required is False
    entry = db.session.query(JournalEntry).filter_by(action="update").order_by(JournalEntry.id.desc()).first()
    assert entry.changes["signoff_required"] == [True, False]
    assert "<td>否</td>" in admin.get("/admin/units").text.split("县残联")[1]
