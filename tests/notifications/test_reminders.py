"""The deadline scan: who is reminded, when, how often, and that a scan run twice adds nothing."""
from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import func, select

from tracker import clock
from tracker.items.models import Milestone, Status
from tracker.journal import JournalEntry
from tracker.notifications import outbox, reminders
from tracker.notifications.models import Notification, OutboxMessage, OutboxStatus, Reminder, ReminderKind


def day(db, date):
    """One day of the scheduler: the scan, then the sender."""
    clock.freeze(date)
    result = reminders.scan()
    outbox.flush()
    return result


@pytest.fixture
def quiet(app, monkeypatch):
    """Keep the staleness rule out of the way of the deadline cadence."""
    monkeypatch.setitem(app.config, "STALE_DAYS", 365)


def test_a_month_of_reminders_arrives_on_the_offsets_and_the_overdue_cadence(
        db, make, people, smtp_server, today, quiet):
    """Deadline in 10 days, followed for 41 days: 7/3/1 days before, then day 1, 4, 7 ... overdue;
    from 7 days overdue the unit head and the coordinator hear about it too."""
    owner, head, admin = people["owner"], people["head"], people["admin"]
    item = make.item(lead_unit=people["unit"], owner=owner, deadline=today + dt.timedelta(days=10))
    mails_by_day = {}
    for offset in range(41):
        date = today + dt.timedelta(days=offset)
        before = len(smtp_server.messages)
        day(db, date)
        if len(smtp_server.messages) > before:
            mails_by_day[(date - item.deadline).days] = len(smtp_server.messages) - before

    to_owner = smtp_server.to(owner.email)
    # 3 before the deadline (-7, -3, -1), then overdue days 1, 4, 7, ..., 28: 10 more.
    assert len(to_owner) == 13
    assert sorted(mails_by_day) == [-7, -3, -1, 1, 4, 7, 10, 13, 16, 19, 22, 25, 28]
    assert len(smtp_server.to(head.email)) == 8       # escalations: overdue days 7, 10, ..., 28
    assert len(smtp_server.to(admin.email)) == 8
    assert smtp_server.to(people["leader"].email) == []

    numbers = [r.number for r in db.session.scalars(select(Reminder).where(Reminder.item_id == item.id)
                                                    .order_by(Reminder.id))]
    assert numbers == list(range(1, 14))
    kinds = Counter(r.kind for r in db.session.scalars(select(Reminder)))
    assert kinds == {ReminderKind.DUE_SOON: 3, ReminderKind.OVERDUE: 2, ReminderKind.ESCALATION: 8}
    last = to_owner[-1].get_body(("plain",)).get_content()
    assert "Reminder no. 13" in last and "overdue by 28 days" in last
    assert f"/items/{item.id}" in last
    # the item's journal keeps every reminder and escalation, by the system
    actions = Counter(db.session.scalars(select(JournalEntry.action).where(
        JournalEntry.item_id == item.id, JournalEntry.actor_id.is_(None))))
    assert actions == {"remind": 5, "escalate": 8}


def test_listed_supervision_escalates_on_the_first_overdue_day(db, make, people, smtp_server, today):
    """挂牌督办: the first overdue reminder already goes to the head and the coordinator."""
    make.item(lead_unit=people["unit"], owner=people["owner"], deadline=today - dt.timedelta(days=1),
              listed_supervision=True)
    day(db, today)
    for who in ("owner", "head", "admin"):
        [mail] = smtp_server.to(people[who].email)
        assert "Escalation" in mail["Subject"]


def test_an_item_whose_owner_left_is_reminded_to_the_unit_head(db, make, people, smtp_server, today):
    owner = people["owner"]
    make.item(lead_unit=people["unit"], owner=owner, deadline=today - dt.timedelta(days=1))
    owner.active = False
    db.session.commit()
    day(db, today)
    assert smtp_server.to(owner.email) == []
    assert len(smtp_server.to(people["head"].email)) == 1


def test_one_mail_per_person_per_scan_listing_all_their_items(db, make, people, smtp_server, today):
    """Three items in three different reminder slots, owned by the head: one mail with three lines."""
    head = people["head"]
    for days in (3, -1, -8):
        make.item(lead_unit=people["unit"], owner=head, deadline=today + dt.timedelta(days=days),
                  title=f"事项{days}")
    day(db, today)
    [mail] = smtp_server.to(head.email)
    text = mail.get_body(("plain",)).get_content()
    assert all(f"事项{days}" in text for days in (3, -1, -8))
    assert mail.get_body(("html",)) is not None


def test_a_scan_run_twice_adds_nothing_and_missed_days_catch_up_once(db, make, people, smtp_server, today):
    item = make.item(lead_unit=people["unit"], owner=people["owner"], deadline=today - dt.timedelta(days=1))
    assert day(db, today) == {"reminders": 1, "mails": 1}
    assert day(db, today) == {"reminders": 0, "mails": 0}
    assert len(smtp_server.messages) == 1
    # the scheduler was down for a week: the next scan sends one reminder for today's slot only
    assert day(db, today + dt.timedelta(days=8))["reminders"] == 1
    assert db.session.scalar(select(func.count()).select_from(Reminder).where(Reminder.item_id == item.id)) == 2


def test_closed_cancelled_submitted_and_draft_items_get_no_reminders(db, make, people, smtp_server, today):
    for status in (Status.CLOSED, Status.CANCELLED, Status.SUBMITTED, Status.DRAFT):
        make.item(status=status, lead_unit=people["unit"], owner=people["owner"],
                  deadline=today - dt.timedelta(days=1))
    assert day(db, today) == {"reminders": 0, "mails": 0}
    assert smtp_server.messages == []


def test_unacknowledged_items_are_reminded_to_owner_and_head(db, make, people, smtp_server, today, app):
    item = make.item(status=Status.ASSIGNED, lead_unit=people["unit"], owner=people["owner"])
    item.assigned_at = clock.now() - dt.timedelta(days=app.config["ACKNOWLEDGE_DAYS"])
    db.session.commit()
    day(db, today)
    [reminder] = db.session.scalars(select(Reminder)).all()
    assert reminder.kind == ReminderKind.UNACKNOWLEDGED
    assert {n.user_id for n in reminder.notifications} == {people["owner"].id, people["head"].id}
    assert "not acknowledged" in smtp_server.to(people["head"].email)[0].get_body(("plain",)).get_content()


def test_an_item_without_progress_for_thirty_days_is_reminded(db, make, people, smtp_server, today):
    make.item(lead_unit=people["unit"], owner=people["owner"], last_activity_on=today - dt.timedelta(days=30))
    day(db, today)
    [reminder] = db.session.scalars(select(Reminder)).all()
    assert reminder.kind == ReminderKind.STALE and reminder.days == 30
    day(db, today + dt.timedelta(days=1))
    assert db.session.scalar(select(func.count()).select_from(Reminder)) == 1


def test_milestones_get_before_and_after_reminders(db, make, people, smtp_server, today):
    item = make.item(lead_unit=people["unit"], owner=people["owner"])
    db.session.add(Milestone(item=item, title="完成招聘", due_on=today + dt.timedelta(days=3)))
    db.session.commit()
    day(db, today)
    day(db, today + dt.timedelta(days=4))
    kinds = [r.kind for r in db.session.scalars(select(Reminder).order_by(Reminder.id))]
    assert kinds == [ReminderKind.MILESTONE_DUE, ReminderKind.MILESTONE_OVERDUE]
    assert "完成招聘" in smtp_server.to(people["owner"].email)[0].get_body(("plain",)).get_content()


@pytest.mark.parametrize("email", ["", "not-an-address", "a@b\r\nBcc: x@evil.example"])
def test_a_user_without_a_usable_address_is_recorded_not_mailed(db, make, people, smtp_server, today, email):
    """The reminder is still on record and in the app; the outbox row waits, failed, for a fixed address."""
    owner = people["owner"]
    owner.email = email
    db.session.commit()
    make.item(lead_unit=people["unit"], owner=owner, deadline=today - dt.timedelta(days=1))
    day(db, today)
    assert smtp_server.messages == []
    message = db.session.scalar(select(OutboxMessage))
    assert message.status == OutboxStatus.FAILED and "address" in message.last_error
    assert db.session.scalar(select(Notification)).user_id == owner.id
    owner.email = "fixed@example.org"
    db.session.commit()
    assert outbox.retry(people["admin"], message.id).status == OutboxStatus.PENDING
    outbox.flush()
    assert len(smtp_server.to("fixed@example.org")) == 1


def test_an_extension_starts_the_reminders_again(db, make, people, smtp_server, today):
    item = make.item(lead_unit=people["unit"], owner=people["owner"], deadline=today + dt.timedelta(days=1))
    day(db, today)
    item.deadline = today + dt.timedelta(days=7)  # as an approved extension would
    db.session.commit()
    day(db, today)
    assert len(smtp_server.to(people["owner"].email)) == 2


def test_reminder_roles_get_one_mail_even_as_owner_and_head(db, make, people, smtp_server, today):
    """A head who owns an escalated item is told once, as the responsible person."""
    head = people["head"]
    make.item(lead_unit=people["unit"], owner=head, deadline=today - dt.timedelta(days=1),
              listed_supervision=True)
    day(db, today)
    [mail] = smtp_server.to(head.email)
    assert "as the responsible person" in mail.get_body(("plain",)).get_content()
    assert smtp_server.to(people["admin"].email)


def test_mail_speaks_the_recipients_language(db, make, people, smtp_server, today):
    """A Chinese-speaking owner reads 第1次催办; an English-speaking head reads "Reminder no. 1"."""
    owner = people["owner"]
    owner.language = "zh_CN"
    db.session.commit()
    make.item(lead_unit=people["unit"], owner=owner, deadline=today - dt.timedelta(days=1),
              listed_supervision=True)
    day(db, today)
    assert "第1次催办" in smtp_server.to(owner.email)[0].get_body(("plain",)).get_content()
    assert "Reminder no. 1" in smtp_server.to(people["head"].email)[0].get_body(("plain",)).get_content()


def test_a_reminder_mail_shows_names_and_titles_as_typed_and_its_html_escapes_them(db, make, people, smtp_server,
                                                                                    today):
    """A name or title with markup reads as typed in the text part and cannot inject markup into
    the HTML part (the mail's own phrases and links are worked out once per scan)."""
    head = people["head"]
    head.name = "王<b>五</b> & co"
    make.item(lead_unit=people["unit"], owner=head, deadline=today + dt.timedelta(days=3), title="事项<i>一</i>")
    db.session.commit()
    day(db, today)
    [mail] = smtp_server.to(head.email)
    text, html = mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()
    assert "王<b>五</b> & co" in text and "事项<i>一</i>" in text
    assert "王&lt;b&gt;五&lt;/b&gt; &amp; co" in html and "事项&lt;i&gt;一&lt;/i&gt;" in html
    assert "<b>" not in html and "<i>" not in html
    assert "/notifications" in html and "/notifications" in text
