"""Changing many items at once from the ledger (admin): handing drafts out (交办), and setting a
deadline, an owner or listed supervision (挂牌督办) on many items.

`plan()` says what each chosen item would get and why an item cannot take it; the page shows that
for confirmation; `carry_out()` applies a plan with no problem, all or nothing, each item journaled
on its own. Both cost a fixed number of statements whatever the number of items: the items are read
by one statement and written by one (executemany, each row checked against the version read), the
journal entries inserted by one (tracker/bulk.py). The rules are those of the single-item services:
a draft's deadline is set freely (after assignment only an extension moves it), an owner belongs to
the item's lead unit, the lead unit is not also a cooperating unit, handing out needs an owner, and
the workflow table decides who may assign (`workflow.check`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from babel.lists import format_list
from flask_babel import get_locale, gettext as _
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import aliased

from tracker import bulk, clock, journal
from tracker.auth.models import UNIT_ROLES, User
from tracker.errors import Conflict, Refused
from tracker.extensions import db
from tracker.i18n import lazy_gettext as _l
from tracker.items import workflow
from tracker.items.lights import behind_on
from tracker.items.models import OPEN_STATUSES, Item, Status, item_cooperating_units
from tracker.journal import JournalEntry
from tracker.units.models import Unit

OPERATIONS = {"assign": _l("Hand out (assign)"), "deadline": _l("Set the deadline"),
              "owner": _l("Set the owner"), "listed": _l("Put under listed supervision"),
              "unlisted": _l("Lift listed supervision")}
MAX_ITEMS = 1000  # one request's work; a larger selection is refused with this number


@dataclass
class Row:
    """One chosen item: what it is, what it would become, or why it cannot."""
    id: int
    title: str
    status: Status
    lead_unit: str
    owner: str | None
    deadline: dt.date
    version: int
    values: dict[str, Any] = field(default_factory=dict)    # columns to write
    changes: dict[str, list] = field(default_factory=dict)  # the journal's diff
    shown: dict[str, Any] = field(default_factory=dict)     # new lead unit / owner / deadline, as shown
    problem: str | None = None
    current: dict[str, Any] = field(default_factory=dict)   # the columns as read


@dataclass
class Plan:
    operation: str
    rows: list[Row]
    errors: dict[str, str] = field(default_factory=dict)  # about the form's fields

    @property
    def problems(self) -> list[Row]:
        return [row for row in self.rows if row.problem]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.errors and not self.problems

    def count(self, column: str) -> int:
        """How many items this plan changes `column` of."""
        return sum(1 for row in self.rows if column in row.changes)

    @property
    def summary(self) -> str:
        """What carrying the plan out does, in a sentence."""
        n = len(self.rows)
        if self.operation == "assign":
            parts = [_("%(n)d items handed out", n=n)]
        elif self.operation in ("listed", "unlisted"):
            parts = [_("listed supervision changed on %(n)d of %(total)d items",
                       n=self.count("listed_supervision"), total=n)]
        else:
            parts = []
        for column, words in (("lead_unit_id", _("lead unit set on %(n)d")), ("owner_id", _("owner set on %(n)d")),
                              ("deadline", _("deadline set on %(n)d"))):
            if self.count(column):
                parts.append(words % {"n": self.count(column)})
        if not parts:
            return _("Nothing to change on these %(n)d items.", n=n)
        return format_list(parts, locale=get_locale())


def chosen_ids(raw: list[str]) -> list[int]:
    """The ids a form sent, in their order, each once; anything else is dropped."""
    seen: dict[int, None] = {}
    for value in raw:
        if value.isdigit() and 0 < int(value) < 2**31:
            seen.setdefault(int(value), None)
    return list(seen)


def plan(actor: User, operation: str, ids: list[int], lead_unit_id: int | None = None,
         owner_id: int | None = None, deadline: dt.date | None = None) -> Plan:
    """What `operation` with these values would do to each item of `ids` (nothing is changed)."""
    if not actor.role.can_administer():
        raise Refused(_("Only an administrator may change many items at once."))
    if operation not in OPERATIONS:
        raise Refused(_("Unknown action."))
    errors: dict[str, str] = {}
    if len(ids) > MAX_ITEMS:
        errors["ids"] = _("At most %(n)d items at once: narrow the filter.", n=MAX_ITEMS)
        ids = ids[:MAX_ITEMS]
    rows = _read(ids)
    lead = _active_unit(lead_unit_id, errors) if operation == "assign" else None
    owner = _active_owner(owner_id, errors) if operation in ("assign", "owner") else None
    if operation == "owner" and owner is None and "owner_id" not in errors:
        errors["owner_id"] = _("Choose the owner.")
    if operation in ("assign", "deadline"):
        if deadline is None and operation == "deadline":
            errors["deadline"] = _("Enter a date.")
        elif deadline is not None and deadline < clock.today():
            errors["deadline"] = _("This deadline is in the past.")
    else:
        deadline = None
    if errors:
        return Plan(operation, rows, errors)
    coops = _cooperating([row.id for row in rows]) if lead is not None else {}
    for row in rows:
        _plan_row(actor, operation, row, lead, owner, deadline, coops.get(row.id, set()))
    return Plan(operation, rows)


def _read(ids: list[int]) -> list[Row]:
    """The chosen items with their lead unit and owner, by one statement, in the order chosen."""
    if not ids:
        return []
    owner = aliased(User)
    columns = [Item.__table__.c[c] for c in _COLUMNS]
    found = db.session.execute(
        select(Item.id, Item.title, Unit.name, owner.name, Item.version, owner.unit_id, owner.active,
               Item.progress_percent, *columns)
        .join(Unit, Unit.id == Item.lead_unit_id).outerjoin(owner, owner.id == Item.owner_id)
        .where(bulk.one_of([Item.id], [(i,) for i in ids]))).all()
    by_id = {}
    for found_row in found:
        item_id, title, unit, owner_name, version, owner_unit, owner_active, percent, *values = found_row
        current = dict(zip(_COLUMNS, values))
        current["status"] = status = Status(current["status"])
        current.update(owner_unit_id=owner_unit, owner_active=bool(owner_active), progress_percent=percent,
                       listed_supervision=bool(current["listed_supervision"]))
        by_id[item_id] = Row(item_id, title, status, unit, owner_name, current["deadline"], version,
                             current=current)
    return [by_id[i] for i in ids if i in by_id]


def _cooperating(ids: list[int]) -> dict[int, set[int]]:
    coops: dict[int, set[int]] = {}
    if ids:
        for item_id, unit_id in db.session.execute(
                select(item_cooperating_units.c.item_id, item_cooperating_units.c.unit_id)
                .where(bulk.one_of([item_cooperating_units.c.item_id], [(i,) for i in ids]))):
            coops.setdefault(item_id, set()).add(unit_id)
    return coops


def _active_unit(unit_id: int | None, errors: dict) -> Unit | None:
    if unit_id is None:
        return None
    unit = db.session.get(Unit, unit_id)
    if unit is None or not unit.active:
        errors["lead_unit_id"] = _("Choose an existing, active unit.")
    return unit


def _active_owner(owner_id: int | None, errors: dict) -> User | None:
    if owner_id is None:
        return None
    owner = db.session.get(User, owner_id)
    if owner is None or not owner.active or owner.role not in UNIT_ROLES:
        errors["owner_id"] = _("Choose an existing, active user.")
    return owner


class _Facts:
    """Enough of an item for the workflow table's gate (status, and who may see it)."""

    def __init__(self, row: Row):
        self.status = row.status
        self.lead_unit_id = row.current["lead_unit_id"]
        self.cooperating_units = []

    can_view = Item.can_view
    is_lead_member = Item.is_lead_member
    unit_ids = Item.unit_ids


def _plan_row(actor: User, operation: str, row: Row, lead: Unit | None, owner: User | None,
              deadline: dt.date | None, coops: set[int]) -> None:
    now = row.current
    if operation == "assign":
        row.problem = workflow.refusal(_Facts(row), "assign", actor)
        if row.status != Status.DRAFT:
            row.problem = _("No longer a draft (now “%(status)s”).", status=workflow.STATUS_LABELS[row.status])
    elif row.status not in OPEN_STATUSES:
        row.problem = _("A closed or cancelled item cannot be changed.")
    elif operation == "deadline" and row.status != Status.DRAFT:
        row.problem = _("After assignment the deadline changes only through an extension.")
    if row.problem:
        return
    values: dict[str, Any] = {}
    lead_id = now["lead_unit_id"]
    if lead is not None and lead.id != lead_id:
        if lead.id in coops:
            row.problem = _("The lead unit cannot also be a cooperating unit.")
            return
        values["lead_unit_id"] = lead_id = lead.id
        row.shown["lead_unit"] = lead.name
    owner_fits = (now["owner_id"] is not None and now["owner_unit_id"] == lead_id and now["owner_active"])
    if owner is not None and (operation == "owner" or not owner_fits):
        if owner.unit_id != lead_id:
            row.problem = _("The owner must belong to the lead unit.")
            return
        if owner.id != now["owner_id"]:
            values["owner_id"] = owner.id
            row.shown["owner"] = owner.name
        owner_fits = True
    if operation == "assign" and not owner_fits:
        row.problem = (_("Set an owner (责任人) before assigning.") if now["owner_id"] is None
                       else _("The owner must belong to the lead unit."))
        return
    if deadline is not None and deadline != now["deadline"]:
        values["deadline"] = values["original_deadline"] = deadline
        row.shown["deadline"] = deadline
    if operation in ("listed", "unlisted"):
        listed = operation == "listed"
        if listed != now["listed_supervision"]:
            values["listed_supervision"] = listed
    changes = {name: [journal.plain(now[name]), journal.plain(value)] for name, value in values.items()
               if name != "original_deadline"}
    if operation == "assign":
        today = clock.today()
        values.update(status=Status.ASSIGNED, assigned_at=clock.now(), start_on=today, last_activity_on=today)
        changes["status"] = [Status.DRAFT.value, Status.ASSIGNED.value]
    if "deadline" in values or "start_on" in values:
        values["behind_on"] = behind_on(values.get("start_on", now["start_on"]),
                                        values.get("deadline", now["deadline"]), now["progress_percent"])
    row.values, row.changes = values, changes


# Columns a plan may write; every row of one executemany sets the same ones.
_COLUMNS = ("lead_unit_id", "owner_id", "deadline", "original_deadline", "listed_supervision", "status",
            "assigned_at", "start_on", "last_activity_on", "behind_on")
_ACTIONS = {"assign": "assign", "listed": "list_item", "unlisted": "unlist_item"}


def carry_out(actor: User, planned: Plan) -> int:
    """Apply a plan with no problem: every changed item in one statement, each checked against the
    version it was planned from, and one journal entry per item; returns how many items changed.
    An item changed meanwhile is a Conflict and nothing is kept (the caller rolls back)."""
    if not planned.ok:
        raise Refused(_("Nothing was done: some of the chosen items cannot take this change."))
    changing = [row for row in planned.rows if row.values]
    if not changing:
        return 0
    used = [c for c in _COLUMNS if any(c in row.values for row in changing)]
    now = clock.now()
    # Columns a row does not change are set to what was read: the version check makes that safe.
    params = [{"b_id": row.id, "b_version": row.version, "updated_at": now,
               **{c: row.values.get(c, row.current[c]) for c in used}} for row in changing]
    table = Item.__table__
    done = db.session.execute(
        update(table).where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version"))
        .values(version=table.c.version + 1), params)
    if done.rowcount != len(params):
        db.session.rollback()
        raise Conflict(None, _("Someone changed some of these items meanwhile. Nothing was done: check them again."))
    action = _ACTIONS.get(planned.operation, "update")
    bulk.insert_many(JournalEntry.__table__, [
        journal.entry(actor, action, "items", row.id, row.changes, item_id=row.id) for row in changing])
    db.session.flush()
    return len(changing)
