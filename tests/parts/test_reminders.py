"""Reminders cover parts like items: a part not acknowledged, due soon or overdue reminds the
cooperating unit's head; an escalation names the unit and reaches the lead head and coordinators."""
import datetime as dt

import pytest
from sqlalchemy import select

from tests.helpers import TODAY
from tracker import clock
from tracker.auth.models import Role
from tracker.extensions import db as _db
from tracker.items.models import Status
from tracker.notifications import reminders
from tracker.notifications.models import Notification, OutboxMessage, Reminder, ReminderKind
from tracker.parts import services


@pytest.fixture
def quiet(app, monkeypatch):
    monkeypatch.setitem(app.config, "STALE_DAYS", 365)


@pytest.fixture
def setting(make, today, quiet):
    lead, finance = make.unit("县教育局"), make.unit("县财政局")
    people = {"owner": make.user(Role.HEAD, unit=lead, language="en", name="Owner"),
              "finance": make.user(Role.HEAD, unit=finance, language="en", name="Finance Head"),
              "admin": make.user(Role.ADMIN, language="en", name="Coordinator")}
    item = make.item(status=Status.IN_PROGRESS, lead_unit=lead, cooperating=[finance], owner=people["owner"],
                     deadline=today + dt.timedelta(days=60), acknowledged_at=clock.now())
    return item, finance, people


def _part(item, unit, admin, deadline, made_on=None):
    if made_on is not None:
        clock.freeze(made_on)
    part = services.add_part(admin, item, unit, deadline=deadline)
    _db.session.commit()
    clock.freeze(TODAY)
    return part


def _told(reminder_id):
    return {n.user.name: n.role for n in _db.session.scalars(select(Notification).where(
        Notification.reminder_id == reminder_id))}


def _mail_to(person):
    return _db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient_id == person.id)
                              .order_by(OutboxMessage.id.desc()))


def test_a_part_not_acknowledged_reminds_the_cooperating_units_head(db, setting, today):
    item, finance, people = setting
    part = _part(item, finance, people["admin"], item.deadline, made_on=today - dt.timedelta(days=4))
    clock.freeze(today)
    reminders.scan()
    reminder = db.session.scalar(select(Reminder).where(Reminder.part_id == part.id))
    assert reminder.kind == ReminderKind.UNACKNOWLEDGED and reminder.unit_id == finance.id
    assert _told(reminder.id) == {"Finance Head": "part_head"}
    text = _mail_to(people["finance"]).body_text
    assert "Part of 县财政局: Receipt not acknowledged 4 days after assignment" in text
    assert "as head of a cooperating unit" in text
    assert reminders.scan()["reminders"] == 0  # run twice, nothing more


def test_a_part_due_soon_reminds_its_head_at_its_own_deadline(db, setting, today):
    item, finance, people = setting
    part = _part(item, finance, people["admin"], today + dt.timedelta(days=3))
    services.acknowledge(people["finance"], part)
    db.session.commit()
    clock.freeze(today)
    reminders.scan()
    reminder = db.session.scalar(select(Reminder).where(Reminder.part_id == part.id))
    assert reminder.kind == ReminderKind.DUE_SOON and reminder.days == 3
    deadline = (today + dt.timedelta(days=3)).isoformat()
    assert f"Part of 县财政局: Due in 3 days (deadline {deadline})" in _mail_to(people["finance"]).body_text
    assert _mail_to(people["owner"]) is None  # the item itself is far from its deadline


def test_an_overdue_part_escalates_naming_the_unit_to_the_lead_head_and_coordinators(db, setting, today):
    item, finance, people = setting
    part = _part(item, finance, people["admin"], today - dt.timedelta(days=8))
    services.acknowledge(people["finance"], part)
    db.session.commit()
    clock.freeze(today)
    reminders.scan()
    reminder = db.session.scalar(select(Reminder).where(Reminder.part_id == part.id,
                                                        Reminder.kind == ReminderKind.ESCALATION))
    assert _told(reminder.id) == {"Finance Head": "part_head", "Owner": "head", "Coordinator": "coordinator"}
    text = _mail_to(people["admin"]).body_text
    assert "Part of 县财政局: Escalated: overdue by 8 days" in text and "县财政局" in text


def test_a_part_reported_done_or_waived_is_not_reminded(db, setting, today):
    item, finance, people = setting
    part = _part(item, finance, people["admin"], today - dt.timedelta(days=2))
    services.acknowledge(people["finance"], part)
    services.report_done(people["finance"], part, "已拨付")
    db.session.commit()
    clock.freeze(today)
    reminders.scan()
    assert db.session.scalar(select(Reminder).where(Reminder.part_id == part.id)) is None


def test_the_reminder_record_of_the_cooperating_unit_lists_its_part_reminders(db, setting, today, login_as, make):
    item, finance, people = setting
    _part(item, finance, people["admin"], item.deadline, made_on=today - dt.timedelta(days=4))
    clock.freeze(today)
    reminders.scan()
    db.session.commit()
    page = login_as(make.user(Role.LEADER, language="en")).get(f"/reminders/units/{finance.id}")
    assert page.status_code == 200
    assert "Part of 县财政局: Receipt not acknowledged 4 days after assignment" in page.text
    page = login_as(people["finance"]).get("/notifications")
    assert "Part of 县财政局" in page.text


def test_a_parts_lateness_counts_for_the_cooperating_unit_on_the_dashboard(db, setting, today, login_as, make):
    """县财政局 leads nothing: it has a row of its own, with its open and overdue parts."""
    from tests.helpers import table
    from tracker.parts.services import counts_by_unit
    item, finance, people = setting
    housing = make.unit("县住建局")
    item.cooperating_units = [finance, housing]
    db.session.commit()
    _part(item, finance, people["admin"], today - dt.timedelta(days=2))
    _part(item, housing, people["admin"], today + dt.timedelta(days=20))
    assert counts_by_unit(today)[finance.id] == {"parts": 1, "open": 1, "overdue": 1, "unacknowledged": 1}
    assert counts_by_unit(today, unit_ids=[housing.id]) == {
        housing.id: {"parts": 1, "open": 1, "overdue": 0, "unacknowledged": 1}}
    page = login_as(make.user(Role.LEADER, language="en")).get("/reports/")
    rows = {row[0]: row for row in table(page, "by-unit")}
    assert rows["县财政局"] == ["县财政局", "0", "0", "0", "0", "—", "1", "1"]
    assert rows["县住建局"][-2:] == ["1", "0"]
    assert rows["县教育局"][1:5] == ["1", "1", "0", "0"]
