"""The daily deadline scan: which items need a reminder today, who hears about it, and the mails.

Each reminder has an *occasion* key that names the slot it fills: `due:<deadline>:<offset>`,
`overdue:<deadline>:<k>` (the k-th slot of the overdue cadence), `unack:<assigned>:<k>`,
`stale:<last activity>:<k>`, and the same prefixed with `ms<id>:` for milestones. A slot is filled
once per item (unique constraint), so a scan run twice adds nothing, and a scan after missed days
fills only today's slot: one reminder per item, not one per missed day. Moving the deadline (an
approved extension) starts new slots.

Submitted items wait on the inspectors (they are in the inspectors' digest), drafts have not been
handed over yet, closed and cancelled items are done: none of them is reminded.

At province scale (100,000 items) the scan reads plain rows, not entities: SQL pre-selects, through
indexes, only the items that can be in a slot today, and everything the scan writes (reminders,
notifications, journal entries, mails) is inserted in a few statements, whatever their number.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import and_, false, func, or_, select, union

from tracker import bulk, clock, journal, uow
from tracker.auth.models import Role
from tracker.extensions import db
from tracker.items.models import Item, Milestone, Status
from tracker.journal import JournalEntry
from tracker.notifications import channels, mails, notices
from tracker.notifications.models import Notification, Reminder, ReminderKind
from tracker.parts.models import OPEN_PART_STATUSES, Part, PartStatus
from tracker.units.models import Unit

log = logging.getLogger(__name__)

# Still in the unit's hands (a submission waiting for the head's sign-off too).
REMINDED_STATUSES = (Status.ASSIGNED, Status.IN_PROGRESS, Status.SIGNOFF, Status.RETURNED)


@dataclass
class Occasion:
    """A reminder the scan decided to send (before it becomes a Reminder row).

    `item` and `milestone` are plain rows (attribute access like the entities), so that the mail's
    `describe` reads them as it reads a stored Reminder."""
    item: object
    kind: ReminderKind
    key: str
    days: int
    milestone: object = None
    part: object = None             # a cooperating unit's part: `item` then carries its deadline and unit
    escalate: bool = False
    number: int = 0
    id: int | None = None
    recipients: dict = field(default_factory=dict)   # person -> role

    @property
    def item_id(self) -> int:
        return self.item.id

    @property
    def is_escalation(self) -> bool:
        return self.kind == ReminderKind.ESCALATION


def _settings() -> dict:
    cfg = current_app.config
    offsets = sorted(set(cfg["REMINDER_OFFSETS"]))
    return {"offsets": offsets, "every": max(cfg["OVERDUE_EVERY_DAYS"], 1),
            "escalate": cfg["ESCALATE_AFTER_DAYS"], "ack": cfg["ACKNOWLEDGE_DAYS"],
            "stale": max(cfg["STALE_DAYS"], 1), "horizon": max(offsets, default=-1)}


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


def _deadline_occasion(item, today: dt.date, s: dict, prefix: str, **extra) -> Occasion | None:
    """The deadline's slot today: due soon, overdue, or escalated (listed, or overdue long enough)."""
    hit = _date_occasions(item.deadline, today, s, prefix)
    if hit is None:
        return None
    slot, key, days = hit
    if slot == "due":
        return Occasion(item, ReminderKind.DUE_SOON, key, days, **extra)
    escalate = item.listed_supervision or days >= s["escalate"]
    kind = ReminderKind.ESCALATION if escalate else ReminderKind.OVERDUE
    return Occasion(item, kind, key, days, escalate=escalate, **extra)


def _unacknowledged(item, handed_at: dt.datetime, today: dt.date, s: dict, prefix: str, **extra) -> Occasion | None:
    """The slot of a hand-over not acknowledged (签收) within ACKNOWLEDGE_DAYS, if it is late."""
    handed_on = clock.local_date(handed_at)
    late = (today - handed_on).days - s["ack"]
    if late < 0:
        return None
    return Occasion(item, ReminderKind.UNACKNOWLEDGED, f"{prefix}unack:{handed_on.isoformat()}:{late // s['every']}",
                    late + s["ack"], escalate=late >= s["escalate"], **extra)


def occasions_for(item, milestones, today: dt.date, s: dict) -> list[Occasion]:
    """Every reminder slot `item` is in today (the caller drops those already filled)."""
    found = [_deadline_occasion(item, today, s, "")]
    if item.status == Status.ASSIGNED and item.assigned_at is not None:
        found.append(_unacknowledged(item, item.assigned_at, today, s, ""))
    idle = (today - item.last_activity_on).days
    if item.status != Status.ASSIGNED and idle >= s["stale"]:
        found.append(Occasion(item, ReminderKind.STALE,
                              f"stale:{item.last_activity_on.isoformat()}:{idle // s['stale'] - 1}", idle))
    for milestone in milestones:
        hit = _date_occasions(milestone.due_on, today, s, f"ms{milestone.id}:")
        if hit:
            slot, key, days = hit
            kind = ReminderKind.MILESTONE_DUE if slot == "due" else ReminderKind.MILESTONE_OVERDUE
            found.append(Occasion(item, kind, key, days, milestone=milestone))
    return [occasion for occasion in found if occasion is not None]


def part_occasions(row, today: dt.date, s: dict) -> list[Occasion]:
    """Every reminder slot a cooperating unit's open part is in today: due soon, overdue (escalated
    like an item's) and not acknowledged, keyed `part<id>:` so that they fill slots of their own."""
    item = SimpleNamespace(id=row.item_id, title=row.title, deadline=row.deadline, listed_supervision=row.listed_supervision,
                           owner_id=None, lead_unit_id=row.unit_id, item_lead_unit_id=row.lead_unit_id,
                           unit_name=row.unit_name)
    part = SimpleNamespace(id=row.part_id, deadline=row.deadline, unit=SimpleNamespace(name=row.unit_name))
    prefix = f"part{row.part_id}:"
    found = [_deadline_occasion(item, today, s, prefix, part=part)]
    if row.status == PartStatus.PENDING:
        found.append(_unacknowledged(item, row.created_at, today, s, prefix, part=part))
    return [occasion for occasion in found if occasion is not None]


def part_candidates_query(today: dt.date, s: dict):
    """Open parts of reminded items that may be in a slot today (index on status, deadline), as plain
    rows; a part the lead unit's head submitted without waits no more."""
    horizon = today + dt.timedelta(days=s["horizon"])
    unacknowledged = and_(Part.status == PartStatus.PENDING,
                          Part.created_at < clock.local_midnight(today - dt.timedelta(days=s["ack"] - 1)))
    return (select(Part.id.label("part_id"), Part.deadline, Part.status, Part.created_at, Part.unit_id,
                   Unit.name.label("unit_name"), Item.id.label("item_id"), Item.title, Item.listed_supervision,
                   Item.lead_unit_id)
            .join(Item, Item.id == Part.item_id).join(Unit, Unit.id == Part.unit_id)
            .where(Part.status.in_(OPEN_PART_STATUSES), Part.override_reason.is_(None),
                   Item.status.in_(REMINDED_STATUSES), or_(Part.deadline <= horizon, unacknowledged))
            .order_by(Item.id, Part.id))


# -- what can be in a slot today ------------------------------------------------------------

def _milestones_due(today: dt.date, s: dict):
    """Open milestones whose due date is in a before/after slot today (index on done, due_on)."""
    return and_(Milestone.done == false(), Milestone.due_on <= today + dt.timedelta(days=s["horizon"]))


def candidate_ids(today: dt.date, s: dict):
    """Ids of the items that may be in a slot today: one index-served branch per kind of slot.

    An item outside all four (deadline far off, acknowledged, recently active, no milestone near)
    is in no slot today: occasions_for would find nothing for it."""
    horizon = today + dt.timedelta(days=s["horizon"])
    acting = (Status.IN_PROGRESS, Status.SIGNOFF, Status.RETURNED)
    return union(
        select(Item.id).where(Item.status.in_(REMINDED_STATUSES), Item.deadline <= horizon),
        select(Item.id).where(Item.status == Status.ASSIGNED,
                              Item.assigned_at < clock.local_midnight(today - dt.timedelta(days=s["ack"] - 1))),
        select(Item.id).where(Item.status.in_(acting),
                              Item.last_activity_on <= today - dt.timedelta(days=s["stale"])),
        select(Milestone.item_id).where(_milestones_due(today, s)),
    )


def candidates_query(today: dt.date, s: dict):
    """The pre-selected items as plain rows, with the lead unit's name."""
    return (select(Item.id, Item.title, Item.deadline, Item.status, Item.listed_supervision, Item.assigned_at,
                   Item.last_activity_on, Item.owner_id, Item.lead_unit_id, Unit.name.label("unit_name"))
            .join(Unit, Unit.id == Item.lead_unit_id)
            .where(Item.id.in_(candidate_ids(today, s)), Item.status.in_(REMINDED_STATUSES)).order_by(Item.id))


def milestones_query(today: dt.date, s: dict):
    """The pre-selected items' open milestones falling due."""
    return (select(Milestone.id, Milestone.item_id, Milestone.title, Milestone.due_on)
            .where(_milestones_due(today, s), Milestone.item_id.in_(candidate_ids(today, s)))
            .order_by(Milestone.item_id, Milestone.due_on, Milestone.id))


def _candidates(today: dt.date, s: dict) -> tuple[list, dict[int, list]]:
    items = db.session.execute(candidates_query(today, s)).all()
    milestones: dict[int, list] = defaultdict(list)
    for row in db.session.execute(milestones_query(today, s)):
        milestones[row.item_id].append(row)
    return items, milestones


def _filled(pairs: list[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which of these (item, occasion) slots already have their reminder (unique index lookups)."""
    filled: set[tuple[int, str]] = set()
    for chunk in bulk.in_chunks(pairs):
        filled.update(db.session.execute(select(Reminder.item_id, Reminder.occasion).where(
            bulk.one_of([Reminder.item_id, Reminder.occasion], chunk))).tuples())
    return filled


def _counts(item_ids: list[int]) -> dict[int, int]:
    """The number of reminders each item has had (the next one is 第N+1次催办)."""
    counts: dict[int, int] = {}
    for chunk in bulk.in_chunks(item_ids):
        counts.update(db.session.execute(select(Reminder.item_id, func.count()).where(
            bulk.one_of([Reminder.item_id], [(item_id,) for item_id in chunk])).group_by(Reminder.item_id)).all())
    return counts


def _new_occasions(today: dt.date, s: dict) -> list[Occasion]:
    """Today's unfilled occasions, numbered per item, in item order."""
    items, milestones = _candidates(today, s)
    found = [o for item in items for o in occasions_for(item, milestones.get(item.id, []), today, s)]
    found += [o for row in db.session.execute(part_candidates_query(today, s)) for o in part_occasions(row, today, s)]
    filled = _filled([(o.item.id, o.key) for o in found])
    new = [o for o in found if (o.item.id, o.key) not in filled]
    counts = _counts(sorted({o.item.id for o in new}))
    for occasion in new:
        counts[occasion.item.id] = occasion.number = counts.get(occasion.item.id, 0) + 1
    return new


# -- recipients -----------------------------------------------------------------------

class _People:
    """Active users (owners, unit heads, coordinators), looked up once per scan."""

    def __init__(self):
        self.by_id = {person.id: person for person in mails.people()}
        self.heads: dict[int, list] = defaultdict(list)
        self.coordinators = [p for p in self.by_id.values() if p.role == Role.ADMIN]
        for person in self.by_id.values():
            if person.role == Role.HEAD:
                self.heads[person.unit_id].append(person)

    def recipients(self, occasion: Occasion) -> dict[object, str]:
        item = occasion.item
        found: dict[object, str] = {}
        if occasion.part is not None:
            # The cooperating unit's head answers for its part; an escalation also reaches the lead
            # unit's head and the coordinators, and names the unit.
            found = dict.fromkeys(self.heads.get(item.lead_unit_id, []), "part_head")
            if occasion.escalate or not found:
                for head in self.heads.get(item.item_lead_unit_id, []):
                    found.setdefault(head, "head")
        else:
            owner = self.by_id.get(item.owner_id)  # None when unset or no longer active
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

def scan(today: dt.date | None = None) -> dict[str, int]:
    """Record today's reminders and queue one mail per person; commit once. Safe to run twice."""
    today = today or clock.today()
    occasions = _new_occasions(today, _settings())
    people = _People()
    for occasion in occasions:
        occasion.recipients = people.recipients(occasion)
        if not occasion.recipients:
            log.warning("item %s: reminder %s has nobody to tell", occasion.item.id, occasion.key)
    per_person = _record(occasions, today)
    notices.milestones_missed([o for o in occasions  # a milestone's first overdue slot: it is missed
                               if o.kind == ReminderKind.MILESTONE_OVERDUE and o.key.endswith(":0")])
    mails_queued = mails.queue_reminder_mails(per_person, today)
    others = channels.queue_for_scan(occasions, per_person, today)
    uow.commit()  # the job's one commit: reminders and their messages together (the outbox sends after it)
    log.info("reminder scan for %s: %s reminders, %s mails, %s robot messages, %s SMS", today, len(occasions),
             mails_queued, others["robot"], others["sms"])
    return {"reminders": len(occasions), "mails": mails_queued}


def _record(occasions: list[Occasion], today: dt.date) -> dict[object, list[mails.MailLine]]:
    """Insert the reminders, their notifications and journal entries (a few statements in all);
    returns each person's mail lines, people in the order they first appear."""
    if not occasions:
        return {}
    now = clock.now()
    ids = {(item_id, key): reminder_id for reminder_id, item_id, key in bulk.insert_many(
        Reminder.__table__, [{"item_id": o.item.id, "milestone_id": o.milestone.id if o.milestone is not None else None,
                              "part_id": o.part.id if o.part is not None else None, "unit_id": o.item.lead_unit_id, "kind": o.kind, "occasion": o.key, "number": o.number,
                              "days": o.days, "sent_on": today, "created_at": now} for o in occasions],
        Reminder.id, Reminder.item_id, Reminder.occasion)}
    for occasion in occasions:
        occasion.id = ids[occasion.item.id, occasion.key]
    told = [(occasion, person, role) for occasion in occasions for person, role in occasion.recipients.items()]
    notification_ids = {(reminder_id, user_id): notification_id for notification_id, reminder_id, user_id
                        in bulk.insert_many(
                            Notification.__table__,
                            [{"reminder_id": o.id, "user_id": p.id, "role": r, "created_at": now} for o, p, r in told],
                            Notification.id, Notification.reminder_id, Notification.user_id)}
    bulk.insert_many(JournalEntry.__table__, [journal.entry(
        None, "escalate" if o.escalate else "remind", "reminders", o.id,
        {"number": [None, o.number], "recipients": [None, sorted(p.name for p in o.recipients)]},
        item_id=o.item.id) for o in occasions])
    per_person: dict[object, list[mails.MailLine]] = defaultdict(list)
    for occasion, person, role in told:
        line = mails.MailLine(notification_ids[occasion.id, person.id], role, occasion, occasion.item.unit_name)
        per_person[person].append(line)
    return per_person
