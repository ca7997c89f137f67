"""The rules for cooperating units' parts: every write to a part goes through here.

Each public function checks permission, validates, changes, journals and flushes; the caller
commits (tracker/uow.py). A part carries a version, and a write to it moves the item's version too
(like any part of an item): of two people answering the same part at once, the second is told.
Progress entries are appended and move neither.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import Any

from flask import abort
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import contains_eager, joinedload

from tracker import clock, journal, uow
from tracker.auth.models import User
from tracker.errors import Conflict, Invalid, Refused
from tracker.evidence import services as evidence
from tracker.evidence.models import Evidence
from tracker.extensions import db
from tracker.items import hooks
from tracker.items.models import LIMITS, LIVE_STATUSES, Item
from tracker.items.services import files_given
from tracker.parts.models import (ACTIVE_ITEM_STATUSES, OPEN_PART_STATUSES, WORKING_PART_STATUSES, Part,
                                  PartStatus, PartUpdate)
from tracker.units.models import Unit

log = logging.getLogger(__name__)

# Journal field names of a part's columns (an item's "status" and "deadline" are other things).
JOURNAL_FIELDS = {"status": "part_status", "deadline": "part_deadline", "request": "part_request",
                  "statement": "statement", "return_reason": "return_reason"}


def on_part(service):
    """Decorate a service `f(actor, part, ...)`: a lost race anywhere in it is a Conflict about the
    part's item (the loser sees the item's latest changes)."""
    @functools.wraps(service)
    def run(actor, part, *args, **kw):
        with uow.settled(part.item_id):
            return service(actor, part, *args, **kw)
    return run


# -- reading ------------------------------------------------------------------------------

def parts_of(item_id: int) -> list[Part]:
    """The item's parts (cancelled ones included), by unit name, with their units (one statement)."""
    return db.session.scalars(select(Part).join(Part.unit).options(contains_eager(Part.unit),
                                                                    joinedload(Part.overridden_by))
                              .where(Part.item_id == item_id).order_by(Unit.name)).all()


def part_for(user: User, item: Item, part_id: int) -> Part:
    """A part of `item` (already permission-checked) that `user` may act on or read, else 404: a
    guessed id of another item's part, or of another cooperating unit's, leads nowhere."""
    part = db.session.get(Part, part_id)
    if part is None or part.item_id != item.id or not part.can_view(user, item):
        abort(404)
    return part


def _check_version(part: Part, expected: Any) -> None:
    if expected in (None, ""):
        return
    if str(expected) != str(part.version):
        raise Conflict(part.item_id, _("Someone else answered this part since you opened the page. "
                                       "Nothing of yours was saved: reload the page to see their change."))


def _text(value: Any, field: str, limit: int, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise Invalid({field: _("This field is required.")})
    if len(text) > limit:
        raise Invalid({field: _("At most %(n)d characters.", n=limit)})
    return text


def _record(actor: User | None, action: str, part: Part, changes: dict, note: str | None = None) -> None:
    shown = {JOURNAL_FIELDS.get(name, name): change for name, change in changes.items()
             if name in JOURNAL_FIELDS or name == "unit"}
    journal.record(actor, action, part, {"unit": [None, part.unit.name], **shown}, note=note, item_id=part.item_id)


def _change(part: Part, values: dict) -> dict:
    changes = journal.apply_changes(part, values)
    part.last_activity_on = clock.today()
    return changes


# -- the part's line and deadline -----------------------------------------------------------

def clean_line(item: Item, unit_name: str, request: Any, deadline: Any, field: str = "") -> tuple[str, dt.date]:
    """What a unit is asked to do (default: the item's measures) and by when (default: the item's
    deadline; never later). `field` prefixes the error keys (the hand-out form has a line per unit)."""
    request = (request or "").strip() or item.measures
    if len(request) > LIMITS["measures"]:
        raise Invalid({f"{field}request": _("%(unit)s: at most %(n)d characters.", unit=unit_name,
                                            n=LIMITS["measures"])})
    if deadline in (None, ""):
        deadline = item.deadline
    if isinstance(deadline, str):
        try:
            deadline = dt.date.fromisoformat(deadline)
        except ValueError:
            raise Invalid({f"{field}deadline": _("%(unit)s: enter a date.", unit=unit_name)})
    if not isinstance(deadline, dt.date):
        raise Invalid({f"{field}deadline": _("%(unit)s: enter a date.", unit=unit_name)})
    if deadline > item.deadline:
        raise Invalid({f"{field}deadline": _(
            "%(unit)s: a part's deadline cannot be later than the item's deadline (%(date)s).",
            unit=unit_name, date=format_date(item.deadline, "yyyy-MM-dd"))})
    return request, deadline


def _handout_lines(item: Item, inputs: dict) -> dict[int, tuple[str, dt.date]]:
    """Each cooperating unit's line and deadline from the hand-out form (`part_request_<unit id>`,
    `part_deadline_<unit id>`), checked."""
    return {unit.id: clean_line(item, unit.name, inputs.get(f"part_request_{unit.id}"),
                                inputs.get(f"part_deadline_{unit.id}"), field=f"part_{unit.id}_")
            for unit in item.cooperating_units}


def add_part(actor: User, item: Item, unit: Unit, request: str | None = None,
             deadline: dt.date | None = None) -> Part:
    """Give `unit` its part of a handed-out item (a part cancelled earlier is opened again)."""
    request, deadline = clean_line(item, unit.name, request, deadline)
    existing = db.session.scalar(select(Part).where(Part.item_id == item.id, Part.unit_id == unit.id))
    values = {"status": PartStatus.PENDING, "request": request, "deadline": deadline, "acknowledged_at": None,
              "acknowledged_by_id": None, "done_at": None, "done_by_id": None, "statement": None,
              "return_reason": None, "cancelled_at": None, "override_reason": None, "overridden_by_id": None}
    if existing is not None:
        if existing.status != PartStatus.CANCELLED:
            return existing
        changes = _change(existing, values)
        _record(actor, "reopen_part", existing, changes)
        return existing
    part = Part(item=item, unit=unit, last_activity_on=clock.today(), created_at=clock.now(), **values)
    db.session.add(part)
    db.session.flush()
    _record(actor, "add_part", part, {"status": [None, part.status.value], "deadline": [None, deadline.isoformat()],
                                      "request": [None, request]})
    return part


def cancel_part(actor: User, part: Part, note: str) -> None:
    """The unit no longer cooperates on the item: its part is cancelled; its progress and evidence stay."""
    if part.status == PartStatus.CANCELLED:
        return
    files = db.session.scalar(select(func.count()).select_from(Evidence).where(
        Evidence.part_id == part.id, Evidence.withdrawn.is_(False))) or 0
    changes = _change(part, {"status": PartStatus.CANCELLED, "cancelled_at": clock.now(),
                             "override_reason": None, "overridden_by_id": None})
    if files:
        note = f"{note} " + _("Its %(n)d evidence file(s) stay with the item.", n=files)
    _record(actor, "cancel_part", part, changes, note=note)


# -- the cooperating unit's steps --------------------------------------------------------------

def _refuse_unless(allowed: bool, part: Part, item: Item) -> None:
    if allowed:
        return
    if item.status not in ACTIVE_ITEM_STATUSES:
        raise Refused(_("Parts cannot be changed while the item is submitted, closed or cancelled."))
    raise Refused(_("This is not possible for this part now."))


@on_part
def acknowledge(actor: User, part: Part, expected_version: Any = None) -> Part:
    """签收: the cooperating unit confirms it has received its part."""
    _check_version(part, expected_version)
    _refuse_unless(part.can_acknowledge(actor, part.item), part, part.item)
    changes = _change(part, {"status": PartStatus.IN_PROGRESS, "acknowledged_at": clock.now(),
                             "acknowledged_by_id": actor.id})
    uow.touch(part.item)
    _record(actor, "acknowledge_part", part, changes)
    uow.flush(part.item_id)
    return part


@on_part
def post_update(actor: User, part: Part, body: str, files: list | None = None) -> PartUpdate:
    """The unit's own progress on its part, with evidence files (appended: moves no version)."""
    item = part.item
    if not part.can_post_progress(actor, item):
        if part.status == PartStatus.PENDING and item.status in ACTIVE_ITEM_STATUSES:
            raise Refused(_("Acknowledge the part (签收) before posting progress on it."))
        _refuse_unless(False, part, item)
    body = _text(body, "body", LIMITS["body"])
    staged = evidence.stage(files or []) if files_given(files) else []
    try:
        posted = PartUpdate(part=part, author_id=actor.id, body=body, created_at=clock.now())
        db.session.add(posted)
        done = db.session.execute(update(Part).where(Part.id == part.id, Part.status.in_(WORKING_PART_STATUSES))
                                  .values(last_activity_on=clock.today()).execution_options(synchronize_session=False))
        if done.rowcount != 1:
            raise Conflict(part.item_id)
        db.session.flush()
        journal.record(actor, "part_progress", posted, {"unit": [None, part.unit.name]}, note=body[:200],
                       item_id=part.item_id)
        evidence.add_rows(actor, item, staged, part_id=part.id)
        uow.flush(part.item_id)
    except BaseException:
        db.session.rollback()
        evidence.discard(staged)
        raise
    return posted


@on_part
def report_done(actor: User, part: Part, statement: str, expected_version: Any = None) -> Part:
    """反馈: the part is done, with a short statement of what the unit did."""
    _check_version(part, expected_version)
    _refuse_unless(part.can_report_done(actor, part.item), part, part.item)
    statement = _text(statement, "statement", LIMITS["reason"])
    changes = _change(part, {"status": PartStatus.DONE, "done_at": clock.now(), "done_by_id": actor.id,
                             "statement": statement, "return_reason": None})
    uow.touch(part.item)
    _record(actor, "report_part_done", part, changes, note=statement)
    uow.flush(part.item_id)
    return part


@on_part
def return_part(actor: User, part: Part, reason: str, expected_version: Any = None) -> Part:
    """退回: the lead unit's head asks the cooperating unit for more, with a reason."""
    _check_version(part, expected_version)
    if not part.can_return(actor, part.item):
        _refuse_unless(part.item.status in ACTIVE_ITEM_STATUSES, part, part.item)
        raise Refused(_("Only the lead unit's head may return a part, once it is under way or reported done."))
    reason = _text(reason, "reason", LIMITS["reason"])
    changes = _change(part, {"status": PartStatus.RETURNED, "return_reason": reason, "done_at": None,
                             "done_by_id": None})
    uow.touch(part.item)
    _record(actor, "return_part", part, changes, note=reason)
    uow.flush(part.item_id)
    return part


@on_part
def edit_part(actor: User, part: Part, request: str, deadline: Any, expected_version: Any = None) -> dict:
    """The coordinator changes what the unit is asked to do, or its deadline (never after the item's)."""
    _check_version(part, expected_version)
    if not part.can_edit(actor, part.item):
        raise Refused(_("Only an administrator may change an open part."))
    request, deadline = clean_line(part.item, part.unit.name, request, deadline)
    changes = journal.apply_changes(part, {"request": request, "deadline": deadline})
    if not changes:
        return {}
    uow.touch(part.item)
    _record(actor, "edit_part", part, changes)
    uow.flush(part.item_id)
    return changes


# -- what the item's workflow asks of the parts ------------------------------------------------

def open_parts(item_id: int, *, waived: bool = True) -> list[Part]:
    """Parts not yet reported back (`waived=False`: only those no override covers)."""
    return [p for p in parts_of(item_id) if p.is_open and (waived or not p.override_reason)]


def _step_check(actor: User, item: Item, action: str, inputs: dict) -> None:
    if action == "assign":
        _handout_lines(item, inputs)
    elif action in ("submit_for_closure", "approve_submission"):  # the head signing off may override too
        waiting = open_parts(item.id, waived=False)
        reason = (inputs.get("reason") or "").strip()
        if not waiting or not reason:
            return  # the closure check tells what is missing
        if not Part.can_override(actor, item):
            raise Refused(_("Only the lead unit's head may submit while parts are not done."))
        for part in waiting:
            changes = journal.apply_changes(part, {"override_reason": reason, "overridden_by_id": actor.id})
            _record(actor, "override_part", part, changes, note=reason)


def _step_settle(actor: User, item: Item, action: str, inputs: dict) -> None:
    if action == "assign":
        for unit in item.cooperating_units:
            request, deadline = _handout_lines(item, inputs)[unit.id]
            add_part(actor, item, unit, request, deadline)
    elif action in ("return_item", "withdraw_submission", "send_back", "reopen", "reopen_after_recheck"):
        for part in parts_of(item.id):  # the next submission answers for the open parts again
            if part.override_reason:
                journal.apply_changes(part, {"override_reason": None, "overridden_by_id": None})
    elif action == "cancel":
        for part in parts_of(item.id):
            if part.is_open:
                cancel_part(actor, part, _("The item was cancelled."))


def _units_changed(actor: User, item: Item, added: list[Unit], removed: list[Unit]) -> None:
    """Adding a cooperating unit to a handed-out item gives it a part; removing one cancels its part."""
    if item.status not in LIVE_STATUSES:
        return
    for unit in added:
        add_part(actor, item, unit)
    for unit in removed:
        part = db.session.scalar(select(Part).where(Part.item_id == item.id, Part.unit_id == unit.id))
        if part is not None:
            cancel_part(actor, part, _("%(unit)s no longer cooperates on this item.", unit=unit.name))


def _closure_refusal(item: Item) -> str | None:
    waiting = open_parts(item.id, waived=False)
    if not waiting:
        return None
    from tracker.parts.presentation import STATUS_LABELS
    listed = "、".join(f"{p.unit.name}（{STATUS_LABELS[p.status]}）" for p in waiting)
    return _("Not every cooperating unit has reported its part done: %(parts)s. The lead unit's head may "
             "submit anyway, giving the reason.", parts=listed)


hooks.transition_steps.append(hooks.TransitionStep(check=_step_check, settle=_step_settle))
hooks.cooperating_units_changed.append(_units_changed)
hooks.closure_checks.append(_closure_refusal)


# -- numbers ---------------------------------------------------------------------------------

def counts_by_unit(today: dt.date, unit_ids=None, items=None) -> dict[int, dict[str, int]]:
    """Per cooperating unit, its parts of live (handed-out, not finished) items: `parts` (not
    cancelled), `open`, `overdue` (open past the part's deadline) and `unacknowledged`, in one
    grouped statement. A unit is judged on what it was asked to do, as lead or cooperating unit.
    `items`: a statement selecting the items to count (a reader's scope), else every item."""
    overdue = func.sum(_case(Part.status.in_(OPEN_PART_STATUSES) & (Part.deadline < today)))
    live = (items.with_only_columns(Item.id) if items is not None else select(Item.id)).where(
        Item.status.in_(LIVE_STATUSES))
    if unit_ids is not None:  # the items the units hold parts of (ix_parts_unit_id), not all live ones
        live = live.where(Item.id.in_(select(Part.item_id).where(Part.unit_id.in_(list(unit_ids)))))
    # The live items' ids first, then their parts from the covering ix_parts_item_status_unit_deadline:
    # joined, SQLite may walk every part by unit and look up its item.
    statement = (select(Part.unit_id, func.count(), func.sum(_case(Part.status.in_(OPEN_PART_STATUSES))), overdue,
                        func.sum(_case(Part.status == PartStatus.PENDING)))
                 .where(Part.status != PartStatus.CANCELLED, Part.item_id.in_(live))
                 .group_by(Part.unit_id))
    if unit_ids is not None:
        statement = statement.where(Part.unit_id.in_(list(unit_ids)))
    return {unit_id: {"parts": total, "open": int(open_ or 0), "overdue": int(late or 0),
                      "unacknowledged": int(pending or 0)}
            for unit_id, total, open_, late, pending in db.session.execute(statement)}


def _case(condition):
    from sqlalchemy import case
    return case((condition, 1), else_=0)
