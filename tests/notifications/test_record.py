"""The reminder record (催办记录) as leaders read it in 约谈: per unit and per item, every reminder
with its date, item, number, kind, who was told, the channel and whether it arrived; filtered by
period and kind, sorted, paged, exported, printed."""
from __future__ import annotations

import datetime as dt
import io
import itertools
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert

from tests.helpers import table
from tracker import clock
from tracker.auth.models import Role
from tracker.items import services
from tracker.items.models import Item, ItemKind, Status
from tracker.notifications import reminders
from tracker.notifications.models import Notification, OutboxMessage, OutboxStatus, Reminder, ReminderKind

_keys = itertools.count(1)


def remind(db, item, on, number, kind=ReminderKind.OVERDUE, told=(), unit=None, days=3):
    """A reminder about `item` sent on `on`, told to (user, role, outbox status or None for in-app)."""
    reminder = Reminder(item_id=item.id, unit_id=(unit or item.lead_unit).id, kind=kind, number=number, days=days,
                        occasion=f"{kind}:{on}:{next(_keys)}", sent_on=on)
    db.session.add(reminder)
    db.session.flush()
    for user, role, status in told:
        message = None
        if status is not None:
            message = OutboxMessage(
                dedup_key=f"reminder:{next(_keys)}", kind="reminder", recipient_id=user.id, to_address=user.email,
                to_name=user.name, subject="催办", body_text="催办", body_html="<p>催办</p>", status=status,
                sent_at=clock.now() if status == OutboxStatus.SENT else None,
                last_error="550 mailbox unavailable" if status == OutboxStatus.FAILED else None)
            db.session.add(message)
            db.session.flush()
        db.session.add(Notification(reminder_id=reminder.id, user_id=user.id, role=role,
                                    outbox_message_id=message.id if message else None))
    db.session.commit()
    return reminder


@pytest.fixture
def record(db, make, people, today):
    """县教育局人事股: 大班额化解 (three reminders, the last an escalation) and 教师补充 (one)."""
    unit, owner, head = people["unit"], people["owner"], people["head"]
    classes = make.item(lead_unit=unit, owner=owner, title="大班额化解", deadline=today - dt.timedelta(days=10))
    teachers = make.item(lead_unit=unit, owner=owner, title="教师补充", deadline=today + dt.timedelta(days=3))
    remind(db, classes, dt.date(2026, 3, 7), 1, told=[(owner, "owner", OutboxStatus.SENT)], days=1)
    remind(db, classes, dt.date(2026, 3, 10), 2, told=[(owner, "owner", OutboxStatus.FAILED)], days=4)
    remind(db, classes, dt.date(2026, 3, 14), 3, ReminderKind.ESCALATION, days=8,
           told=[(owner, "owner", OutboxStatus.SENT), (head, "head", OutboxStatus.PENDING)])
    remind(db, teachers, dt.date(2026, 3, 13), 1, ReminderKind.DUE_SOON, days=3,
           told=[(owner, "owner", None)])
    return {"classes": classes, "teachers": teachers}


def read(page, table_id="record") -> list[list[str]]:
    """The table's rows as read: each cell's words, one space apart."""
    return [[" ".join(cell.split()) for cell in row] for row in table(page, table_id)]


def url(people, query=""):
    return f"/reminders/units/{people['unit'].id}{query}"


def test_each_reminder_says_when_what_which_to_whom_how_and_whether_it_arrived(login_as, people, record):
    page = login_as(people["leader"]).get(url(people, "?lang=en"))
    assert page.status_code == 200
    assert "Reminder record of 县教育局人事股" in page.text
    assert "Reminders: 4, of them escalations: 1." in page.text
    rows = read(page)
    # Newest first: date, number, kind, item, why, to whom, channel, delivered (one line per person told).
    assert rows[0][:4] == ["Mar 14, 2026", "Reminder no. 3, escalated", "Escalation", "大班额化解 This item’s record"]
    assert rows[0][5:] == ["李联络 as the responsible person", "By e-mail", "Delivered 2026-03-16"]
    assert rows[1] == ["王股长 as head of the lead unit", "By e-mail", "Waiting to be sent"]
    assert rows[2][:3] == ["Mar 13, 2026", "Reminder no. 1", "Before the deadline"]
    assert rows[2][5:] == ["李联络 as the responsible person", "In the app", "Shown in the notifications list"]
    assert rows[3][:2] == ["Mar 10, 2026", "Reminder no. 2"]
    assert rows[3][-1] == "Not delivered 550 mailbox unavailable"
    assert rows[4][:2] == ["Mar 7, 2026", "Reminder no. 1"]
    assert f'href="/items/{record["classes"].id}">大班额化解</a>' in page.text


def test_in_chinese(login_as, people, record):
    page = login_as(people["leader"]).get(url(people, "?lang=zh_CN"))
    assert "县教育局人事股的催办记录" in page.text and "催办 4 次，其中升级督办 1 次。" in page.text
    rows = read(page)
    assert rows[0][:3] == ["2026-03-14", "第3次催办（升级督办）", "升级督办"]
    assert rows[0][6:] == ["邮件", "已送达 2026-03-16"]
    assert rows[1][1:] == ["邮件", "待发送"]
    assert rows[3][-1] == "未送达 550 mailbox unavailable"


def test_filters_by_period_and_kind(login_as, people, record):
    leader = login_as(people["leader"])
    march = table(leader.get(url(people, "?lang=en&start=2026-03-10&end=2026-03-13")), "record")
    assert [row[0] for row in march if row[0].startswith("Mar")] == ["Mar 13, 2026", "Mar 10, 2026"]
    escalated = leader.get(url(people, "?lang=en&kind=escalation"))
    assert "Reminders: 1, of them escalations: 1." in escalated.text
    assert [r[1] for r in read(escalated) if r[1].startswith("Reminder")] == ["Reminder no. 3, escalated"]
    nothing = leader.get(url(people, "?lang=en&start=2025-01-01&end=2025-01-31"))
    assert "No reminder matches this filter." in nothing.text and 'id="record"' not in nothing.text
    wrong = leader.get(url(people, "?lang=en&start=2026-03-13&end=2026-03-01"))
    assert wrong.status_code == 422
    assert "The period ends (2026-03-01) before it starts (2026-03-13). Swap the two dates." in wrong.text


def test_sorts_by_item_and_number(login_as, people, record):
    leader = login_as(people["leader"])
    by_item = [r[3] for r in table(leader.get(url(people, "?lang=en&sort=item")), "record") if len(r) == 8]
    assert by_item[0].startswith("大班额化解") and by_item[-1].startswith("教师补充")
    by_number = [r[1] for r in table(leader.get(url(people, "?lang=en&sort=-number")), "record") if len(r) == 8]
    assert by_number[0] == "Reminder no. 3, escalated"
    assert "sort=-number" in leader.get(url(people, "?lang=en&sort=number")).text  # the heading turns it round


def test_the_unit_list_counts_and_leads_to_the_record_and_the_items(login_as, people, record):
    leader = login_as(people["leader"])
    page = leader.get("/reminders?lang=en")
    assert table(page, "record-units")[0][:5] == ["县教育局人事股", "4", "1", "2", "Mar 14, 2026"]
    assert f'href="/items?unit={people["unit"].id}"' in page.text
    assert table(leader.get("/reminders?lang=en&kind=overdue"), "record-units")[0][:4] == ["县教育局人事股", "2", "0", "1"]
    chosen = leader.get(f"/reminders?unit={people['unit'].id}&kind=overdue")
    assert chosen.status_code == 302 and chosen.headers["Location"].endswith(url(people, "?kind=overdue"))


def test_an_items_own_record_is_linked_from_the_item_and_the_unit_record(login_as, people, record):
    leader = login_as(people["leader"])
    item = record["classes"]
    assert f'href="/reminders/items/{item.id}"' in leader.get(f"/items/{item.id}").text
    assert f'href="/reminders/items/{item.id}"' in leader.get(url(people)).text
    page = leader.get(f"/reminders/items/{item.id}?lang=en")
    assert "Reminder record of item" in page.text and "Reminders: 3, of them escalations: 1." in page.text
    assert "教师补充" not in page.text
    assert login_as(people["head"]).get(f"/reminders/items/{item.id}").status_code == 403
    assert leader.get("/reminders/items/999999").status_code == 404


def test_a_reminder_stays_with_the_unit_it_was_sent_to_when_the_item_moves(db, make, login_as, people, record):
    other = make.unit("县教育局基础教育股")
    item = record["teachers"]
    services.update_item(people["admin"], item, {
        "title": item.title, "measures": item.measures, "target": item.target, "finding_id": item.finding_id,
        "lead_unit_id": other.id, "kind": item.kind.value, "deadline": item.deadline,
        "cooperating_unit_ids": [], "owner_id": None})
    db.session.commit()
    leader = login_as(people["leader"])
    assert "教师补充" in leader.get(url(people)).text
    assert "教师补充" not in leader.get(f"/reminders/units/{other.id}").text


def test_the_sheet_has_one_row_per_person_told(login_as, people, record):
    response = login_as(people["leader"]).get(url(people, ".xlsx?lang=en"))
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0] == ("Date", "Unit", "Reminder", "Kind", "Item no.", "Item", "Why", "Sent to", "As", "Channel",
                       "Delivered", "Detail")
    assert len(rows) == 1 + 5
    first = rows[1]
    assert first[0].date() == dt.date(2026, 3, 14) and first[1:4] == ("县教育局人事股", "Reminder no. 3, escalated",
                                                                      "Escalation")
    assert first[5] == "大班额化解" and first[7] == "李联络" and first[10] == "Delivered"
    assert rows[2][7] == "王股长" and rows[2][10] == "Waiting to be sent"
    zh = login_as(people["leader"]).get(url(people, ".xlsx?lang=zh_CN&kind=due_soon"))
    zh_rows = list(load_workbook(io.BytesIO(zh.data)).active.iter_rows(values_only=True))
    assert zh_rows[0][:3] == ("日期", "单位", "催办次数") and len(zh_rows) == 2 and zh_rows[1][5] == "教师补充"


def test_the_scan_writes_what_the_record_shows(login_as, make, people, today, mail_log):
    item = make.item(lead_unit=people["unit"], owner=people["owner"], deadline=today - dt.timedelta(days=8),
                     title="寄宿制学校改造")
    reminders.scan(today)
    page = login_as(people["leader"]).get(url(people, "?lang=en"))
    assert "寄宿制学校改造" in page.text and "Mar 16, 2026" in page.text
    assert "Reminder no. 1, escalated" in page.text and "王股长" in page.text and "By e-mail" in page.text


def test_a_unit_with_3000_items_is_paged(db, make, login_as, people, today):
    unit = people["unit"]
    finding = make.finding()
    now = clock.now()
    db.session.execute(insert(Item), [dict(
        finding_id=finding.id, title=f"事项{n:04d}", measures="措施", target="目标", kind=ItemKind.DEADLINE,
        lead_unit_id=unit.id, deadline=today - dt.timedelta(days=1), original_deadline=today - dt.timedelta(days=1),
        status=Status.IN_PROGRESS, last_activity_on=today, created_at=now, updated_at=now, assigned_at=now,
    ) for n in range(3000)])
    ids = [i for (i,) in db.session.execute(Item.__table__.select().with_only_columns(Item.id).order_by(Item.id))]
    start = dt.date(2025, 1, 1)
    db.session.execute(insert(Reminder), [dict(
        item_id=item_id, unit_id=unit.id, kind=ReminderKind.OVERDUE, occasion="overdue:1", number=1, days=1,
        sent_on=start + dt.timedelta(days=n % 400)) for n, item_id in enumerate(ids)])
    db.session.commit()
    leader = login_as(people["leader"])
    first = leader.get(url(people, "?lang=en"))
    assert "Reminders: 3000, of them escalations: 0." in first.text
    assert len(read(first)) == 50 and "1 / 60" in first.text
    last = leader.get(url(people, "?lang=en&page=60&sort=date"))
    assert len(read(last)) == 50 and "60 / 60" in last.text
    assert re.search(r"page=2", first.text)
    assert table(leader.get("/reminders?lang=en"), "record-units")[0][:4] == ["县教育局人事股", "3000", "0", "3000"]


def test_the_record_lists_the_supervision_notices_and_the_groups_messages(db, login_as, people, record):
    from tracker.notifications.models import OutboxChannel
    from tracker.reports.models import SupervisionNotice
    db.session.add(SupervisionNotice(item_id=record["classes"].id, year=2026, number=7, issued_on=dt.date(2026, 3, 15),
                                     issued_by_id=people["inspector"].id, requirement="限期整改", reply_by=dt.date(2026, 3, 22)))
    db.session.add(OutboxMessage(dedup_key="robot:1", kind="reminders", channel=OutboxChannel.ROBOT, unit_id=people["unit"].id,
                                 to_address="", subject="【整改通】今日催办：2项", body_text="t", body_html="",
                                 status=OutboxStatus.FAILED, last_error="errcode 310000 sign not match",
                                 created_at=dt.datetime(2026, 3, 14, 1, tzinfo=dt.timezone.utc)))
    db.session.add(OutboxMessage(dedup_key="sms:1", kind="reminder", channel=OutboxChannel.SMS, recipient_id=people["owner"].id,
                                 to_address="13900139000", subject="李联络您好：整改事项“大班额化解”已逾期", body_text="t",
                                 body_html="", status=OutboxStatus.SENT,
                                 created_at=dt.datetime(2026, 3, 13, 1, tzinfo=dt.timezone.utc),
                                 sent_at=dt.datetime(2026, 3, 13, 1, 1, tzinfo=dt.timezone.utc)))
    db.session.commit()
    page = login_as(people["leader"]).get(url(people, "?lang=en"))
    assert read(page, "supervision-notices") == [["Mar 15, 2026", "〔2026〕第7号", "大班额化解", "赵督学", "Mar 22, 2026"]]
    assert read(page, "group-messages") == [
        ["Mar 14, 2026", "Robot message", "The unit’s group", "【整改通】今日催办：2项",
         "Not delivered errcode 310000 sign not match"],
        ["Mar 13, 2026", "SMS", "李联络", "李联络您好：整改事项“大班额化解”已逾期", "Delivered 2026-03-13"]]
    # The item's own record has its 督办单; a period before it leaves it out.
    item_page = login_as(people["leader"]).get(f"/reminders/items/{record['classes'].id}?lang=en")
    assert read(item_page, "supervision-notices")[0][1] == "〔2026〕第7号"
    earlier = login_as(people["leader"]).get(url(people, "?lang=en&start=2026-03-01&end=2026-03-10"))
    assert "No supervision notice was issued." in earlier.text and "No group robot or SMS message was sent." in earlier.text
