"""The daily deadline scan: which items need a reminder today, who hears about it, and the mails.

Each reminder has an *occasion* key that names the slot it fills: `due:<deadline>:<offset>`,
`overdue:<deadline>:<k>` (the k-th slot of the overdue cadence), `unack:<assigned>:<k>`,
`stale:<last activity>:<k>`, and the same prefixed with `ms<id>:` for milestones. A slot is filled
once per item (unique constraint), so a scan run twice adds nothing, and a scan after missed days
fills only today's slot: one reminder per item, not one per missed day. Moving the deadline (an
approved extension) starts new slots.

Submitted items wait on the inspectors (they are in the inspectors' digest), drafts have not been
handed over yet, closed and cancelled items are done: none of them is reminded.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tracker import clock, journal
from tracker.auth.models import Role, User
from tracker.extensions import db
from tracker.items.models import Item, Status
from tracker.notifications import mails, outbox
from tracker.notifications.models import Notification, Reminder, ReminderKind

log = logging.getLogger(__name__)

REMINDED_STATUSES = (Status.ASSIGNED, Status.IN_PROGRESS, Status.RETURNED)


@dataclass
class Occasion:
    """A reminder the scan decided to send (before it becomes a Reminder row)."""
    item: Item
    kind: ReminderKind
    key: str
    days: int
    milestone: object = None
    escalate: bool = False
    recipients: dict = field(default_factory=dict)   # user -> role


def _settings() -> dict:
    cfg = current_app.config
    return {"offsets": sorted(set(cfg["REMINDER_OFFSETS"])), "every": max(cfg["OVERDUE_EVERY_DAYS"], 1),
            "escalate": cfg["ESCALATE_AFTER_DAYS"], "ack": cfg["ACKNOWLEDGE_DAYS"],
            "stale": max(cfg["STALE_DAYS"], 1)}


def _date_occasions(due: dt.date, today: dt.date, s: dict, prefix: str) -> tuple[str, str, int] | None:
    """The before/after slot of a due date today: (slot kind, occasion key, days) or None.

    Before: the smallest offset not below the days left, so a missed day still gets its reminder
    (once) and an item created five days before its deadline hears the 7-day one."""
    days_left = (due - today).days
    if days_left >= 0:
        fitting = [o for o in s["offsets"] if o >= days_left]
        if not fitting:
            return None
        return "due", f"{prefix}due:{due.isoformat()}:{fitting[0]}", days_left
    days_over = -days_left  # a deadline ends at local midnight: overdue from the next day
    slot = (days_over - 1) // s["every"]
    return "overdue", f"{prefix}overdue:{due.isoformat()}:{slot}", days_over


def occasions_for(item: Item, today: dt.date, s: dict) -> list[Occasion]:
    """Every reminder slot `item` is in today (the caller drops those already filled)."""
    found: list[Occasion] = []
    hit = _date_occasions(item.deadline, today, s, "")
    if hit:
        slot, key, days = hit
        if slot == "due":
            found.append(Occasion(item, ReminderKind.DUE_SOON, key, days))
        else:
            escalate = item.listed_supervision or days >= s["escalate"]
            kind = ReminderKind.ESCALATION if escalate else ReminderKind.OVERDUE
            found.append(Occasion(item, kind, key, days, escalate=escalate))
    if item.status == Status.ASSIGNED and item.assigned_at is not None:
        assigned_on = clock.local_date(item.assigned_at)
        late = (today - assigned_on).days - s["ack"]
        if late >= 0:
            found.append(Occasion(item, ReminderKind.UNACKNOWLEDGED,
                                  f"unack:{assigned_on.isoformat()}:{late // s['every']}", late + s["ack"],
                                  escalate=late >= s["escalate"]))
    idle = (today - item.last_activity_on).days
    if item.status != Status.ASSIGNED and idle >= s["stale"]:
        found.append(Occasion(item, ReminderKind.STALE,
                              f"stale:{item.last_activity_on.isoformat()}:{idle // s['stale'] - 1}", idle))
    for milestone in item.milestones:
        if milestone.done:
            continue
        hit = _date_occasions(milestone.due_on, today, s, f"ms{milestone.id}:")
        if hit:
            slot, key, days = hit
            kind = ReminderKind.MILESTONE_DUE if slot == "due" else ReminderKind.MILESTONE_OVERDUE
            found.append(Occasion(item, kind, key, days, milestone=milestone))
    return found


# -- recipients -----------------------------------------------------------------------

class _People:
    """Unit heads and coordinators, looked up once per scan."""

    def __init__(self):
        active = db.session.scalars(select(User).where(User.active.is_(True),
                                                       User.role.in_((Role.HEAD, Role.ADMIN)))).all()
        self.heads: dict[int, list[User]] = defaultdict(list)
        self.coordinators = [u for u in active if u.role == Role.ADMIN]
        for user in active:
            if user.role == Role.HEAD:
                self.heads[user.unit_id].append(user)

    def recipients(self, occasion: Occasion) -> dict[User, str]:
        item = occasion.item
        found: dict[User, str] = {}
        owner = item.owner if item.owner is not None and item.owner.active else None
        if owner is not None:
            found[owner] = "owner"
        # The owner left (or was never set): the unit head answers for the item.
        if owner is None or occasion.escalate or occasion.kind == ReminderKind.UNACKNOWLEDGED:
            for head in self.heads.get(item.lead_unit_id, []):
                found.setdefault(head, "head")
        if occasion.escalate:
            for coordinator in self.coordinators:
                found.setdefault(coordinator, "coordinator")
        return found


# -- the scan ---------------------------------------------------------------------------

def _items_to_scan():
    return db.session.scalars(
        select(Item).where(Item.status.in_(REMINDED_STATUSES)).order_by(Item.id)
        .options(selectinload(Item.owner), selectinload(Item.milestones), selectinload(Item.lead_unit))).all()


def _filled(item_ids: list[int]) -> tuple[set[tuple[int, str]], dict[int, int]]:
    """Occasions already filled, and the number of reminders each item has had."""
    rows = db.session.execute(select(Reminder.item_id, Reminder.occasion)
                              .where(Reminder.item_id.in_(item_ids))).all() if item_ids else []
    counts = dict(db.session.execute(select(Reminder.item_id, func.count()).where(
        Reminder.item_id.in_(item_ids)).group_by(Reminder.item_id)).all()) if item_ids else {}
    return {(r.item_id, r.occasion) for r in rows}, counts


def scan(today: dt.date | None = None) -> dict[str, int]:
    """Record today's reminders and queue one mail per person; commit once. Safe to run twice."""
    today = today or clock.today()
    settings = _settings()
    items = _items_to_scan()
    filled, counts = _filled([i.id for i in items])
    people = _People()
    per_user: dict[User, list[Notification]] = defaultdict(list)
    recorded: list[tuple[Reminder, Occasion, list[str]]] = []
    for item in items:
        for occasion in occasions_for(item, today, settings):
            if (item.id, occasion.key) in filled:
                continue
            counts[item.id] = counts.get(item.id, 0) + 1
            recipients = people.recipients(occasion)
            reminder = _record(occasion, counts[item.id], today, recipients)
            recorded.append((reminder, occasion, sorted(u.name for u in recipients)))
            for notification in reminder.notifications:
                per_user[notification.user].append(notification)
    reminders = len(recorded)
    # One flush for all reminders (batched INSERTs), then their journal entries: flushing per
    # reminder made a scan with tens of thousands of reminders take minutes.
    db.session.flush()
    for reminder, occasion, names in recorded:
        journal.record(None, "escalate" if occasion.escalate else "remind", reminder,
                       {"number": [None, reminder.number], "recipients": [None, names]},
                       item_id=reminder.item_id, flush=False)
    mails_queued = 0
    for user, notifications in per_user.items():
        message = mails.queue_reminder_mail(user, notifications, today)
        if message is not None:
            mails_queued += 1
    db.session.commit()
    log.info("reminder scan for %s: %s reminders, %s mails", today, reminders, mails_queued)
    return {"reminders": reminders, "mails": mails_queued}


def _record(occasion: Occasion, number: int, today: dt.date, recipients: dict[User, str]) -> Reminder:
    item = occasion.item
    reminder = Reminder(item=item, milestone=occasion.milestone, unit_id=item.lead_unit_id,
                        kind=occasion.kind, occasion=occasion.key, number=number, days=occasion.days,
                        sent_on=today, created_at=clock.now())
    db.session.add(reminder)
    for user, role in recipients.items():
        reminder.notifications.append(Notification(user=user, role=role, created_at=clock.now()))
    if not recipients:
        log.warning("item %s: reminder %s has nobody to tell", item.id, occasion.key)
    return reminder
