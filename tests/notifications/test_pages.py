"""The pages: my notifications, the profile, the per-unit reminder record and the admin outbox."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from tracker.journal import JournalEntry
from tracker.notifications import outbox, reminders
from tracker.notifications.models import OutboxMessage, OutboxStatus
from tracker.notifications.notices import TOPIC_LABELS


@pytest.fixture
def reminded(db, make, people, today, mail_log):
    item = make.item(lead_unit=people["unit"], owner=people["owner"], deadline=today - dt.timedelta(days=8),
                     title="大班额化解")
    reminders.scan(today)
    return item


def test_a_user_sees_their_reminders(login_as, people, reminded):
    page = login_as(people["owner"]).get("/notifications?lang=en")
    assert page.status_code == 200
    assert "大班额化解" in page.text and "Reminder no. 1" in page.text and "Reminder no. 1, escalated" in page.text and "Escalation Reminder" not in page.text


@pytest.mark.parametrize("role, status", [("leader", 200), ("inspector", 200), ("admin", 200),
                                          ("head", 403), ("owner", 403)])
def test_the_unit_reminder_record_is_for_leaders_inspectors_and_admins(login_as, people, reminded, role, status):
    browser = login_as(people[role])
    assert browser.get("/reminders").status_code == status
    page = browser.get(f"/reminders/units/{people['unit'].id}?lang=en")
    assert page.status_code == status
    if status == 200:
        assert "大班额化解" in page.text and people["head"].name in page.text


def test_the_reminder_record_counts_each_units_reminders_escalations_and_items(login_as, make, people, today,
                                                                               mail_log):
    """Its items column printed `<built-in method items of dict object at 0x…>` in both languages."""
    make.item(lead_unit=people["unit"], owner=people["owner"], deadline=today - dt.timedelta(days=8))
    make.item(lead_unit=people["unit"], owner=people["owner"], deadline=today + dt.timedelta(days=3))
    reminders.scan(today)  # the first is escalated (8 days overdue), the second reminded (due in 3 days)
    for lang in ("en", "zh_CN"):
        page = login_as(people["leader"]).get(f"/reminders?lang={lang}").text
        cells = re.findall(r"<td[^>]*>(.*?)</td>", page, re.S)
        name = cells.index(f'<a href="/reminders/units/{people["unit"].id}">县教育局人事股</a>')
        assert cells[name + 1:name + 4] == ["2", "1", "2"]  # reminders, of them escalations, items
        assert "built-in method" not in page


def test_the_unit_record_names_who_was_told_and_as_what(login_as, people, reminded):
    """The role in brackets was bracketed twice in Chinese: 王股长 (（责任人）)."""
    page = login_as(people["leader"]).get(f"/reminders/units/{people['unit'].id}?lang=zh_CN").text
    assert "（" in page and "(（" not in page and "）)" not in page


def test_one_day_is_one_day(login_as, make, people, today, mail_log):
    """A reminder the day before the deadline said "Due in 1 days"."""
    make.item(lead_unit=people["unit"], owner=people["owner"], deadline=today + dt.timedelta(days=1))
    reminders.scan(today)
    page = login_as(people["leader"]).get(f"/reminders/units/{people['unit'].id}?lang=en").text
    assert f"Due in 1 day (deadline {(today + dt.timedelta(days=1)).isoformat()})" in page


def test_the_item_journal_records_the_escalation(login_as, people, reminded):
    page = login_as(people["admin"]).get(f"/items/{reminded.id}?lang=en")
    assert "escalated" in page.text


def test_the_admin_outbox_shows_errors_and_requeues(db, login_as, people, reminded):
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient_id == people["owner"].id))
    message.status, message.last_error = OutboxStatus.FAILED, "550 mailbox unavailable"
    db.session.commit()
    admin = login_as(people["admin"])
    page = admin.get("/admin/outbox?status=failed&lang=en")
    assert page.status_code == 200 and "550 mailbox unavailable" in page.text
    assert "Scheduler: last runs" in page.text
    assert admin.post(f"/admin/outbox/{message.id}/retry").status_code == 302
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status == OutboxStatus.PENDING
    assert db.session.scalar(select(JournalEntry).where(JournalEntry.action == "retry")).actor_id == people["admin"].id
    assert login_as(people["leader"]).get("/admin/outbox").status_code == 403


def test_the_profile_switches_the_digest_off_and_on(db, login_as, people):
    browser = login_as(people["owner"])
    assert browser.get("/profile").status_code == 200
    on = {f"notice_{topic}": "y" for topic in TOPIC_LABELS}   # checked on the page, posted as they are
    on.update({"sms_enabled": "y", "email_enabled": "y"})
    browser.post("/profile", {"digest_opt_out": "y", **on})
    browser.post("/profile", on)
    db.session.expire_all()
    assert people["owner"].digest_opt_out is False
    changes = db.session.scalars(select(JournalEntry.changes).where(
        JournalEntry.object_type == "users", JournalEntry.action == "update")).all()
    assert changes == [{"digest_opt_out": [False, True]}, {"digest_opt_out": [True, False]}]


def test_outbox_rows_belong_to_the_scan_transaction(db, people, reminded):
    """The scan committed reminders and mails together; the sender has not run yet."""
    assert {m.status for m in db.session.scalars(select(OutboxMessage))} == {OutboxStatus.PENDING}
    assert outbox.flush()["sent"] == 3
