"""Event notices: who is told when something happens to an item, and one message per window.

A service announces an event (tracker/items/hooks.py: `announce`, and every workflow step); this
module writes one `Notice` per person concerned, in the change's transaction, so a change that
rolls back tells nobody. The notice is on the person's notifications page at once. The outbox job
gathers (`gather`) each person's notices once the first of them is NOTICE_WINDOW_MINUTES old:
one message for all of them, queued under a key naming the person and the first notice, and the
notices marked gathered in the same commit; the outbox sends it as it sends the reminders.

Who is told: the people who must act, never the actor; only active users. "The unit" is the
item's owner and the lead unit's heads; a unit with no active head has the coordinators (admins)
told instead.
"""
from __future__ import annotations

import datetime as dt
import logging

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from tracker import bulk, clock, journal, uow
from tracker.auth.models import Role, User
from tracker.errors import Invalid
from tracker.extensions import db
from tracker.i18n import lazy_gettext as _l
from tracker.items import hooks
from tracker.items.lights import LIGHT_LABELS, Light, light_of
from tracker.items.models import LIVE_STATUSES, Item
from tracker.notifications import channels, mails, outbox
from tracker.notifications.models import Notice, NoticeKind, NoticePreference, UnitInspector

log = logging.getLogger(__name__)

K = NoticeKind
# The workflow steps that are notices (a re-check's reopening is told by the re-check's notice).
ACTIONS = {"assign": K.ASSIGNED, "return_item": K.RETURNED, "submit_for_closure": K.SUBMITTED,
           "approve_submission": K.SUBMITTED,  # the unit head's sign-off passes it on to the inspectors
           "reopen": K.REOPENED, "cancel": K.CANCELLED,
           "submit_for_signoff": K.SIGNOFF_REQUESTED, "send_back": K.SENT_BACK}

# What a person switches on or off on the profile page: a kind of notice is its own topic, but
# one topic covers a decision's two outcomes.
TOPICS = {kind: kind.value for kind in NoticeKind} | {
    K.EXTENSION_APPROVED: "extension_decided", K.EXTENSION_REFUSED: "extension_decided",
    K.LISTED: "supervision", K.UNLISTED: "supervision", K.RECHECK_HOLDS: "recheck", K.RECHECK_BACK: "recheck"}
TOPIC_LABELS = {
    "assigned": _l("An item is handed to my unit (交办)"),
    "returned": _l("An item is returned (退回)"),
    "submitted": _l("An item is submitted for closure (申请销号)"),
    "extension_requested": _l("An extension is requested (延期申请)"),
    "extension_decided": _l("An extension request is decided"),
    "supervision": _l("Listed supervision (挂牌督办) is set or lifted"),
    "recheck": _l("A re-check (回头看) is recorded"),
    "reopened": _l("An item is reopened"),
    "cancelled": _l("An item is cancelled"),
    "requirement_added": _l("A required-evidence entry is added"),
    "milestone_missed": _l("A milestone is missed"),
    "signoff_requested": _l("A staff submission waits for my sign-off (单位负责人审核)"),
    "sent_back": _l("The unit head sends my submission back"),
}
# The notices a unit's group robot may hear too, chosen per unit on the unit form (listed
# supervision is the robot's own "supervision" topic; submissions and requests concern no unit).
ROBOT_NOTICES = ("assigned", "returned", "extension_decided", "recheck", "reopened", "cancelled",
                 "requirement_added")
channels.NOTICE_TOPICS.update({f"notice_{topic}": TOPIC_LABELS[topic] for topic in ROBOT_NOTICES})


def what(kind: str) -> str:
    """What happened, in a few words of the current language (a subject's and a line's head)."""
    return str({
        K.ASSIGNED: _l("Handed to your unit"), K.RETURNED: _l("Returned for more work"),
        K.SUBMITTED: _l("Closure requested"), K.EXTENSION_REQUESTED: _l("Extension requested"),
        K.EXTENSION_APPROVED: _l("Extension approved"), K.EXTENSION_REFUSED: _l("Extension refused"),
        K.LISTED: _l("Put under listed supervision"), K.UNLISTED: _l("Listed supervision lifted"),
        K.RECHECK_HOLDS: _l("Re-check: the rectification holds"),
        K.RECHECK_BACK: _l("Re-check: the problem is back, the item is reopened"),
        K.REOPENED: _l("Item reopened"), K.CANCELLED: _l("Item cancelled"),
        K.REQUIREMENT_ADDED: _l("New required evidence"), K.MILESTONE_MISSED: _l("Milestone missed"),
        K.SIGNOFF_REQUESTED: _l("Waiting for your sign-off"),
        K.SENT_BACK: _l("Sent back by the unit head"),
    }[NoticeKind(kind)])


# -- who is told --------------------------------------------------------------------------

def _active(*conditions) -> list[User]:
    return list(db.session.scalars(select(User).where(User.active.is_(True), *conditions).order_by(User.id)))


def _user(user_id: int | None) -> User | None:
    return db.session.get(User, user_id) if user_id else None


def _if_active(user: User | None, role: str) -> list[tuple[User, str]]:
    return [(user, role)] if user is not None and user.active else []


def _coordinators() -> list[tuple[User, str]]:
    return [(admin, "coordinator") for admin in _active(User.role == Role.ADMIN)]


def _heads_or_coordinators(unit_id: int, role: str) -> list[tuple[User, str]]:
    heads = _active(User.role == Role.HEAD, User.unit_id == unit_id)
    return [(head, role) for head in heads] if heads else _coordinators()


def _the_unit(item: Item) -> list[tuple[User, str]]:
    return _if_active(item.owner, "owner") + _heads_or_coordinators(item.lead_unit_id, "head")


def _inspectors(item: Item) -> list[tuple[User, str]]:
    handler = db.session.scalar(select(User).join(UnitInspector, UnitInspector.user_id == User.id).where(
        UnitInspector.unit_id == item.lead_unit_id, User.active.is_(True)))
    found = [handler] if handler is not None else _active(User.role == Role.INSPECTOR)
    return [(user, "inspector") for user in found] if found else _coordinators()


def recipients(actor: User | None, item: Item, kind: NoticeKind, requester_id: int | None = None) -> dict[User, str]:
    """Whom `kind` on `item` concerns, each once with their first role; never the actor."""
    if kind == K.ASSIGNED:
        found = _the_unit(item)
        for unit in item.cooperating_units:
            found += _heads_or_coordinators(unit.id, "cooperating")
    elif kind == K.SUBMITTED:
        found = _inspectors(item)
    elif kind == K.EXTENSION_REQUESTED:
        found = _coordinators() + [(u, "inspector") for u in _active(User.role == Role.INSPECTOR)]
    elif kind in (K.EXTENSION_APPROVED, K.EXTENSION_REFUSED):
        found = _if_active(_user(requester_id), "requester") + _heads_or_coordinators(item.lead_unit_id, "head")
    elif kind == K.SENT_BACK:           # the staff member who submitted reads the head's comment
        found = _if_active(_user(requester_id), "submitter")
    elif kind in (K.SIGNOFF_REQUESTED, K.MILESTONE_MISSED):
        # The head signs off (a unit without an active head: the coordinators); a missed milestone's
        # owner has the milestone's reminder already.
        found = _heads_or_coordinators(item.lead_unit_id, "head")
    else:
        found = _the_unit(item)
    told: dict[User, str] = {}
    for user, role in found:
        if actor is None or user.id != actor.id:
            told.setdefault(user, role)
    return told


def notify(actor: User | None, item: Item, kind: NoticeKind, detail: str | None = None,
           on_date: dt.date | None = None, requester_id: int | None = None) -> list[Notice]:
    """Write the notices of one event (added to the caller's transaction, flushed with it)."""
    now = clock.now()
    notices = [Notice(user_id=user.id, item_id=item.id, kind=kind, role=role, actor_id=actor.id if actor else None,
                      detail=detail, on_date=on_date, created_at=now)
               for user, role in recipients(actor, item, kind, requester_id).items()]
    db.session.add_all(notices)
    return notices


def tell_groups(item: Item, kind: NoticeKind, detail: str | None = None) -> int:
    """A markdown message to the group robot of each unit the event concerns (the lead unit; on
    交办 the cooperating units too) that hears this kind of notice; in the caller's transaction."""
    topic = TOPICS.get(kind)
    if topic not in ROBOT_NOTICES:
        return 0
    units = [item.lead_unit] + (list(item.cooperating_units) if kind == K.ASSIGNED else [])
    stamp = clock.now().strftime("%Y%m%dT%H%M%S%f")
    rows = []
    with mails.phrasebook(current_app.config["BABEL_DEFAULT_LOCALE"]) as phrases:
        url = phrases.item_url(item.id)
        title = _("[Rectify] %(what)s: %(title)s", what=what(kind), title=channels.md(item.title))
        for unit in units:
            text = phrases.robot_text("notice", title=channels.md(title), unit=channels.md(unit.name),
                                      item_title=channels.md(item.title), deadline=item.deadline.isoformat(),
                                      detail=channels.md(detail or ""), url=url)
            rows.append(channels.robot_row(unit, f"notice_{topic}", f"robot:{topic}:{item.id}:{unit.id}:{stamp}",
                                           title, text))
    return len(outbox.queue_rows([row for row in rows if row is not None]))


def _on_event(actor, item, event: str, details: dict) -> None:
    kind = ACTIONS.get(event) or (NoticeKind(event) if event in set(NoticeKind) else None)
    if kind is not None:
        requester_id = details.get("requester_id")
        if kind == K.SENT_BACK and requester_id is None:
            requester_id = _submitter_id(item)
        notify(actor, item, kind, details.get("detail"), details.get("on_date"), requester_id)
        tell_groups(item, kind, details.get("detail"))


def _submitter_id(item: Item) -> int | None:
    """Who submitted `item` for the head's sign-off last (the journal's latest such step)."""
    return db.session.scalar(select(journal.JournalEntry.actor_id).where(
        journal.JournalEntry.item_id == item.id, journal.JournalEntry.action == "submit_for_signoff")
        .order_by(journal.JournalEntry.id.desc()).limit(1))


hooks.events.append(_on_event)


def milestones_missed(occasions: list) -> int:
    """The daily scan's part: a milestone in its first overdue slot tells the lead unit's heads
    (rows inserted in one statement, in the scan's transaction); returns how many."""
    rows, heads = [], {}
    now = clock.now()
    for occasion in occasions:
        item = occasion.item
        if item.lead_unit_id not in heads:
            heads[item.lead_unit_id] = _heads_or_coordinators(item.lead_unit_id, "head")
        for user, role in heads[item.lead_unit_id]:
            rows.append({"user_id": user.id, "item_id": item.id, "kind": K.MILESTONE_MISSED, "role": role,
                         "actor_id": None, "detail": occasion.milestone.title, "on_date": occasion.milestone.due_on,
                         "created_at": now})
    if rows:
        bulk.insert_many(Notice.__table__, rows)
    return len(rows)


def unit_inspector_id(unit) -> int | None:
    """The inspector who handles `unit` (None: every inspector hears of its submissions)."""
    if unit is None:
        return None
    return db.session.scalar(select(UnitInspector.user_id).where(UnitInspector.unit_id == unit.id))


def set_unit_inspector(actor: User, unit, inspector_id: int | None) -> None:
    """Name the inspector who handles `unit` (an active inspector) or none; journaled, flushed."""
    before = unit_inspector_id(unit)
    if inspector_id == before:
        return
    if inspector_id is not None:
        inspector = db.session.get(User, inspector_id)
        if inspector is None or inspector.role != Role.INSPECTOR or not inspector.active:
            raise Invalid({"inspector_id": _("Choose an active inspector.")})
    row = db.session.get(UnitInspector, unit.id)
    if inspector_id is None:
        db.session.delete(row)
    elif row is None:
        db.session.add(UnitInspector(unit_id=unit.id, user_id=inspector_id))
    else:
        row.user_id = inspector_id
    journal.record(actor, "update", unit, {"inspector_id": [before, inspector_id]})
    uow.flush()


# -- preferences ----------------------------------------------------------------------------

def preferences(user: User, channel: str = "email") -> dict[str, bool]:
    """Each topic on (True) or off for `user` on `channel`; a topic never chosen is on."""
    chosen = dict(db.session.execute(select(NoticePreference.topic, NoticePreference.enabled).where(
        NoticePreference.user_id == user.id, NoticePreference.channel == channel)).all())
    return {topic: chosen.get(topic, True) for topic in TOPIC_LABELS}


def set_preferences(user: User, enabled: dict[str, bool], channel: str = "email") -> dict:
    """Keep the user's choices for `channel`; returns the journaled diff."""
    before = preferences(user, channel)
    changes = {}
    for topic, on in enabled.items():
        if topic not in TOPIC_LABELS or before[topic] == bool(on):
            continue
        row = db.session.get(NoticePreference, (user.id, topic, channel))
        if row is None:
            db.session.add(NoticePreference(user_id=user.id, topic=topic, channel=channel, enabled=bool(on)))
        else:
            row.enabled = bool(on)
        changes[f"notice:{channel}:{topic}"] = [before[topic], bool(on)]
    if changes:
        journal.record(user, "update", user, changes)
    uow.flush()
    return changes


# -- the page -----------------------------------------------------------------------------

def notices_of(user: User, limit: int = 50) -> list[Notice]:
    """The user's latest notices, newest first, with their items."""
    return list(db.session.scalars(
        select(Notice).where(Notice.user_id == user.id).order_by(Notice.created_at.desc(), Notice.id.desc())
        .limit(limit).options(selectinload(Notice.item), selectinload(Notice.actor), selectinload(Notice.outbox_message))))


# -- gathering into one message per window -------------------------------------------------------

def window() -> dt.timedelta:
    return dt.timedelta(minutes=max(current_app.config["NOTICE_WINDOW_MINUTES"], 0))


def _line(notice: Notice, today: dt.date) -> dict:
    item = notice.item
    light = light_of(item, today)
    overdue = (today - item.deadline).days if item.status in LIVE_STATUSES and item.deadline < today else 0
    return {"kind": notice.kind.value, "role": notice.role, "item_id": item.id, "title": item.title,
            "unit_name": item.lead_unit.name, "deadline": item.deadline, "light": light.value,
            "days_overdue": overdue, "detail": notice.detail, "on_date": notice.on_date,
            "actor_name": notice.actor.name if notice.actor is not None else None}


def _subject(lines: list[dict]):
    def subject() -> str:
        first = lines[0]
        if len(lines) == 1:
            return _("[Rectify] %(what)s: %(title)s", what=what(first["kind"]), title=first["title"])
        return _("[Rectify] %(n)d notices: %(what)s: %(title)s and more", n=len(lines),
                 what=what(first["kind"]), title=first["title"])
    return subject


def light_label(light: str) -> str:
    return str(LIGHT_LABELS[Light(light)])


def gather(now: dt.datetime | None = None) -> dict[str, int]:
    """Queue one message per person whose first waiting notice is a window old, with all their
    waiting notices; commits. Safe to run twice (a notice is gathered once, the key is unique)."""
    now = now or clock.now()
    users = db.session.scalars(select(Notice.user_id).where(Notice.gathered_at.is_(None))
                               .group_by(Notice.user_id).having(func.min(Notice.created_at) <= now - window())
                               .order_by(Notice.user_id)).all()
    queued, today = 0, clock.local_date(now)
    for user_id in users:
        user = db.session.get(User, user_id)
        notices = db.session.scalars(
            select(Notice).where(Notice.user_id == user_id, Notice.gathered_at.is_(None), Notice.created_at <= now)
            .order_by(Notice.id).options(selectinload(Notice.item).selectinload(Item.lead_unit),
                                         selectinload(Notice.actor))).all()
        wanted = preferences(user) if user.active else {}
        lines = [_line(n, today) for n in notices if wanted.get(TOPICS[n.kind])]
        message = None
        if lines:
            subject, text, html = mails.render(user, "notices", _subject(lines), lines=lines, what=what, why=mails.role_label,
                                               light_label=light_label, today=today)
            message = outbox.queue(user, "notice", f"notice:{user.id}:{notices[0].id}", subject, text, html)
            queued += message is not None
        db.session.execute(update(Notice).where(Notice.id.in_([n.id for n in notices]), Notice.gathered_at.is_(None))
                           .values(gathered_at=now, outbox_message_id=message.id if message is not None else None)
                           .execution_options(synchronize_session=False))
    uow.commit()  # the job's own: the messages and the notices they gathered, together
    if queued:
        log.info("notices: %s messages gathered", queued)
    return {"notice_mails": queued}
