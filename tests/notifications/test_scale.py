"""The scan and the digest at province scale, without a stopwatch: their SQL statements do not grow
with the number of items or people, the scan's pre-selection is served by indexes, and it misses
no item that is in a reminder slot."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import false, select

from tests.helpers import counted, query_plan, scans_every_item
from tracker import clock
from tracker.auth.models import Role
from tracker.items.models import Item, Milestone, Status
from tracker.notifications import digests, reminders
from tracker.notifications.models import Reminder
from tracker.units.models import Unit


def _ledger(db, make, items: int) -> None:
    """A new unit with its head and `items` items, each with its own owner, spread over every kind
    of reminder slot (due soon, overdue, escalated, unacknowledged, stale, milestone)."""
    today = clock.today()
    unit = make.unit()
    make.user(Role.HEAD, unit=unit)
    for n in range(items):
        owner = make.user(Role.STAFF, unit=unit)
        kind = n % 5
        item = make.item(status=Status.ASSIGNED if kind == 3 else Status.IN_PROGRESS, lead_unit=unit, owner=owner,
                         deadline=today + dt.timedelta(days=(3, -1, -9, 60, 60)[kind]),
                         last_activity_on=today - dt.timedelta(days=40 if kind == 4 else 0))
        if kind == 3:
            item.assigned_at = clock.now() - dt.timedelta(days=5)
        if kind == 0:
            db.session.add(Milestone(item=item, title=f"阶段{n}", due_on=today - dt.timedelta(days=2)))
    db.session.commit()


def _scan_statements(db, make, items: int) -> int:
    _ledger(db, make, items)
    with counted(db.engine) as statements:
        result = reminders.scan()
    assert result["reminders"] >= items and result["mails"] >= items
    return len(statements)


def test_the_scan_costs_the_same_statements_for_5_and_50_items(db, make, people, mail_log):
    """Ten times the reminders, people and mails: not one SQL statement more."""
    few = _scan_statements(db, make, 5)
    many = _scan_statements(db, make, 50)
    assert many == few
    assert many <= 20


def _digest_statements(db, make, people_count: int, today: dt.date) -> int:
    _ledger(db, make, people_count)
    with counted(db.engine) as statements:
        result = digests.send_digests(today)
    assert result["queued"] >= people_count
    return len(statements)


def test_the_digest_costs_the_same_statements_for_5_and_50_people(db, make, people, today, mail_log):
    """Owners, heads, inspectors and the leader: ten times the digests, not one statement more."""
    make.item(status=Status.SUBMITTED, lead_unit=people["unit"], owner=people["owner"])
    few = _digest_statements(db, make, 5, today)
    many = _digest_statements(db, make, 50, today + dt.timedelta(days=7))   # next week's digests
    assert many == few
    assert many <= 12


def _full_scan(plan: str, table: str, dialect: str) -> bool:
    if dialect == "sqlite":
        return re.search(rf"\bSCAN (TABLE )?{table}\b(?! USING)", plan) is not None
    return re.search(rf"Seq Scan on {table}\b", plan) is not None


def test_the_scans_pre_selection_uses_indexes(app, db, today):
    """The daily scan reads the items that can be in a slot today through indexes: not every open
    item, not every milestone."""
    settings = reminders._settings()
    dialect = db.engine.dialect.name
    for stmt in (reminders.candidates_query(today, settings), reminders.milestones_query(today, settings)):
        plan = query_plan(db, stmt)
        assert not scans_every_item(plan, dialect), plan
        assert not _full_scan(plan, "milestones", dialect), plan


def _all_occasions(db, day: dt.date, settings: dict) -> set[tuple[int, str]]:
    """Every slot any reminded item is in on `day`, found without the pre-selection."""
    columns = reminders.candidates_query(day, settings).selected_columns
    items = db.session.execute(select(*columns).join(Unit, Unit.id == Item.lead_unit_id)
                               .where(Item.status.in_(reminders.REMINDED_STATUSES))).all()
    milestones = db.session.execute(select(Milestone.id, Milestone.item_id, Milestone.title, Milestone.due_on)
                                    .where(Milestone.done == false())).all()
    return {(o.item.id, o.key) for item in items
            for o in reminders.occasions_for(item, [m for m in milestones if m.item_id == item.id], day, settings)}


def test_the_pre_selection_misses_no_item_in_a_slot(db, make, people, today):
    """Over two months, each day's scan records exactly the slots a scan of every item would find."""
    owner, unit = people["owner"], people["unit"]
    for offset in range(-12, 40, 4):
        item = make.item(lead_unit=unit, owner=owner, deadline=today + dt.timedelta(days=offset),
                         last_activity_on=today - dt.timedelta(days=abs(offset)))
        db.session.add(Milestone(item=item, title="阶段", due_on=today + dt.timedelta(days=offset // 2)))
        waiting = make.item(status=Status.ASSIGNED, lead_unit=unit, owner=owner, deadline=today + dt.timedelta(days=90))
        waiting.assigned_at = clock.now() - dt.timedelta(days=offset % 7, hours=offset % 11)
    db.session.commit()
    settings = reminders._settings()
    for days in range(0, 60, 3):
        day = today + dt.timedelta(days=days)
        expected = _all_occasions(db, day, settings)
        filled = set(db.session.execute(select(Reminder.item_id, Reminder.occasion)).tuples())
        reminders.scan(day)
        recorded = set(db.session.execute(select(Reminder.item_id, Reminder.occasion)).tuples()) - filled
        assert recorded == expected - filled, day
