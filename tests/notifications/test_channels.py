"""Group robots and SMS: what the robot and the gateway receive, failures retried, quiet hours,
the robot's limit, and each message delivered exactly once (real HTTP servers on loopback ports)."""
from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from sqlalchemy import select

from tests.helpers import TODAY, move_clock, queue_for, table
from tracker import clock
from tracker.auth.models import Role
from tracker.extensions import db as _db
from tracker.inspection import services as inspection
from tracker.notifications import channels, outbox, reminders
from tracker.notifications.models import OutboxChannel, OutboxMessage, OutboxStatus
from tracker.units.models import RobotKind


def with_robot(unit, receiver, kind=RobotKind.DINGTALK, topics="reminders,escalations,supervision", secret=None):
    unit.robot_kind, unit.robot_webhook, unit.robot_topics = kind, receiver.url(), topics
    unit.robot_secret = secret if secret is not None else (receiver.secret if kind == RobotKind.DINGTALK else None)
    _db.session.commit()
    return unit


def rows(channel=None):
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if channel is not None:
        query = query.where(OutboxMessage.channel == channel)
    return _db.session.scalars(query).all()


def overdue_item(make, people, days, **kw):
    return make.item(lead_unit=people["unit"], owner=people["owner"], deadline=TODAY - dt.timedelta(days=days), **kw)


def robot_messages(db, make, receiver, n, unit=None):
    unit = unit or with_robot(make.unit(), receiver)
    for i in range(n):
        assert channels.queue_robot(unit, "reminders", f"robot-test:{unit.id}:{i}", f"Title {i}", f"text {i}")
    db.session.commit()
    return unit


# -- the robot ------------------------------------------------------------------------------------

def test_the_units_dingtalk_group_receives_the_days_reminders_signed_with_the_items_link(db, make, people, robot):
    with_robot(people["unit"], robot)
    item = overdue_item(make, people, 1, title="教师培训经费未落实")
    reminders.scan()
    assert outbox.flush() == {"sent": 2, "failed": 0}      # the owner's mail and the group's message
    [body] = robot.delivered
    assert robot.bad_signatures == 0 and robot.requests[0]["query"]["sign"]
    assert body["msgtype"] == "markdown"
    text = body["markdown"]["text"]
    assert "教师培训经费未落实" in text and f"/items/{item.id}" in text and "县教育局人事股" in text
    assert "已逾期 1 天" in text
    [message] = rows(OutboxChannel.ROBOT)
    assert message.status == OutboxStatus.SENT and message.unit_id == people["unit"].id


def test_a_wecom_group_receives_markdown_content_unsigned(db, make, people, robot):
    robot.secret = None
    with_robot(people["unit"], robot, kind=RobotKind.WECOM)
    overdue_item(make, people, 1, title="校舍维修")
    reminders.scan()
    outbox.flush()
    [body] = robot.delivered
    assert body["msgtype"] == "markdown" and "校舍维修" in body["markdown"]["content"]
    assert "sign" not in robot.requests[0]["query"]


def test_a_group_hears_only_the_kinds_its_administrator_chose(db, make, people, robot):
    with_robot(people["unit"], robot, topics="escalations")
    overdue_item(make, people, 1)          # a plain reminder: not for this group
    reminders.scan()
    outbox.flush()
    assert robot.delivered == [] and rows(OutboxChannel.ROBOT) == []


def test_a_group_that_hears_reminders_only_gets_the_reminders_of_a_day_with_escalations(db, make, people, robot):
    with_robot(people["unit"], robot, topics="reminders")
    overdue_item(make, people, 1, title="只是催办")
    overdue_item(make, people, 9, title="已经升级")
    reminders.scan()
    outbox.flush()
    [body] = robot.delivered
    assert "只是催办" in body["markdown"]["text"] and "已经升级" not in body["markdown"]["text"]


def test_a_wrong_signing_secret_is_refused_by_dingtalk_and_shown_in_the_outbox(db, make, people, robot, login_as):
    with_robot(people["unit"], robot, secret="not-the-secret")
    overdue_item(make, people, 1)
    reminders.scan()
    assert outbox.flush() == {"sent": 1, "failed": 1}
    assert robot.bad_signatures == 1 and robot.delivered == []
    [message] = rows(OutboxChannel.ROBOT)
    assert message.status == OutboxStatus.PENDING and "310000" in message.last_error
    page = login_as(people["admin"]).get("/admin/outbox")
    assert "errcode 310000: sign not match" in page.text


@pytest.mark.parametrize("answer, words", [("errcode", "errcode 300001: token is not exist"),
                                           ("5xx", "HTTP 503"), ("hang", "timed out")])
def test_a_robot_that_fails_is_retried_with_backoff_and_delivered_once(db, make, robot, answer, words):
    robot_messages(db, make, robot, 1)
    robot.answers = [answer]
    assert outbox.flush() == {"sent": 0, "failed": 1}
    [message] = rows()
    assert message.status == OutboxStatus.PENDING and message.attempts == 1 and words in message.last_error
    assert outbox.flush() == {"sent": 0, "failed": 0}           # backing off: not due yet
    move_clock(minutes=2)
    assert outbox.flush() == {"sent": 1, "failed": 0}
    assert len(robot.delivered) == 1 and rows()[0].status == OutboxStatus.SENT


def test_the_robots_limit_queues_the_rest_for_the_next_minute_never_drops(db, make, robot, app, monkeypatch, wall):
    monkeypatch.setitem(app.config, "ROBOT_MAX_PER_MINUTE", 20)
    robot_messages(db, make, robot, 25)
    assert outbox.flush() == {"sent": 20, "failed": 0}
    waiting = [m for m in rows() if m.status == OutboxStatus.PENDING]
    assert len(waiting) == 5 and {m.attempts for m in waiting} == {0} and {m.last_error for m in waiting} == {None}
    wall.move(seconds=30)
    move_clock(seconds=30)
    assert outbox.flush() == {"sent": 0, "failed": 0}            # the minute is not over
    wall.move(seconds=31)
    move_clock(seconds=31)
    assert outbox.flush() == {"sent": 5, "failed": 0}
    assert sorted(b["markdown"]["title"] for b in robot.delivered) == sorted(f"Title {i}" for i in range(25))


def test_two_senders_together_keep_the_robots_limit(db, make, robot, app, monkeypatch, wall):
    monkeypatch.setitem(app.config, "ROBOT_MAX_PER_MINUTE", 20)
    robot_messages(db, make, robot, 30)
    errors = run_senders(app, 2)
    assert errors == []
    assert len(robot.delivered) == 20                             # within one minute, whoever sent
    wall.move(seconds=61)
    move_clock(seconds=61)
    assert run_senders(app, 2) == []
    titles = Counter(b["markdown"]["title"] for b in robot.delivered)
    assert len(titles) == 30 and set(titles.values()) == {1}


def run_senders(app, n, limit=4):
    barrier = threading.Barrier(n)
    errors = []

    def sender():
        try:
            with app.app_context():
                barrier.wait()
                while any(outbox.flush(limit=limit).values()):
                    pass
                _db.session.remove()
        except Exception as exc:  # reported by the caller: a thread's exception would otherwise vanish
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


# -- exactly once -------------------------------------------------------------------------------

def test_two_senders_an_outage_and_a_killed_sender_deliver_each_robot_and_sms_message_once(
        db, make, robot, sms_gateway, app, monkeypatch):
    monkeypatch.setitem(app.config, "ROBOT_MAX_PER_MINUTE", 0)
    robot_messages(db, make, robot, 15)
    people = [make.user(mobile=f"1380013{n:04d}") for n in range(15)]
    for n, person in enumerate(people):
        outbox.queue_rows([channels.sms_row(person, "reminder", f"sms-test:{n}", f"短信 {n}")])
    db.session.commit()
    [claimed_by_dead] = outbox.claim("killed-process", limit=1)          # a sender killed mid-batch
    robot.answers = ["5xx"] * 3                                          # an outage of the robot
    sms_gateway.answers = ["5xx"] * 3
    assert run_senders(app, 2) == []
    move_clock(minutes=16)                                               # retries due, the claim timed out
    assert run_senders(app, 2) == []
    robot_titles = Counter(b["markdown"]["title"] for b in robot.delivered)
    texts = Counter(b["content"] for b in sms_gateway.delivered)
    assert len(robot_titles) == 15 and set(robot_titles.values()) == {1}
    assert len(texts) == 15 and set(texts.values()) == {1}
    assert Counter(m.status for m in rows()) == {OutboxStatus.SENT: 30}
    assert _db.session.get(OutboxMessage, claimed_by_dead).status == OutboxStatus.SENT


def test_a_sender_killed_between_the_robots_answer_and_marking_sends_it_once_more(db, make, robot):
    """Documented limit, as for mail: at most one duplicate after that crash, never a loss."""
    unit = robot_messages(db, make, robot, 1)
    [message_id] = outbox.claim("dying-process")
    message = _db.session.get(OutboxMessage, message_id)
    from tracker.notifications import gateways
    gateways.post_robot(unit.robot_kind, unit.robot_webhook, unit.robot_secret, message.subject, message.body_text)
    move_clock(minutes=16)
    assert outbox.flush() == {"sent": 1, "failed": 0}
    assert len(robot.delivered) == 2


# -- quiet hours --------------------------------------------------------------------------------

def local(hour, minute=0, day=TODAY):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=clock.tz()).astimezone(dt.timezone.utc)


def test_in_the_quiet_hours_robot_and_sms_wait_until_eight_while_mail_goes(db, make, robot, sms_gateway, smtp_server):
    clock.freeze(local(22, 30))
    robot_messages(db, make, robot, 1)
    person = make.user(mobile="13800138000")
    outbox.queue_rows([channels.sms_row(person, "reminder", "quiet-sms", "夜里的短信")])
    queue_for([person])
    assert outbox.flush() == {"sent": 1, "failed": 0}
    assert len(smtp_server.messages) == 1 and robot.delivered == [] and sms_gateway.delivered == []
    waiting = [m for m in rows() if m.channel != OutboxChannel.EMAIL]
    assert {clock.local_date(m.next_attempt_at) for m in waiting} == {TODAY + dt.timedelta(days=1)}
    clock.freeze(local(7, 59, TODAY + dt.timedelta(days=1)))
    assert outbox.flush() == {"sent": 0, "failed": 0}
    clock.freeze(local(8, 0, TODAY + dt.timedelta(days=1)))
    assert outbox.flush() == {"sent": 2, "failed": 0}
    assert len(robot.delivered) == 1 and [b["content"] for b in sms_gateway.delivered] == ["夜里的短信"]


def test_a_retry_falling_in_the_quiet_hours_waits_too(db, make, robot):
    clock.freeze(local(20, 59))
    robot_messages(db, make, robot, 1)
    robot.answers = ["5xx"]
    outbox.flush()
    clock.freeze(local(21, 5))
    assert outbox.flush() == {"sent": 0, "failed": 0}
    [message] = rows()
    assert message.attempts == 1 and message.next_attempt_at == local(8, 0, TODAY + dt.timedelta(days=1))


@pytest.mark.parametrize("spec, hour, waits", [("21:00-08:00", 23, True), ("21:00-08:00", 3, True),
                                               ("21:00-08:00", 8, False), ("12:00-13:30", 13, True),
                                               ("", 23, False)])
def test_quiet_hours_are_configurable(app, spec, hour, waits, monkeypatch):
    monkeypatch.setitem(app.config, "QUIET_HOURS", spec)
    with app.app_context():
        from tracker.notifications import gateways
        assert (gateways.quiet_wait(local(hour)) is not None) is waits


# -- SMS ------------------------------------------------------------------------------------------

def test_sms_from_the_second_overdue_reminder_on_to_people_with_a_mobile(db, make, people, sms_gateway):
    people["owner"].mobile = "13800138000"
    people["head"].mobile = "13900139000"
    db.session.commit()
    overdue_item(make, people, 1, title="第一次逾期")          # first overdue reminder: mail only
    reminders.scan()
    assert rows(OutboxChannel.SMS) == []
    move_clock(days=3)
    reminders.scan()                                             # overdue by 4 days: the second one
    outbox.flush()
    [body] = sms_gateway.delivered
    assert body["mobile"] == "13800138000"
    assert "第一次逾期" in body["content"] and "逾期4天" in body["content"] and "第2次催办" in body["content"]


def test_an_escalation_texts_the_owner_and_the_head_unless_they_switched_sms_off(db, make, people, sms_gateway):
    people["owner"].mobile, people["head"].mobile = "13800138000", "13900139000"
    people["head"].sms_enabled = False
    db.session.commit()
    overdue_item(make, people, 8, title="控辍保学")
    reminders.scan()
    outbox.flush()
    [body] = sms_gateway.delivered
    assert body["mobile"] == "13800138000" and "升级督办" in body["content"]


def test_listing_an_item_for_supervision_texts_the_unit_and_tells_its_group(db, make, people, sms_gateway, robot):
    people["head"].mobile = "13900139000"
    with_robot(people["unit"], robot, topics="supervision")
    item = make.item(lead_unit=people["unit"], owner=people["owner"], title="大班额化解")
    inspection.set_listed_supervision(people["inspector"], item, True)
    db.session.commit()
    outbox.flush()
    [body] = sms_gateway.delivered
    assert body["mobile"] == "13900139000" and "大班额化解" in body["content"] and "挂牌督办" in body["content"]
    [message] = robot.delivered
    assert "大班额化解" in message["markdown"]["text"] and f"/items/{item.id}" in message["markdown"]["text"]


def test_a_listing_that_rolls_back_sends_nothing(db, make, people, sms_gateway):
    people["head"].mobile = "13900139000"
    db.session.commit()
    item = make.item(lead_unit=people["unit"], title="回滚")
    inspection.set_listed_supervision(people["inspector"], item, True)
    db.session.rollback()
    assert outbox.flush() == {"sent": 0, "failed": 0} and sms_gateway.delivered == []


def test_the_gateway_gets_the_configured_names_sign_name_and_signature(db, make, sms_gateway, app, monkeypatch):
    import hashlib
    import hmac
    for key, value in {"SMS_METHOD": "GET", "SMS_PARAM_MOBILE": "phone", "SMS_PARAM_TEXT": "msg",
                       "SMS_EXTRA_PARAMS": "appid=rectify", "SMS_SIGN_NAME": "整改通", "SMS_SECRET": "s3cret"}.items():
        monkeypatch.setitem(app.config, key, value)
    person = make.user(mobile="13800138000")
    outbox.queue_rows([channels.sms_row(person, "reminder", "configured", "请办理")])
    db.session.commit()
    assert outbox.flush() == {"sent": 1, "failed": 0}
    [request] = sms_gateway.requests
    query = request["query"]
    assert query["phone"] == "13800138000" and query["msg"] == "【整改通】请办理" and query["appid"] == "rectify"
    expected = hmac.new(b"s3cret", f"{query['timestamp']}\n13800138000\n【整改通】请办理".encode(), hashlib.sha256)
    assert query["sign"] == expected.hexdigest()


def test_a_gateway_refusal_and_a_hanging_gateway_are_retried(db, make, sms_gateway):
    person = make.user(mobile="13800138000")
    outbox.queue_rows([channels.sms_row(person, "reminder", "retried", "请办理")])
    db.session.commit()
    sms_gateway.answers = ["errcode", "hang"]
    outbox.flush()
    assert "code=40001" in rows()[0].last_error
    move_clock(minutes=2)
    outbox.flush()
    assert "timed out" in rows()[0].last_error and rows()[0].attempts == 2
    move_clock(minutes=3)
    assert outbox.flush() == {"sent": 1, "failed": 0}
    assert len(sms_gateway.delivered) == 1


def test_without_a_gateway_no_sms_is_queued(db, make, people):
    people["owner"].mobile = "13800138000"
    db.session.commit()
    overdue_item(make, people, 8)
    reminders.scan()
    assert rows(OutboxChannel.SMS) == []


def test_a_user_who_switched_email_off_gets_no_reminder_mail_but_sees_the_notification(db, make, people):
    people["owner"].email_enabled = False
    db.session.commit()
    overdue_item(make, people, 1)
    assert reminders.scan() == {"reminders": 1, "mails": 0}
    assert rows(OutboxChannel.EMAIL) == []


def test_a_robot_message_that_gave_up_is_retried_from_the_outbox_page(db, make, people, robot, login_as, app,
                                                                     monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 1)
    robot_messages(db, make, robot, 1, unit=with_robot(people["unit"], robot))
    robot.answers = ["errcode"]
    outbox.flush()
    [message] = rows()
    assert message.status == OutboxStatus.FAILED
    admin = login_as(people["admin"])
    page = admin.get("/admin/outbox?status=failed")
    row = next(r for r in table(page, "outbox") if "县教育局人事股" in " ".join(r))
    assert "Group robot" in row and any("errcode 300001: token is not exist" in cell for cell in row)
    admin.post(f"/admin/outbox/{message.id}/retry")
    assert outbox.flush() == {"sent": 1, "failed": 0}
    assert len(robot.delivered) == 1


def test_an_sms_retried_goes_to_the_users_current_number(db, make, sms_gateway, app, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 1)
    person = make.user(mobile="13800138000")
    outbox.queue_rows([channels.sms_row(person, "reminder", "renumbered", "请办理")])
    db.session.commit()
    sms_gateway.answers = ["errcode"]
    outbox.flush()
    person.mobile = "13900139000"
    db.session.commit()
    outbox.retry(None, rows()[0].id)
    db.session.commit()
    outbox.flush()
    assert [body["mobile"] for body in sms_gateway.delivered] == ["13900139000"]



def test_ticking_listed_supervision_on_the_item_form_texts_the_unit_but_not_for_a_draft(db, make, people,
                                                                                       sms_gateway):
    from tracker.items import services as item_services
    from tracker.items.models import Status
    people["head"].mobile = "13900139000"
    db.session.commit()
    for status, title in ((Status.DRAFT, "草稿事项"), (Status.IN_PROGRESS, "已交办事项")):
        item = make.item(status=status, lead_unit=people["unit"], owner=people["owner"], title=title)
        item_services.update_item(people["admin"], item, {
            "title": item.title, "measures": item.measures, "target": item.target, "finding_id": item.finding_id,
            "lead_unit_id": item.lead_unit_id, "kind": item.kind.value, "deadline": item.deadline,
            "cooperating_unit_ids": [], "owner_id": people["owner"].id, "listed_supervision": True})
        db.session.commit()
    outbox.flush()
    assert [("已交办事项" in body["content"], body["mobile"]) for body in sms_gateway.delivered] == [
        (True, "13900139000")]


def test_event_notices_reach_the_groups_that_chose_them(db, make, people, robot):
    from tracker import uow
    from tracker.items import services
    from tracker.items.models import Status
    from tests.helpers import HttpReceiver
    partner_robot = HttpReceiver()  # a WeCom group: unsigned
    try:
        with_robot(people["unit"], robot, topics="notice_assigned,notice_returned")
        partner = with_robot(make.unit("县财政局"), partner_robot, kind=RobotKind.WECOM, topics="notice_assigned")
        quiet = with_robot(make.unit("县住建局"), partner_robot, kind=RobotKind.WECOM, topics="reminders")
        item = make.item(lead_unit=people["unit"], owner=people["owner"], status=Status.DRAFT, title="特教学校建设",
                         cooperating=[partner, quiet])
        services.perform(people["admin"], item, "assign")
        uow.commit()
        outbox.flush()
        [lead] = robot.delivered
        assert "交办" in lead["markdown"]["title"] and "特教学校建设" in lead["markdown"]["text"]
        assert f"/items/{item.id}" in lead["markdown"]["text"]
        [cooperating] = partner_robot.delivered  # 县住建局's group hears reminders only
        assert "县财政局" in cooperating["markdown"]["content"] and "特教学校建设" in cooperating["markdown"]["content"]

        item.status = Status.SUBMITTED
        db.session.commit()
        services.perform(people["inspector"], item, "return_item", reason="缺少验收报告")
        uow.commit()
        outbox.flush()
        assert len(robot.delivered) == 2 and "缺少验收报告" in robot.delivered[1]["markdown"]["text"]
        assert len(partner_robot.delivered) == 1
    finally:
        partner_robot.stop()


def test_the_unit_form_offers_the_notices_to_its_group(login_as, people):
    page = login_as(people["admin"]).get(f"/admin/units/{people['unit'].id}")
    assert "An item is handed to my unit (交办)" in page.text or "交办" in page.text
    assert 'value="notice_returned"' in page.text
