"""The workflow table decides every transition, for every role and state, through the pages."""
import itertools

import pytest

from tests.helpers import Browser, isolated
from tracker.auth.models import Role
from tracker.items.models import Item, Status
from tracker.items.workflow import BY_ACTION, TRANSITIONS
from tracker.journal import JournalEntry

INPUTS = {"reason": "理由：材料不全", "result": "rectified"}


def _expected(action, role, status):
    transition = BY_ACTION[action]  # a step of another operation is never a bare action
    # The units here sign off (the default): staff submit to their head, the others straight on.
    signs_off = role.submits_through_head()
    return (role in transition.roles and status in transition.sources and not transition.part_of
            and transition.signoff in (None, signs_off))


@pytest.mark.parametrize("action,role,status", list(itertools.product(
    [t.action for t in TRANSITIONS], list(Role), list(Status))))
def test_transition_matrix(login_as, make, db, action, role, status):
    """Each role, in each state, may take exactly the actions the table gives it; refusals change nothing."""
    lead = make.unit()
    actor = make.user(role, unit=lead if role in (Role.HEAD, Role.STAFF) else None)
    item = make.item(status=status, lead_unit=lead, owner=make.user(Role.HEAD, unit=lead), with_evidence=True)
    browser = login_as(actor)
    before = item.status
    response = browser.post(f"/items/{item.id}/actions/{action}", INPUTS, follow_redirects=True)
    hidden = status == Status.DRAFT and not role.can_see_drafts()  # a draft is not there for them
    assert response.status_code == (404 if hidden else 200)
    db.session.expire_all()
    item = db.session.get(Item, item.id)
    if _expected(action, role, status):
        assert item.status == BY_ACTION[action].target
        assert db.session.query(JournalEntry).filter_by(item_id=item.id, action=action).count() == 1
    else:
        assert item.status == before
        assert db.session.query(JournalEntry).filter_by(item_id=item.id).filter(
            JournalEntry.action != "attach_evidence").count() == 0
        assert hidden or 'class="flash flash-error"' in response.text


@pytest.mark.parametrize("action", ["acknowledge", "submit_for_closure"])
def test_cooperating_unit_cannot_take_lead_unit_actions(login_as, make, db, action):
    lead, partner = make.unit(), make.unit()
    status = Status.ASSIGNED if action == "acknowledge" else Status.IN_PROGRESS
    item = make.item(status=status, lead_unit=lead, cooperating=[partner])
    response = login_as(make.user(Role.HEAD, unit=partner)).post(
        f"/items/{item.id}/actions/{action}", follow_redirects=True)
    assert "只有牵头单位" in response.text
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == status


def test_other_units_head_gets_404_on_actions(login_as, make, db):
    item = make.item(status=Status.ASSIGNED)
    response = login_as(make.user(Role.HEAD)).post(f"/items/{item.id}/actions/acknowledge")
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == Status.ASSIGNED


@pytest.mark.parametrize("action", ["return_item", "cancel", "reopen"])
def test_actions_needing_a_reason_refuse_without_one(login_as, make, db, action):
    status = {"return_item": Status.SUBMITTED, "cancel": Status.IN_PROGRESS, "reopen": Status.CLOSED}[action]
    item = make.item(status=status)
    response = login_as(make.user(Role.ADMIN)).post(f"/items/{item.id}/actions/{action}", {"reason": "  "})
    assert response.status_code == 422
    assert "请填写理由" in response.text
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == status


def test_close_needs_a_valid_result(login_as, make, db):
    item = make.item(status=Status.SUBMITTED, with_evidence=True)
    response = login_as(make.user(Role.INSPECTOR)).post(f"/items/{item.id}/actions/close_item",
                                                        {"result": "bogus"})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == Status.SUBMITTED


def test_closing_records_who_when_and_result(login_as, make, db, today):
    import datetime as dt
    from tracker.items.models import Milestone
    item = make.item(status=Status.SUBMITTED, progress=80, with_evidence=True)
    db.session.add(Milestone(item=item, title="二期工程", due_on=today + dt.timedelta(days=90)))
    db.session.commit()
    inspector = make.user(Role.INSPECTOR)
    login_as(inspector).post(f"/items/{item.id}/actions/close_item", {"result": "ongoing"})
    db.session.expire_all()
    item = db.session.get(Item, item.id)
    assert item.status == Status.CLOSED and item.closed_by_id == inspector.id
    assert item.closed_at is not None and item.closure_result.value == "ongoing"


def test_return_reason_is_shown_to_the_unit(login_as, make, db):
    lead = make.unit()
    item = make.item(status=Status.SUBMITTED, lead_unit=lead)
    login_as(make.user(Role.INSPECTOR)).post(f"/items/{item.id}/actions/return_item",
                                             {"reason": "缺少县政府批准文件"})
    page = login_as(make.user(Role.HEAD, unit=lead)).get(f"/items/{item.id}")
    assert "缺少县政府批准文件" in page.text and "已退回" in page.text


def test_assign_needs_an_owner(login_as, make, db):
    item = make.item(status=Status.DRAFT, owner=None)
    response = login_as(make.user(Role.ADMIN)).post(f"/items/{item.id}/actions/assign")
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == Status.DRAFT


def test_unknown_action_is_refused_clearly(login_as, make, db):
    item = make.item()
    response = login_as(make.user(Role.ADMIN)).post(f"/items/{item.id}/actions/explode", follow_redirects=True)
    assert response.status_code == 200 and "未知操作" in response.text


def test_actions_box_lists_only_allowed_actions(login_as, make):
    lead = make.unit()
    item = make.item(status=Status.ASSIGNED, lead_unit=lead)
    page = login_as(make.user(Role.HEAD, unit=lead)).get(f"/items/{item.id}")
    assert f"/items/{item.id}/actions/acknowledge" in page.text
    assert f"/items/{item.id}/actions/close_item" not in page.text
    page = login_as(make.user(Role.LEADER)).get(f"/items/{item.id}")
    assert "/actions/" not in page.text


def test_full_life_of_an_item(login_as, make, db):
    """draft → assigned → acknowledged → submitted → returned → in progress → submitted → closed."""
    lead = make.unit()
    head = make.user(Role.HEAD, unit=lead)
    item = make.item(status=Status.DRAFT, lead_unit=lead, owner=head, with_evidence=True)
    admin, unit, inspector = login_as(make.user(Role.ADMIN)), login_as(head), login_as(make.user(Role.INSPECTOR))
    steps = [(admin, "assign", {}), (unit, "acknowledge", {}), (unit, "submit_for_closure", {}),
             (inspector, "return_item", {"reason": "补充材料"}), (unit, "resume", {}),
             (unit, "submit_for_closure", {}), (inspector, "close_item", {"result": "rectified"})]
    for who, action, data in steps:
        assert who.post(f"/items/{item.id}/actions/{action}", data).status_code == 302
    db.session.expire_all()
    item = db.session.get(Item, item.id)
    assert item.status == Status.CLOSED and item.progress_percent == 100
    actions = [e.action for e in db.session.query(JournalEntry).filter_by(item_id=item.id).order_by(JournalEntry.id)]
    assert actions == [s[1] for s in steps]


def test_ongoing_closure_needs_a_future_milestone(login_as, make, db):
    item = make.item(status=Status.SUBMITTED, with_evidence=True)
    response = login_as(make.user(Role.INSPECTOR)).post(f"/items/{item.id}/actions/close_item", {"result": "ongoing"})
    assert response.status_code == 422 and "时间节点" in response.text
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == Status.SUBMITTED


@pytest.mark.parametrize("role", [Role.INSPECTOR, Role.ADMIN])
def test_a_closed_item_is_not_reopened_as_if_a_recheck_had_found_the_problem(app, login_as, make, db, role):
    item = make.item(status=Status.CLOSED, with_evidence=True)
    actor = make.user(role)
    page = login_as(actor).post(f"/items/{item.id}/actions/reopen_after_recheck", INPUTS, follow_redirects=True)
    assert "这不是单独的操作，只能通过登记复查结果完成。" in page.text
    secret = make.token(actor, "脚本")
    answer = isolated(app.test_client().post, f"/api/v1/items/{item.id}/actions/reopen_after_recheck",
                               json={"reason": "问题反弹", "version": item.version},
                               headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code in (403, 409) and "登记复查结果" in answer.get_json()["error"]["message"]
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == Status.CLOSED
    assert db.session.query(JournalEntry).filter_by(item_id=item.id, action="reopen_after_recheck").count() == 0


def test_an_item_cannot_be_closed_once_its_evidence_is_gone(login_as, make, db):
    lead = make.unit()
    item = make.item(status=Status.SUBMITTED, lead_unit=lead)
    evidence = make.evidence(item, uploader=make.user(Role.HEAD, unit=lead))
    admin = login_as(make.user(Role.ADMIN))
    admin.post(f"/items/{item.id}/evidence/{evidence.id}/withdraw", {"reason": "文件有误"})
    page = login_as(make.user(Role.INSPECTOR)).post(f"/items/{item.id}/actions/close_item", INPUTS,
                                                     follow_redirects=True)
    assert "此事项现在不能销号" in page.text
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == Status.SUBMITTED


def test_a_submitted_items_evidence_is_frozen_for_the_unit_until_it_takes_the_submission_back(login_as, make, db):
    lead = make.unit()
    head = make.user(Role.HEAD, unit=lead)
    item = make.item(status=Status.SUBMITTED, lead_unit=lead)
    evidence = make.evidence(item, uploader=head)
    browser = login_as(head)
    page = browser.post(f"/items/{item.id}/evidence/{evidence.id}/withdraw", {"reason": "传错了"},
                        follow_redirects=True)
    assert "请先撤回销号申请，再撤回文件" in page.text
    assert "撤回销号申请" in browser.get(f"/items/{item.id}").text  # the action is offered
    browser.post(f"/items/{item.id}/actions/withdraw_submission", {})
    browser.post(f"/items/{item.id}/evidence/{evidence.id}/withdraw", {"reason": "传错了"})
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == Status.IN_PROGRESS
    assert db.session.get(type(evidence), evidence.id).withdrawn
    actions = [e.action for e in db.session.query(JournalEntry).filter_by(item_id=item.id).order_by(JournalEntry.id)]
    assert actions[-2:] == ["withdraw_submission", "withdraw_evidence"]


def test_closing_records_the_inspectors_acceptance_opinion(login_as, make, db):
    lead = make.unit("县教育局")
    item = make.item(status=Status.SUBMITTED, lead_unit=lead, with_evidence=True)
    inspector = login_as(make.user(Role.INSPECTOR))
    box = inspector.get(f"/items/{item.id}").text
    assert "验收意见" in box  # the close box asks for it
    opinion = "经现场核查，新建校舍已投入使用，大班额已消除。"
    inspector.post(f"/items/{item.id}/actions/close_item", {"result": "rectified", "opinion": opinion})
    db.session.expire_all()
    assert db.session.get(Item, item.id).acceptance_opinion == opinion
    entry = db.session.query(JournalEntry).filter_by(item_id=item.id, action="close_item").one()
    assert entry.note == opinion
    page = login_as(make.user(Role.HEAD, unit=lead)).get(f"/items/{item.id}").text
    assert opinion in page
    report = login_as(make.user(Role.ADMIN)).get(f"/reports/units/{lead.id}").text
    assert f"验收意见: {opinion}" in report
