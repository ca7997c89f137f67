"""The weekly digest: one mail per person with what their role needs to see; empty ones are not sent.

- owners (and heads, for their unit's lead items): open items by light, due in the next 14 days,
  returned items;
- inspectors: the review queue (submitted for closure) with its age;
- leaders: completion rate by lead unit, the overdue list, closures of the past week.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from flask_babel import gettext as _
from sqlalchemy import select

from tracker import bulk, clock, uow
from tracker.auth.models import Role, User
from tracker.extensions import db
from tracker.items.lights import Light, light_of, overdue_clause
from tracker.items.models import OPEN_STATUSES, Item, Status
from tracker.notifications import mails, outbox
from tracker.units.models import Unit

log = logging.getLogger(__name__)

DUE_WINDOW_DAYS = 14
LEADER_LIST_MAX = 30
HANDED_OVER = tuple(OPEN_STATUSES - {Status.DRAFT})
BATCH = 500  # users whose digests are rendered and queued together


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
    """What one person's digest holds; `is_empty` digests are not sent. The items are plain rows
    (the Item columns the mail shows, and `unit_name` for the lead unit)."""
    by_light: dict[Light, list] = field(default_factory=dict)
    due_soon: list = field(default_factory=list)
    returned: list = field(default_factory=list)
    review_queue: list[tuple[object, int]] = field(default_factory=list)   # (item, days waiting)
    completion: list[UnitCompletion] = field(default_factory=list)
    overdue: list = field(default_factory=list)
    closed_this_week: list = field(default_factory=list)
    units_total: int = 0      # the leader's lists are cut to LEADER_LIST_MAX: the full counts
    overdue_total: int = 0

    @property
    def is_empty(self) -> bool:
        return not (any(self.by_light.values()) or self.due_soon or self.returned or self.review_queue
                    or self.overdue or self.closed_this_week or any(c.total for c in self.completion))


class _Ledger:
    """What this run's digests are made of, read once (a few queries, plain rows with the lead
    unit's name) and shared by everyone's digest: 5,000 digests must not mean 5,000 × 3 queries."""

    def __init__(self, today: dt.date):
        self.today = today

    @staticmethod
    def _rows(*conditions) -> list:
        return db.session.execute(
            select(Item.id, Item.title, Item.deadline, Item.status, Item.owner_id, Item.lead_unit_id,
                   Item.progress_percent, Item.behind_on, Item.last_activity_on, Item.return_reason,
                   Item.submitted_at, Item.closed_at, Unit.name.label("unit_name"))
            .join(Unit, Unit.id == Item.lead_unit_id).where(*conditions).order_by(Item.deadline, Item.id)).all()

    @cached_property
    def handed_over(self) -> list:
        return self._rows(Item.status.in_(HANDED_OVER))

    @cached_property
    def by_owner(self) -> dict[int, list]:
        return _group(self.handed_over, "owner_id")

    @cached_property
    def by_unit(self) -> dict[int, list]:
        return _group(self.handed_over, "lead_unit_id")

    def mine(self, user) -> list:
        """Handed-over items `user` owns, and their unit leads if they head it; by deadline."""
        if user.role != Role.HEAD:
            return self.by_owner.get(user.id, [])
        both = {row.id: row for row in self.by_owner.get(user.id, []) + self.by_unit.get(user.unit_id, [])}
        return sorted(both.values(), key=lambda row: (row.deadline, row.id))

    @cached_property
    def review_queue(self) -> list[tuple[object, int]]:
        queue = [row for row in self.handed_over if row.status == Status.SUBMITTED]
        waiting = [(i, (self.today - (clock.local_date(i.submitted_at) or self.today)).days) for i in queue]
        return sorted(waiting, key=lambda pair: -pair[1])

    @cached_property
    def completion(self) -> list[UnitCompletion]:
        """Closed among the items handed out and not cancelled, per lead unit: the numbers of
        tracker/reports/stats.py (the dashboard's and the statistics page's)."""
        from tracker.reports import stats  # the reports package reads this one's models
        per_unit: dict[str, UnitCompletion] = {}
        for r in stats.unit_statistics(as_of=self.today, rollup=False, parts=False):
            if r.assigned:   # units that share a name share a row, as they always did
                row = per_unit.setdefault(r.name, UnitCompletion(r.name, 0, 0))
                row.total, row.closed = row.total + r.assigned, row.closed + r.closed
        return sorted(per_unit.values(), key=lambda c: (c.percent, c.unit))

    @cached_property
    def overdue(self) -> list:
        return self._rows(overdue_clause(self.today))

    @cached_property
    def closed_this_week(self) -> list:
        week_ago = self.today - dt.timedelta(days=7)
        closed = self._rows(Item.status == Status.CLOSED, Item.closed_at >= clock.now() - dt.timedelta(days=8))
        return [i for i in closed if clock.local_date(i.closed_at) > week_ago]


def _group(rows: list, column: str) -> dict[int, list]:
    grouped: dict[int, list] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, column)].append(row)
    return grouped


def _owner_part(user, digest: Digest, ledger: _Ledger) -> None:
    items, today = ledger.mine(user), ledger.today
    for light in (Light.RED, Light.YELLOW, Light.GREEN):
        digest.by_light[light] = [i for i in items if light_of(i, today) == light]
    horizon = today + dt.timedelta(days=DUE_WINDOW_DAYS)
    digest.due_soon = [i for i in items if today <= i.deadline <= horizon]
    digest.returned = [i for i in items if i.status == Status.RETURNED]


def digest_for(user, today: dt.date, ledger: _Ledger | None = None) -> Digest:
    """The content of `user`'s digest for the week of `today` (`ledger`: shared by one run)."""
    ledger = ledger or _Ledger(today)
    digest = Digest()
    if user.role.acts_for_unit():
        _owner_part(user, digest, ledger)
    if user.role == Role.INSPECTOR:
        digest.review_queue = ledger.review_queue
    if user.role == Role.LEADER:
        # A province has thousands of units and overdue items: the mail names those furthest behind
        # and links to the dashboard and the overdue report for the rest.
        digest.completion, digest.units_total = ledger.completion[:LEADER_LIST_MAX], len(ledger.completion)
        digest.overdue, digest.overdue_total = ledger.overdue[:LEADER_LIST_MAX], len(ledger.overdue)
        digest.closed_this_week = ledger.closed_this_week
    return digest


def week_key(today: dt.date) -> str:
    year, week, _day = today.isocalendar()
    return f"{year}-W{week:02d}"


def send_digests(today: dt.date | None = None) -> dict[str, int]:
    """Queue this week's digest for everyone who wants one and has something in it. Safe to run twice."""
    today = today or clock.today()
    week = week_key(today)
    ledger = _Ledger(today)
    counts = {"queued": 0, "empty": 0}

    def subject() -> str:
        return _("[Rectify] Weekly digest, week of %(date)s", date=today.isoformat())
    # Rendered mails are held for one batch of people at a time, not for everyone at once.
    for batch in bulk.in_chunks(mails.people(User.digest_opt_out.is_(False)), BATCH):
        made = [(user, digest_for(user, today, ledger)) for user in batch]
        full = [(user, digest) for user, digest in made if not digest.is_empty]
        counts["empty"] += len(made) - len(full)
        rendered = mails.render_each("digest", [
            (user, subject, {"digest": digest, "today": today, "lights": (Light.RED, Light.YELLOW, Light.GREEN)})
            for user, digest in full])
        counts["queued"] += len(outbox.queue_many([
            outbox.Mail(user, "digest", f"digest:{user.id}:{week}", *parts)
            for (user, _digest), parts in zip(full, rendered, strict=True)]))
    # The job's one commit, after every batch is queued: the week's digest is queued whole or not at
    # all, and a second run finds the dedup keys taken.
    uow.commit()
    log.info("digest for week %s: %s queued, %s empty", week, counts["queued"], counts["empty"])
    return counts
