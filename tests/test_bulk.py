"""The few-statement writes of the scan and the digest store exactly what one-row writes would:
timestamps with their moment, dates, enum values, JSON and text with quotes, backslashes and
Chinese, and they find and update the rows they are given."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tracker import bulk
from tracker.journal import JournalEntry
from tracker.notifications.models import Notification, Reminder, ReminderKind

AWKWARD = '整改 "quoted" \\ back\\slash, {braces} NULL \'single\''


def test_bulk_rows_come_back_as_written(db, make):
    """Reminders, journal entries and notifications inserted in bulk read back unchanged, and the
    returned keys match the rows."""
    item = make.item()
    owner = make.user()
    at = dt.datetime(2026, 3, 1, 23, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    rows = [{"item_id": item.id, "milestone_id": None, "unit_id": item.lead_unit_id, "kind": kind,
             "occasion": f"{AWKWARD}:{n}", "number": n + 1, "days": -n, "sent_on": dt.date(2026, 3, n + 1),
             "created_at": at} for n, kind in enumerate((ReminderKind.DUE_SOON, ReminderKind.ESCALATION))]
    returned = bulk.insert_many(Reminder.__table__, rows, Reminder.id, Reminder.occasion)
    ids = {occasion: reminder_id for reminder_id, occasion in returned}
    assert set(ids) == {row["occasion"] for row in rows}
    for row in rows:
        stored = db.session.get(Reminder, ids[row["occasion"]])
        assert (stored.kind, stored.number, stored.days, stored.sent_on, stored.created_at, stored.milestone_id) == \
            (row["kind"], row["number"], row["days"], row["sent_on"], at, None)

    changes = {"recipients": [None, [AWKWARD, "张三"]], "number": [None, 2]}
    bulk.insert_many(JournalEntry.__table__, [{"actor_id": None, "object_type": "reminders",
                                               "object_id": ids[rows[0]["occasion"]], "item_id": item.id,
                                               "action": "remind", "changes": changes, "note": AWKWARD, "at": at}])
    entry = db.session.scalars(select(JournalEntry).where(JournalEntry.object_type == "reminders",
                                                          JournalEntry.item_id == item.id)).one()
    assert (entry.changes, entry.note, entry.at) == (changes, AWKWARD, at)

    found = db.session.execute(select(Reminder.occasion).where(bulk.one_of(
        [Reminder.item_id, Reminder.occasion], [(item.id, rows[1]["occasion"]), (item.id, "none")]))).scalars().all()
    assert found == [rows[1]["occasion"]]

    (notification_id,) = [n for n, in bulk.insert_many(Notification.__table__, [{
        "reminder_id": ids[rows[0]["occasion"]], "user_id": owner.id, "role": "owner", "created_at": at}],
        Notification.id)]
    bulk.set_many(Notification.__table__.c.id, Notification.__table__.c.role, [(notification_id, "head")])
    db.session.expire_all()
    assert db.session.get(Notification, notification_id).role == "head"
