"""The weekly digest: one mail per person with what their role needs to see; empty ones are not sent.

- owners (and heads, for their unit's lead items): open items by light, due in the next 14 days,
  returned items;
- inspectors: the review queue (submitted for closure) with its age;
- leaders: completion rate by lead unit, the overdue list, closures of the past week.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from tracker import clock
from tracker.auth.models import Role, User
from tracker.extensions import db
from tracker.items.lights import Light, light_of, overdue_clause
from tracker.items.models import OPEN_STATUSES, Item, Status
from tracker.notifications import mails, outbox

log = logging.getLogger(__name__)

DUE_WINDOW_DAYS = 14
HANDED_OVER = tuple(OPEN_STATUSES - {Status.DRAFT})


@dataclass
class UnitCompletion:
    unit: str
    closed: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.closed / self.total) if self.total else 0


@dataclass
class Digest:
    """What one person's digest holds; `is_empty` digests are not sent."""
    by_light: dict[Light, list[Item]] = field(default_factory=dict)
    due_soon: list[Item] = field(default_factory=list)
    returned: list[Item] = field(default_factory=list)
    review_queue: list[tuple[Item, int]] = field(default_factory=list)   # (item, days waiting)
    completion: list[UnitCompletion] = field(default_factory=list)
    overdue: list[Item] = field(default_factory=list)
    closed_this_week: list[Item] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (any(self.by_light.values()) or self.due_soon or self.returned or self.review_queue
                    or self.overdue or self.closed_this_week or any(c.total for c in self.completion))


def _items(*conditions):
    return db.session.scalars(select(Item).where(*conditions).order_by(Item.deadline, Item.id).options(
        selectinload(Item.lead_unit), selectinload(Item.owner))).all()


def _owner_part(user: User, digest: Digest, today: dt.date) -> None:
    mine = [Item.owner_id == user.id]
    if user.role == Role.HEAD:
        mine.append(Item.lead_unit_id == user.unit_id)
    items = _items(or_(*mine), Item.status.in_(HANDED_OVER))
    for light in (Light.RED, Light.YELLOW, Light.GREEN):
        digest.by_light[light] = [i for i in items if light_of(i, today) == light]
    horizon = today + dt.timedelta(days=DUE_WINDOW_DAYS)
    digest.due_soon = [i for i in items if today <= i.deadline <= horizon]
    digest.returned = [i for i in items if i.status == Status.RETURNED]


def _inspector_part(digest: Digest, today: dt.date) -> None:
    queue = _items(Item.status == Status.SUBMITTED)
    waiting = [(i, (today - (clock.local_date(i.submitted_at) or today)).days) for i in queue]
    digest.review_queue = sorted(waiting, key=lambda pair: -pair[1])


def _leader_part(digest: Digest, today: dt.date) -> None:
    counted = _items(Item.status != Status.DRAFT, Item.status != Status.CANCELLED)
    per_unit: dict[str, UnitCompletion] = {}
    for item in counted:
        row = per_unit.setdefault(item.lead_unit.name, UnitCompletion(item.lead_unit.name, 0, 0))
        row.total += 1
        row.closed += item.status == Status.CLOSED
    digest.completion = sorted(per_unit.values(), key=lambda c: (c.percent, c.unit))
    digest.overdue = _items(overdue_clause(today))
    week_ago = today - dt.timedelta(days=7)
    closed = _items(Item.status == Status.CLOSED, Item.closed_at >= clock.now() - dt.timedelta(days=8))
    digest.closed_this_week = [i for i in closed if clock.local_date(i.closed_at) > week_ago]


def digest_for(user: User, today: dt.date) -> Digest:
    """The content of `user`'s digest for the week of `today`."""
    digest = Digest()
    if user.role in (Role.HEAD, Role.STAFF):
        _owner_part(user, digest, today)
    if user.role == Role.INSPECTOR:
        _inspector_part(digest, today)
    if user.role == Role.LEADER:
        _leader_part(digest, today)
    return digest


def week_key(today: dt.date) -> str:
    year, week, _day = today.isocalendar()
    return f"{year}-W{week:02d}"


def send_digests(today: dt.date | None = None) -> dict[str, int]:
    """Queue this week's digest for everyone who wants one and has something in it. Safe to run twice."""
    today = today or clock.today()
    week = week_key(today)
    users = db.session.scalars(select(User).where(User.active.is_(True), User.digest_opt_out.is_(False))
                               .order_by(User.id)).all()
    counts = {"queued": 0, "empty": 0}
    for user in users:
        digest = digest_for(user, today)
        if digest.is_empty:
            counts["empty"] += 1
            continue
        subject_line, text, html = mails.render(
            user, "digest", lambda: _("[Rectify] Weekly digest, week of %(date)s", date=today.isoformat()),
            digest=digest, today=today, lights=(Light.RED, Light.YELLOW, Light.GREEN))
        if outbox.queue(user, "digest", f"digest:{user.id}:{week}", subject_line, text, html) is not None:
            counts["queued"] += 1
    db.session.commit()
    log.info("digest for week %s: %s queued, %s empty", week, counts["queued"], counts["empty"])
    return counts
