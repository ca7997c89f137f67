"""The weekly digest: what each role reads, who gets one, opt-out, and once per week."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tracker import clock
from tracker.items.models import ClosureResult, Status
from tracker.notifications import digests, outbox
from tracker.notifications.models import OutboxMessage


def send(today):
    result = digests.send_digests(today)
    outbox.flush()
    return result


def text_of(mail):
    return mail.get_body(("plain",)).get_content()


def test_each_role_reads_its_own_digest(db, make, people, smtp_server, today):
    unit = people["unit"]
    owner = people["owner"]
    make.item(lead_unit=unit, owner=owner, deadline=today - dt.timedelta(days=2), title="逾期事项")
    make.item(lead_unit=unit, owner=owner, deadline=today + dt.timedelta(days=5), title="即将到期")
    make.item(lead_unit=unit, owner=owner, deadline=today + dt.timedelta(days=90), title="正常推进")
    make.item(status=Status.RETURNED, lead_unit=unit, owner=owner, title="被退回事项")
    submitted = make.item(status=Status.SUBMITTED, lead_unit=unit, owner=owner, title="待验收事项")
    submitted.submitted_at = clock.now() - dt.timedelta(days=4)
    closed = make.item(status=Status.CLOSED, lead_unit=unit, owner=owner, title="本周销号")
    closed.closed_at, closed.closure_result = clock.now() - dt.timedelta(days=2), ClosureResult.RECTIFIED
    db.session.commit()

    # owner, head (their unit), two inspectors (the factory made the closer one), leader
    assert send(today)["queued"] == 5
    owner_text = text_of(smtp_server.to(owner.email)[0])
    assert "Overdue (1)" in owner_text and "逾期事项" in owner_text
    assert "Due in the next two weeks" in owner_text and "即将到期" in owner_text
    assert "Returned by the inspectors" in owner_text and "佐证材料不足" in owner_text
    assert "http://127.0.0.1:5000/items/" in owner_text
    assert "待验收事项" in text_of(smtp_server.to(people["head"].email)[0])

    inspector_text = text_of(smtp_server.to(people["inspector"].email)[0])
    assert "Review queue" in inspector_text and "waiting 4 days" in inspector_text and "待验收事项" in inspector_text
    assert "逾期事项" not in inspector_text

    leader_mail = smtp_server.to(people["leader"].email)[0]
    leader_text = text_of(leader_mail)
    assert f"{unit.name}: 1/6 (17%)" in leader_text
    assert "Overdue items" in leader_text and "逾期事项" in leader_text
    assert "Closed this week" in leader_text and "本周销号" in leader_text
    assert "Weekly digest" in leader_mail["Subject"]
    assert leader_mail.get_body(("html",)) is not None
    assert smtp_server.to(people["admin"].email) == []


def test_an_empty_digest_is_not_sent(db, make, people, smtp_server, today):
    """Nothing open, nothing submitted, nothing in the ledger: nobody gets a digest."""
    assert send(today) == {"queued": 0, "empty": 5}
    assert smtp_server.messages == []


def test_a_user_who_opted_out_gets_no_digest_but_still_gets_reminders(db, make, people, smtp_server, today,
                                                                       login_as):
    from tracker.notifications import reminders
    owner = people["owner"]
    make.item(lead_unit=people["unit"], owner=owner, deadline=today - dt.timedelta(days=1))
    # The channel boxes are ticked on the page, and a browser posts them as they are.
    page = login_as(owner).post("/profile", {"digest_opt_out": "y", "sms_enabled": "y", "email_enabled": "y"})
    assert page.status_code == 302
    db.session.expire_all()
    assert owner.digest_opt_out is True
    send(today)
    reminders.scan(today)
    outbox.flush()
    [mail] = smtp_server.to(owner.email)
    assert "Reminder" in mail["Subject"]


def test_the_digest_goes_out_once_a_week(db, make, people, smtp_server, today):
    make.item(lead_unit=people["unit"], owner=people["owner"])
    first = send(today)["queued"]
    assert send(today + dt.timedelta(days=2))["queued"] == 0      # same ISO week
    assert send(today + dt.timedelta(days=7))["queued"] == first  # next week
    keys = db.session.scalars(select(OutboxMessage.dedup_key)).all()
    assert len(keys) == 2 * first


def test_a_leaders_long_lists_name_the_worst_and_link_to_the_rest(db, make, people, smtp_server, today,
                                                                   monkeypatch):
    """At province scale the leader's mail would list thousands of units and overdue items."""
    monkeypatch.setattr(digests, "LEADER_LIST_MAX", 1)
    unit, other = people["unit"], make.unit("县财政局")
    make.item(lead_unit=unit, deadline=today - dt.timedelta(days=30), title="逾期最久")
    make.item(lead_unit=other, deadline=today - dt.timedelta(days=2), title="刚刚逾期")
    send(today)
    leader_text = text_of(smtp_server.to(people["leader"].email)[0])
    assert "逾期最久" in leader_text and "刚刚逾期" not in leader_text
    assert "The 1 of 2 overdue items with the earliest deadlines" in leader_text
    assert "http://127.0.0.1:5000/reports/overdue" in leader_text
    assert "The 1 of 2 lead units with the lowest completion rate" in leader_text
    assert "http://127.0.0.1:5000/reports/" in leader_text


def test_an_item_waiting_one_day_reads_one_day(db, make, people, smtp_server, today):
    """The inspectors' review queue said "waiting 1 days"."""
    item = make.item(status=Status.SUBMITTED, lead_unit=people["unit"], owner=people["owner"], title="昨日申请")
    item.submitted_at = clock.now() - dt.timedelta(days=1)
    db.session.commit()
    send(today)
    assert "waiting 1 day · 昨日申请" in text_of(smtp_server.to(people["inspector"].email)[0])
