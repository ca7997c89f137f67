"""Event notices: who hears of 交办, 退回, 申请销号, 延期申请 ..., on the page at once and in one
message per window, and nothing for a change that rolled back."""
from __future__ import annotations

import datetime as dt
import smtplib
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select

from tests.helpers import TODAY
from tracker import clock, uow
from tracker.auth.models import Role
from tracker.inspection import services as inspection
from tracker.items import services
from tracker.items.models import Milestone, Status
from tracker.notifications import jobs, notices, outbox, reminders
from tracker.notifications.models import Notice, NoticeKind, OutboxMessage, UnitInspector

NOON = dt.datetime.combine(TODAY, dt.time(12, 0), tzinfo=clock.tz()).astimezone(dt.timezone.utc)


def at(minutes: float) -> dt.datetime:
    """Pin the clock `minutes` after noon of the test day."""
    moment = NOON + dt.timedelta(minutes=minutes)
    clock.freeze(moment)
    return moment


def told(db, kind=None) -> dict[str, str]:
    """Who has a notice (of `kind`), by name, with their role."""
    query = select(Notice)
    if kind is not None:
        query = query.where(Notice.kind == kind)
    return {n.user.name: n.role for n in db.session.scalars(query)}


def window_passes(minutes: float = 10) -> dict:
    """The gathering job a window after noon, then the sender."""
    at(minutes)
    gathered = jobs.notices_job()
    outbox.flush()
    return gathered


@pytest.fixture
def draft(make, people):
    coop = make.unit("县财政局")
    make.user(Role.HEAD, unit=coop, name="孙局长", language="en")
    return make.item(status=Status.DRAFT, lead_unit=people["unit"], owner=people["owner"], cooperating=[coop],
                     title="校舍安全隐患整改")


def test_an_assignment_tells_the_owner_and_the_heads_of_the_lead_and_cooperating_units(
        db, people, draft, login_as):
    """交办: 李联络 (owner), 王股长 (head), 孙局长 (cooperating head); not the admin who assigned."""
    at(0)
    services.perform(people["admin"], draft, "assign")
    uow.commit()
    assert told(db) == {"李联络": "owner", "王股长": "head", "孙局长": "cooperating"}
    page = login_as(people["head"]).get("/notifications").text   # at once, before any mail
    assert "Handed to your unit" in page and "校舍安全隐患整改" in page


def test_one_message_per_window_gathers_every_event_of_it(db, make, people, draft, smtp_server):
    """Events at 0 and 6 minutes go out together at 10, not before; a later event opens a new window."""
    at(0)
    services.perform(people["admin"], draft, "assign")
    uow.commit()
    at(6)
    inspection.set_listed_supervision(people["inspector"], draft, True, note="县政府挂牌")
    uow.commit()
    window_passes(9.5)
    assert smtp_server.to(people["head"].email) == []
    window_passes(10)
    to_head = smtp_server.to(people["head"].email)
    assert len(to_head) == 1
    assert to_head[0]["Subject"] == "[Rectify] 2 notices: Handed to your unit: 校舍安全隐患整改 and more"
    text = to_head[0].get_body(("plain",)).get_content()
    assert "Put under listed supervision" in text and "县政府挂牌" in text
    at(12)
    inspection.set_listed_supervision(people["inspector"], draft, False)
    uow.commit()
    window_passes(21)
    assert len(smtp_server.to(people["head"].email)) == 1       # that window is not over yet
    window_passes(22)
    assert len(smtp_server.to(people["head"].email)) == 2


def test_a_user_in_three_roles_touched_by_ten_events_in_a_window_gets_one_message(db, make, people, smtp_server):
    """王股长 owns one item, heads the unit of another and asked for an extension on a third."""
    head, inspector = people["head"], people["inspector"]
    unit = people["unit"]
    owned = make.item(lead_unit=unit, owner=head, title="事项甲")
    headed = make.item(lead_unit=unit, owner=people["owner"], title="事项乙")
    asked = make.item(lead_unit=unit, owner=people["owner"], title="事项丙")
    at(0)
    request = inspection.request_extension(head, asked, asked.deadline + dt.timedelta(days=30), "雨季施工")
    uow.commit()
    at(1)
    for n in range(4):
        inspection.add_requirement(inspector, owned, f"佐证{n}")
        uow.commit()
    for n in range(4):
        inspection.add_requirement(inspector, headed, f"材料{n}")
        uow.commit()
    inspection.decide_extension(inspector, asked, request.id, True, "")
    uow.commit()
    inspection.set_listed_supervision(inspector, headed, True)
    uow.commit()
    assert db.session.scalar(select(func.count()).select_from(Notice).where(Notice.user_id == head.id)) == 10
    window_passes(11)                                              # the head's window opened at 1
    to_head = smtp_server.to(head.email)
    assert len(to_head) == 1
    text = to_head[0].get_body(("plain",)).get_content()
    assert text.count("New required evidence") == 8 and "Extension approved" in text
    assert "as the responsible person" in text and "as the one who asked" in text


def test_a_return_tells_owner_and_head_with_the_reason_and_a_link(db, make, people, smtp_server, app):
    item = make.item(status=Status.SUBMITTED, lead_unit=people["unit"], owner=people["owner"], title="食堂改造")
    at(0)
    services.perform(people["inspector"], item, "return_item", reason="缺少验收报告")
    uow.commit()
    assert told(db) == {"李联络": "owner", "王股长": "head"}
    window_passes()
    mail = smtp_server.to(people["owner"].email)[0]
    assert mail["Subject"] == "[Rectify] Returned for more work: 食堂改造"
    text = mail.get_body(("plain",)).get_content()
    assert "缺少验收报告" in text and f"{app.config['BASE_URL']}/items/{item.id}" in text
    html = mail.get_body(("html",)).get_content()
    assert "缺少验收报告" in html and f'href="{app.config["BASE_URL"]}/items/{item.id}"' in html
    assert "Attention" in html and "#b7791f" in html          # the light as text and colour (lagging)


def test_the_subject_and_words_are_in_the_readers_language(db, make, people, smtp_server):
    chinese = make.user(Role.HEAD, unit=people["unit"], name="周股长", language="zh_CN")
    item = make.item(status=Status.SUBMITTED, lead_unit=people["unit"], owner=people["owner"], title="食堂改造",
                     deadline=TODAY - dt.timedelta(days=3))
    at(0)
    services.perform(people["inspector"], item, "return_item", reason="缺少验收报告")
    uow.commit()
    window_passes()
    mail = smtp_server.to(chinese.email)[0]
    assert mail["Subject"] == "【整改通】退回：食堂改造"
    html = mail.get_body(("html",)).get_content()
    assert "已逾期" in html and "逾期 3 天" in html and "县教育局人事股" in html and "#c62828" in html


def test_a_submission_tells_the_inspectors_or_the_one_who_handles_the_unit(db, make, people):
    other = make.user(Role.INSPECTOR, name="钱督学", language="en")
    people["unit"].signoff_required = False  # staff submit straight to the inspectors
    item = make.item(lead_unit=people["unit"], owner=people["owner"], with_evidence=True)
    services.perform(people["owner"], item, "submit_for_closure")
    uow.commit()
    assert told(db) == {"赵督学": "inspector", "钱督学": "inspector"}
    db.session.add(UnitInspector(unit_id=people["unit"].id, user_id=other.id))
    services.perform(people["owner"], item, "withdraw_submission")
    services.perform(people["owner"], item, "submit_for_closure")
    uow.commit()
    assert [n.user.name for n in db.session.scalars(select(Notice).order_by(Notice.id))][-1:] == ["钱督学"]
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 3


def test_a_staff_submission_signed_off_by_the_head_tells_the_inspectors_then(db, make, people):
    item = make.item(lead_unit=people["unit"], owner=people["owner"], with_evidence=True)
    services.perform(people["owner"], item, "submit_for_signoff")
    uow.commit()
    assert told(db, NoticeKind.SUBMITTED) == {}
    services.perform(people["head"], item, "approve_submission")
    uow.commit()
    assert told(db, NoticeKind.SUBMITTED) == {"赵督学": "inspector"}


def test_an_extension_request_tells_admins_and_inspectors_its_decision_the_requester_and_head(db, make, people):
    item = make.item(lead_unit=people["unit"], owner=people["owner"])
    request = inspection.request_extension(people["owner"], item, item.deadline + dt.timedelta(days=20), "资金未到位")
    uow.commit()
    assert told(db, NoticeKind.EXTENSION_REQUESTED) == {"整改办": "coordinator", "赵督学": "inspector"}
    inspection.decide_extension(people["inspector"], item, request.id, False, "理由不充分")
    uow.commit()
    assert told(db, NoticeKind.EXTENSION_REFUSED) == {"李联络": "requester", "王股长": "head"}
    refused = db.session.scalar(select(Notice).where(Notice.kind == NoticeKind.EXTENSION_REFUSED))
    assert refused.detail == "理由不充分" and refused.on_date == item.deadline + dt.timedelta(days=20)


def test_supervision_rechecks_reopening_cancellation_and_evidence_entries_tell_the_unit(db, make, people):
    inspector, admin = people["inspector"], people["admin"]
    item = make.item(status=Status.CLOSED, lead_unit=people["unit"], owner=people["owner"])
    recheck = inspection.schedule_recheck(inspector, item, TODAY)
    inspection.record_recheck(inspector, item, recheck.id, True, "问题反弹")
    uow.commit()
    assert told(db, NoticeKind.RECHECK_BACK) == {"李联络": "owner", "王股长": "head"}
    assert told(db, NoticeKind.REOPENED) == {}                  # the re-check's notice says it
    inspection.add_requirement(inspector, item, "整改前后对比照片")
    inspection.set_listed_supervision(inspector, item, True)
    services.perform(admin, item, "cancel", reason="重复事项")
    uow.commit()
    for kind in (NoticeKind.REQUIREMENT_ADDED, NoticeKind.LISTED, NoticeKind.CANCELLED):
        assert told(db, kind) == {"李联络": "owner", "王股长": "head"}
    closed = make.item(status=Status.CLOSED, lead_unit=people["unit"], owner=people["owner"])
    services.perform(admin, closed, "reopen", reason="举报属实")
    uow.commit()
    assert db.session.scalar(select(Notice.detail).where(Notice.kind == NoticeKind.REOPENED)) == "举报属实"


def test_a_unit_without_a_head_has_the_coordinators_told_and_deactivated_people_are_not(db, make, people):
    """The owner left (deactivated) and the unit has no head: the other admin hears, not the actor."""
    headless = make.unit("县体育局")
    owner = make.user(Role.STAFF, unit=headless, name="吴干事", active=False)
    other_admin = make.user(Role.ADMIN, name="副主任")
    item = make.item(status=Status.SUBMITTED, lead_unit=headless, owner=owner)
    services.perform(people["admin"], item, "return_item", reason="补充材料")
    uow.commit()
    assert told(db) == {other_admin.name: "coordinator"}


def test_the_actor_is_not_told_of_their_own_action(db, make, people):
    """The head asks for an extension: the admins and inspectors hear, the head does not."""
    head = make.user(Role.ADMIN, name="也是管理员")
    item = make.item(lead_unit=people["unit"], owner=people["owner"])
    inspection.request_extension(people["head"], item, item.deadline + dt.timedelta(days=5), "原因")
    uow.commit()
    assert "王股长" not in told(db) and head.name in told(db)


def test_nothing_is_told_of_a_change_that_rolled_back(db, people, draft, smtp_server):
    at(0)
    services.perform(people["admin"], draft, "assign")
    db.session.rollback()                                         # the request failed after the step
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 0
    window_passes(30)
    assert smtp_server.messages == []


def test_gathering_twice_queues_nothing_more(db, people, draft):
    at(0)
    services.perform(people["admin"], draft, "assign")
    uow.commit()
    at(10)
    assert notices.gather() == {"notice_mails": 3}
    assert notices.gather() == {"notice_mails": 0}
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 3
    assert db.session.scalar(select(func.count()).select_from(Notice).where(Notice.outbox_message_id.is_(None))) == 0


def test_a_crash_after_the_relay_accepted_sends_at_most_one_duplicate(db, people, draft, smtp_server):
    """The sender died between "accepted" and "marked": after the claim timeout it is sent once more,
    with the same Message-ID (mail clients fold it); never a third time."""
    at(0)
    services.perform(people["admin"], draft, "assign")
    uow.commit()
    at(10)
    notices.gather()
    head = people["head"]
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient_id == head.id))
    claimed = outbox.claim("dead-sender")
    # The dead sender had handed it to the relay, then crashed before marking it sent.
    with smtplib.SMTP("127.0.0.1", smtp_server.controller.port) as smtp:
        smtp.send_message(outbox.compose(db.session.get(OutboxMessage, message.id)))
    assert message.id in claimed
    at(10 + 16)
    outbox.flush()
    outbox.flush()
    to_head = smtp_server.to(head.email)
    assert len(to_head) == 2 and to_head[0]["Message-ID"] == to_head[1]["Message-ID"]


def test_a_missed_milestone_tells_the_heads_from_the_daily_scan(db, make, people, mail_log):
    item = make.item(lead_unit=people["unit"], owner=people["owner"])
    db.session.add(Milestone(item=item, title="完成招标", due_on=TODAY - dt.timedelta(days=1)))
    db.session.commit()
    reminders.scan(TODAY)
    assert told(db, NoticeKind.MILESTONE_MISSED) == {"王股长": "head"}
    reminders.scan(TODAY)
    clock.freeze(TODAY + dt.timedelta(days=3))
    reminders.scan()                                               # later overdue slots: no new notice
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 1


def test_without_a_mail_server_each_message_is_kept_whole_as_an_eml_file(db, people, draft, mail_log):
    at(0)
    services.perform(people["admin"], draft, "assign")
    uow.commit()
    window_passes()
    files = sorted((mail_log.parent / "mail").glob("*.eml"))
    assert len(files) == 3
    mails = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    to_head = next(m for m in mails if people["head"].email in m["To"])
    assert to_head["Subject"] == "[Rectify] Handed to your unit: 校舍安全隐患整改"
    assert "Open the item" in to_head.get_body(("html",)).get_content()
    assert "校舍安全隐患整改" in to_head.get_body(("plain",)).get_content()


def test_a_notice_switched_off_on_the_profile_is_listed_but_not_mailed(db, people, draft, smtp_server, login_as):
    head = people["head"]
    browser = login_as(head)
    page = browser.get("/profile").text
    assert "An item is handed to my unit (交办)" in page and "A milestone is missed" in page
    form = {f"notice_{topic}": "y" for topic in notices.TOPIC_LABELS if topic != "assigned"}
    form["email_enabled"] = "y"  # ticked on the page, posted as it is
    assert browser.post("/profile", form).status_code == 302
    assert notices.preferences(head)["assigned"] is False and notices.preferences(head)["returned"] is True
    at(0)
    services.perform(people["admin"], draft, "assign")
    uow.commit()
    window_passes()
    assert smtp_server.to(head.email) == [] and len(smtp_server.to(people["owner"].email)) == 1
    assert "Handed to your unit" in browser.get("/notifications").text
    services.perform(people["admin"], draft, "cancel", reason="重复")
    uow.commit()
    window_passes(30)
    assert [m["Subject"] for m in smtp_server.to(head.email)] == ["[Rectify] Item cancelled: 校舍安全隐患整改"]


def test_an_admin_names_the_inspector_who_handles_a_unit_and_only_they_hear_of_its_submissions(
        db, make, people, login_as):
    other = make.user(Role.INSPECTOR, name="钱督学", language="en")
    unit = people["unit"]
    admin = login_as(people["admin"])
    assert "Inspector in charge" in admin.get(f"/admin/units/{unit.id}").text
    response = admin.post(f"/admin/units/{unit.id}", {"name": unit.name, "code": unit.code, "active": "y",
                                                      "inspector_id": other.id})
    assert response.status_code == 302
    assert f'<option selected value="{other.id}">' in admin.get(f"/admin/units/{unit.id}").text
    item = make.item(lead_unit=unit, owner=people["owner"], with_evidence=True)
    services.perform(people["owner"], item, "submit_for_closure")
    uow.commit()
    assert told(db) == {"钱督学": "inspector"}


def test_a_deactivated_owner_is_not_addressed_the_head_is(db, make, people):
    people["owner"].active = False
    db.session.commit()
    item = make.item(status=Status.SUBMITTED, lead_unit=people["unit"], owner=people["owner"])
    services.perform(people["inspector"], item, "return_item", reason="补充材料")
    uow.commit()
    assert told(db) == {"王股长": "head"}


def test_a_staff_submission_tells_the_head_it_waits_for_their_sign_off(db, make, people, smtp_server, login_as):
    """单位负责人审核: 李联络 submits; 王股长 sees "Waiting for your sign-off" at once and has the mail."""
    item = make.item(lead_unit=people["unit"], owner=people["owner"], with_evidence=True, title="操场改造")
    at(0)
    services.perform(people["owner"], item, "submit_for_signoff")
    uow.commit()
    assert told(db, NoticeKind.SIGNOFF_REQUESTED) == {"王股长": "head"}
    page = login_as(people["head"]).get("/notifications").text
    assert "Waiting for your sign-off" in page and "操场改造" in page
    window_passes()
    (mail,) = smtp_server.to(people["head"].email)
    assert mail["Subject"] == "[Rectify] Waiting for your sign-off: 操场改造"


def test_a_staff_submission_in_a_unit_without_an_active_head_tells_the_coordinators(db, make, people):
    unit = make.unit("县体育局")
    make.user(Role.HEAD, unit=unit, name="离任局长", active=False)
    staff = make.user(Role.STAFF, unit=unit, name="吴干事")
    item = make.item(lead_unit=unit, owner=staff, with_evidence=True)
    services.perform(staff, item, "submit_for_signoff")
    uow.commit()
    heard = told(db, NoticeKind.SIGNOFF_REQUESTED)
    assert "整改办" in heard and set(heard.values()) == {"coordinator"} and "离任局长" not in heard


def test_a_submission_sent_back_tells_the_staff_who_submitted_with_the_heads_comment(
        db, make, people, smtp_server, login_as):
    other = make.user(Role.STAFF, unit=people["unit"], name="周干事", language="en")
    item = make.item(lead_unit=people["unit"], owner=people["owner"], with_evidence=True, title="围墙加固")
    at(0)
    services.perform(other, item, "submit_for_signoff")     # not the owner: the one who submitted hears
    uow.commit()
    services.perform(people["head"], item, "send_back", reason="照片不清楚，请补拍")
    uow.commit()
    assert told(db, NoticeKind.SENT_BACK) == {"周干事": "submitter"}
    page = login_as(other).get("/notifications").text
    assert "Sent back by the unit head" in page and "照片不清楚，请补拍" in page
    window_passes()
    (mail,) = smtp_server.to(other.email)
    assert mail["Subject"] == "[Rectify] Sent back by the unit head: 围墙加固"
    assert "照片不清楚，请补拍" in mail.get_body(("plain",)).get_content()


def test_the_sign_off_notices_can_be_switched_off_on_the_profile(db, people, login_as):
    page = login_as(people["head"]).get("/profile").text
    assert "A staff submission waits for my sign-off" in page and "The unit head sends my submission back" in page
