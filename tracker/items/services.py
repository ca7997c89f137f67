"""The rules for changing items: every write to an item goes through here.

Each public function checks permission, validates, applies the change, writes the journal and
flushes; the caller commits (tracker/uow.py). On any error it raises Refused/Invalid before
changing anything; a lost race is a Conflict.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from tracker import clock, journal, uow
from tracker.auth.models import Role, User
from tracker.errors import Conflict, Invalid, Refused
from tracker.evaluations.models import Finding
from tracker.extensions import db
from tracker.items import hooks, workflow
from tracker.items.lights import behind_on, refresh_schedule
from tracker.items.models import (LIMITS, PROGRESS_STATUSES, ClosureResult, Item, ItemKind, Milestone,
                                  ProgressUpdate, Status, item_cooperating_units)
from tracker.units.models import Unit

log = logging.getLogger(__name__)

EDITABLE_FIELDS = ("finding_id", "title", "measures", "target", "kind", "lead_unit_id", "owner_id",
                   "responsible_leader", "deadline", "listed_supervision")

IMPORTED_FIELDS = ("ledger_no", "owner_text", "remarks", "deadline_text")


def item_for(user: User, item_id: int) -> Item:
    """The item when `user` may see it; 404 otherwise, so ids of other units' items leak nothing."""
    item = db.session.execute(_ITEM, {"item_id": item_id}).scalar_one_or_none()
    if item is None:
        abort(404)
    # Read by a plain statement and set as loaded: the relationship's own loader costs several times
    # its query. can_view reads them.
    set_committed_value(item, "cooperating_units", db.session.scalars(_COOPERATING, {"item_id": item_id}).all())
    if not item.can_view(user):
        abort(404)
    return item


# What the item page and the permission checks read, in two statements. Built once: building a
# statement with its loader options costs more than running it.
_ITEM = (select(Item).where(Item.id == bindparam("item_id"))
         .options(joinedload(Item.lead_unit, innerjoin=True), joinedload(Item.owner),
                  joinedload(Item.finding, innerjoin=True).joinedload(Finding.evaluation, innerjoin=True),
                  joinedload(Item.finding, innerjoin=True).joinedload(Finding.indicator)))
_COOPERATING = (select(Unit).join(item_cooperating_units, item_cooperating_units.c.unit_id == Unit.id)
                .where(item_cooperating_units.c.item_id == bindparam("item_id")).order_by(Unit.name))


def has_active_head(unit_id: int) -> bool:
    """Whether the unit has an active head to sign off its staff's submissions (else the
    coordinator signs them off)."""
    return db.session.scalar(select(User.id).where(
        User.unit_id == unit_id, User.role == Role.HEAD, User.active.is_(True)).limit(1)) is not None


def child_of(item: Item, model, child_id: int):
    """A row of `model` (milestone, evidence, request, re-check ...) that belongs to `item`, else 404:
    ids of another item's rows, found by guessing, lead nowhere."""
    child = db.session.get(model, child_id)
    if child is None or child.item_id != item.id:
        abort(404)
    return child


def _touch(item: Item) -> None:
    uow.touch(item)


# -- creating and editing ---------------------------------------------------------

def _text(values: dict, field: str, required: bool = True) -> str:
    text = (values.get(field) or "").strip()
    if required and not text:
        raise Invalid({field: _("This field is required.")})
    if len(text) > LIMITS[field]:
        raise Invalid({field: _("At most %(n)d characters.", n=LIMITS[field])})
    return text


def _clean_item_values(actor: User, values: dict, item: Item | None) -> dict[str, Any]:
    """Validate form values into model values; raise Invalid with per-field messages."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for field, required in (("title", True), ("measures", True), ("target", True),
                            ("responsible_leader", False)):
        try:
            clean[field] = _text(values, field, required)
        except Invalid as exc:
            errors.update(exc.errors)

    finding = db.session.get(Finding, values.get("finding_id") or 0)
    if finding is None:
        errors["finding_id"] = _("Choose an existing finding.")
    clean["finding_id"] = values.get("finding_id")

    lead = db.session.get(Unit, values.get("lead_unit_id") or 0)
    if lead is None or not lead.active:
        errors["lead_unit_id"] = _("Choose an existing, active unit.")
    clean["lead_unit_id"] = values.get("lead_unit_id")

    coop_ids = set(values.get("cooperating_unit_ids") or [])
    coops = db.session.scalars(select(Unit).where(Unit.id.in_(coop_ids))).all() if coop_ids else []
    if len(coops) != len(coop_ids):
        errors["cooperating_unit_ids"] = _("Choose existing units.")
    elif lead is not None and lead.id in coop_ids:
        errors["cooperating_unit_ids"] = _("The lead unit cannot also be a cooperating unit.")
    clean["cooperating_units"] = sorted(coops, key=lambda u: u.id)

    owner_id = values.get("owner_id") or None
    clean["owner_id"] = owner_id
    if owner_id is not None:
        owner = db.session.get(User, owner_id)
        if owner is None or not owner.active:
            errors["owner_id"] = _("Choose an existing, active user.")
        elif lead is not None and owner.unit_id != lead.id:
            errors["owner_id"] = _("The owner must belong to the lead unit.")

    try:
        clean["kind"] = ItemKind(values.get("kind"))
    except ValueError:
        errors["kind"] = _("Choose a type.")

    deadline = values.get("deadline")
    if not isinstance(deadline, dt.date):
        errors["deadline"] = _("Enter a date.")
    else:
        changed = item is None or deadline != item.deadline
        if item is not None and changed and item.status != Status.DRAFT:
            errors["deadline"] = _("After assignment the deadline changes only through an extension.")
        elif changed and deadline < clock.today() and not values.get("confirm_past_deadline"):
            errors["deadline"] = _("This deadline is in the past. Tick the confirmation to keep it.")
    clean["deadline"] = deadline
    clean["listed_supervision"] = bool(values.get("listed_supervision"))
    for field in IMPORTED_FIELDS:  # only an imported sheet sets these; the form leaves them as they are
        if field in values:
            clean[field] = (values.get(field) or "").strip()[:LIMITS[field]]
    if errors:
        raise Invalid(errors)
    return clean


def create_item(actor: User, values: dict, note: str | None = None) -> Item:
    """Create a draft item (admin only): from the form, and from each row of an imported sheet."""
    if not actor.role.can_administer():
        raise Refused(_("Only an administrator may create items."))
    clean = _clean_item_values(actor, values, None)
    today = clock.today()
    item = Item(status=Status.DRAFT, original_deadline=clean["deadline"], last_activity_on=today,
                progress_percent=0, created_at=clock.now(), updated_at=clock.now())
    coops = clean.pop("cooperating_units")
    for field, value in clean.items():
        setattr(item, field, value)
    item.cooperating_units = coops
    refresh_schedule(item)
    db.session.add(item)
    db.session.flush()
    changes = {f: [None, journal.plain(getattr(item, f))] for f in EDITABLE_FIELDS}
    changes["cooperating_units"] = [None, [u.name for u in coops]]
    changes.update({f: [None, clean[f]] for f in IMPORTED_FIELDS if clean.get(f)})
    journal.record(actor, "create", item, changes, note=note, item_id=item.id)
    uow.flush()
    log.info("item %s created by %s", item.id, actor.username)
    return item


@uow.guarded
def update_item(actor: User, item: Item, values: dict, expected_version: int | None = None) -> dict:
    """Edit an open item's fields (admin only); returns the journaled diff."""
    if not item.can_edit(actor):
        raise Refused(_("Only an administrator may edit an open item."))
    if expected_version is not None and expected_version != item.version:
        raise Conflict(item.id, _("Someone else changed this item since you opened the form. "
                                  "Reload the page to see their change, then try again."))
    clean = _clean_item_values(actor, values, item)
    coops = clean.pop("cooperating_units")
    old_coops = [u.name for u in item.cooperating_units]
    changes = journal.apply_changes(item, clean)
    before = list(item.cooperating_units)
    if [u.id for u in sorted(before, key=lambda u: u.id)] != [u.id for u in coops]:
        item.cooperating_units = coops
        changes["cooperating_units"] = [sorted(old_coops), sorted(u.name for u in coops)]
    if "deadline" in changes and item.status == Status.DRAFT:
        item.original_deadline = item.deadline
    if not changes:
        return {}
    refresh_schedule(item)
    _touch(item)
    journal.record(actor, "update", item, changes, item_id=item.id)
    if "cooperating_units" in changes:
        added = [u for u in coops if u not in before]
        removed = [u for u in before if u not in coops]
        for settle in hooks.cooperating_units_changed:
            settle(actor, item, added, removed)
    if "listed_supervision" in changes and item.status != Status.DRAFT:
        hooks.announce(actor, item, "listed" if item.listed_supervision else "unlisted")
    if changes.get("listed_supervision") == [False, True]:
        for listed in hooks.listed_for_supervision:
            listed(item)
    uow.flush(item.id)
    return changes


# -- progress ---------------------------------------------------------------------

def record_imported_progress(actor: User, item: Item, body: str) -> ProgressUpdate:
    """The 进展情况 an imported sheet gives, as the item's first progress entry dated at import."""
    if not actor.role.can_administer():
        raise Refused(_("Only an administrator may import."))
    posted = ProgressUpdate(item=item, author_id=actor.id, body=body, percent=item.progress_percent,
                            submission_key=f"import-{item.id}", created_at=clock.now())
    db.session.add(posted)
    db.session.flush()
    journal.record(actor, "progress", posted, {}, note=body[:200], item_id=item.id)
    return posted


@uow.guarded
def post_progress(actor: User, item: Item, body: str, percent: Any, submission_key: str,
                  files: list | None = None) -> tuple[ProgressUpdate, bool]:
    """Record a progress update with its evidence files; returns (update, created).

    A repeated submission_key is not posted twice (a double-submitted form). Progress is appended:
    it neither needs nor moves the item's version, so two people posting at once are both kept."""
    if not item.can_post_progress(actor):
        if item.status in (Status.DRAFT, Status.ASSIGNED):
            raise Refused(_("The lead unit must acknowledge receipt before progress can be posted."))
        raise Refused(_("You may not post progress on this item now."))
    existing = db.session.scalar(select(ProgressUpdate).where(
        ProgressUpdate.item_id == item.id, ProgressUpdate.submission_key == submission_key))
    if existing is not None:
        return existing, False
    body, percent = _clean_progress(body, percent, submission_key)
    repeated = _same_update_just_posted(actor, item, body, percent)
    if repeated is not None and not files_given(files):
        return repeated, False
    (evidence,) = hooks.progress_files
    staged = evidence.stage(files or [])
    try:
        posted = ProgressUpdate(item=item, author_id=actor.id, body=body, percent=percent,
                                submission_key=submission_key, created_at=clock.now())
        db.session.add(posted)
        changes = _record_progress(item, percent)
        db.session.flush()
        journal.record(actor, "progress", posted, changes, note=body[:200], item_id=item.id)
        evidence.add_rows(actor, item, staged, posted)
        uow.flush(item.id)
    except BaseException:
        db.session.rollback()
        evidence.discard(staged)
        raise
    return posted, True


def _record_progress(item: Item, percent: int) -> dict:
    """Set the item's progress by a statement without the version: the newest post wins, nobody is
    refused for posting at the same time. An item submitted or closed meanwhile takes no progress,
    nor one whose schedule moved (its `behind_on` is computed here from the start and deadline read)."""
    values = {"progress_percent": percent, "last_activity_on": clock.today(), "updated_at": clock.now(),
              "behind_on": behind_on(item.start_on, item.deadline, percent)}
    changes = {f: [journal.plain(getattr(item, f)), journal.plain(values[f])]
               for f in ("progress_percent", "last_activity_on")
               if journal.plain(getattr(item, f)) != journal.plain(values[f])}
    done = db.session.execute(
        update(Item).where(Item.id == item.id, Item.status.in_(PROGRESS_STATUSES), Item.deadline == item.deadline,
                           Item.start_on.is_not_distinct_from(item.start_on))
        .values(**values).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict(item.id)
    for field, value in values.items():
        set_committed_value(item, field, value)
    return changes


# A form brought back with the browser's Back button carries a new submission key (the page was
# loaded again); the same text and percentage from the same person this soon is that form again.
REPEAT_WINDOW = dt.timedelta(minutes=30)


def _same_update_just_posted(actor: User, item: Item, body: str, percent: int) -> ProgressUpdate | None:
    last = db.session.scalar(select(ProgressUpdate).where(ProgressUpdate.item_id == item.id)
                             .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc()).limit(1))
    if last is None or (last.author_id, last.body, last.percent) != (actor.id, body, percent):
        return None
    created = last.created_at if last.created_at.tzinfo else last.created_at.replace(tzinfo=dt.timezone.utc)
    return last if clock.now() - created < REPEAT_WINDOW else None


def files_given(files: list | None) -> bool:
    """Whether a form's file input holds a file (an empty input sends a part without a name)."""
    return any(f is not None and getattr(f, "filename", None) for f in files or [])


def _clean_progress(body: str, percent: Any, submission_key: str) -> tuple[str, int]:
    errors = {}
    body = (body or "").strip()
    if not body:
        errors["body"] = _("This field is required.")
    elif len(body) > LIMITS["body"]:
        errors["body"] = _("At most %(n)d characters.", n=LIMITS["body"])
    try:
        percent = int(percent)
        if not 0 <= percent <= 100:
            raise ValueError
    except (TypeError, ValueError):
        errors["percent"] = _("Enter a whole number from 0 to 100.")
    if not submission_key or len(submission_key) > 64:
        errors["body"] = _("The form has expired. Reload the page and try again.")
    if errors:
        raise Invalid(errors)
    return body, percent


# -- workflow transitions ---------------------------------------------------------

@uow.guarded
def perform(actor: User, item: Item, action: str, reason: str = "", result: str = "",
            within: str = "", opinion: str = "", inputs: dict | None = None) -> Item:
    """Take a workflow action on an item, as allowed by workflow.TRANSITIONS (`within`: the
    operation taking a step that is not an action of its own, see Transition.part_of; `inputs`:
    what else the form sent, for the packages' hooks.transition_steps)."""
    transition = workflow.check(item, action, actor, within)
    reason = (reason or "").strip()
    if "reason" in transition.needs and not reason:
        raise Invalid({"reason": _("Give a reason.")})
    if len(reason) > LIMITS["reason"]:
        raise Invalid({"reason": _("At most %(n)d characters.", n=LIMITS["reason"])})
    opinion = (opinion or "").strip() if "opinion" in transition.needs else ""
    if len(opinion) > LIMITS["reason"]:
        raise Invalid({"opinion": _("At most %(n)d characters.", n=LIMITS["reason"])})
    inputs = {**(inputs or {}), "reason": reason}
    for step in hooks.transition_steps:
        step.check(actor, item, action, inputs)
    values: dict[str, Any] = {"status": transition.target}
    values.update(_ACTION_EFFECTS[action](actor, item, reason, result))
    if opinion:
        values["acceptance_opinion"] = opinion
    changes = journal.apply_changes(item, values)
    refresh_schedule(item)
    _touch(item)
    journal.record(actor, action, item, changes, note=reason or opinion or None, item_id=item.id)
    for settle in hooks.after_transition:
        settle(actor, item, action)
    for step in hooks.transition_steps:
        step.settle(actor, item, action, inputs)
    hooks.announce(actor, item, action, detail=reason or None)
    uow.flush(item.id)
    log.info("item %s: %s by %s", item.id, action, actor.username)
    return item


def _assign(actor, item, reason, result):
    if item.owner_id is None:
        raise Invalid({"owner_id": _("Set an owner (责任人) before assigning.")})
    today = clock.today()
    return {"assigned_at": clock.now(), "start_on": today, "last_activity_on": today}


def _acknowledge(actor, item, reason, result):
    return {"acknowledged_at": clock.now(), "acknowledged_by_id": actor.id,
            "last_activity_on": clock.today()}


def _submit(actor, item, reason, result):
    reason = hooks.closure_refusal(item)
    if reason:
        raise Refused(reason)
    return {"submitted_at": clock.now(), "return_reason": None, "signoff_comment": None}


def _submit_for_signoff(actor, item, reason, result):
    """Staff hand the submission to their head: what closure needs must hold already (the head
    would only pass on what the inspectors cannot take)."""
    missing = hooks.closure_refusal(item)
    if missing:
        raise Refused(missing)
    return {"signoff_comment": None, "last_activity_on": clock.today()}


def _send_back(actor, item, reason, result):
    """The head sends the submission back to the staff, with the comment they will read."""
    return {"signoff_comment": reason, "last_activity_on": clock.today()}


def _resume(actor, item, reason, result):
    return {"last_activity_on": clock.today()}


def _withdraw_submission(actor, item, reason, result):
    return {"submitted_at": None, "last_activity_on": clock.today()}


def _return(actor, item, reason, result):
    return {"return_reason": reason}


def _close(actor, item, reason, result):
    # What submitting required must still hold: files can change while the item waits.
    missing = hooks.closure_refusal(item)
    if missing:
        raise Refused(_("This item cannot be closed now: %(reason)s", reason=missing))
    try:
        closure = ClosureResult(result)
    except ValueError:
        raise Invalid({"result": _("Choose the result: rectified or ongoing.")})
    if closure == ClosureResult.ONGOING and not any(
            not m.done and m.due_on > clock.today() for m in item.milestones):
        raise Invalid({"result": _("“Ongoing rectification” needs at least one future milestone, "
                                   "which keeps being tracked after closure.")})
    values = {"closed_at": clock.now(), "closed_by_id": actor.id, "closure_result": closure}
    if closure == ClosureResult.RECTIFIED:
        values["progress_percent"] = 100
    return values


def _reopen(actor, item, reason, result):
    return {"closed_at": None, "closed_by_id": None, "closure_result": None,
            "last_activity_on": clock.today()}


def _cancel(actor, item, reason, result):
    return {"cancelled_at": clock.now(), "cancel_reason": reason}


_ACTION_EFFECTS = {
    "reopen_after_recheck": _reopen,
    "assign": _assign, "acknowledge": _acknowledge, "submit_for_closure": _submit,
    "submit_for_signoff": _submit_for_signoff, "approve_submission": _submit, "send_back": _send_back,
    "resume": _resume, "withdraw_submission": _withdraw_submission, "return_item": _return, "close_item": _close, "reopen": _reopen,
    "cancel": _cancel,
}
assert set(_ACTION_EFFECTS) == set(workflow.BY_ACTION), "every transition needs an effect"


# -- milestones -------------------------------------------------------------------

@uow.guarded
def add_milestone(actor: User, item: Item, title: str, due_on: Any) -> Milestone:
    """Add a stage target (阶段目标) to an open item (admin only)."""
    if not item.can_edit(actor):
        raise Refused(_("Only an administrator may plan milestones of an open item."))
    title = (title or "").strip()
    errors = {}
    if not title:
        errors["title"] = _("This field is required.")
    elif len(title) > LIMITS["milestone_title"]:
        errors["title"] = _("At most %(n)d characters.", n=LIMITS["milestone_title"])
    if not isinstance(due_on, dt.date):
        errors["due_on"] = _("Enter a date.")
    if errors:
        raise Invalid(errors)
    milestone = Milestone(item=item, title=title, due_on=due_on)
    db.session.add(milestone)
    _touch(item)
    db.session.flush()
    journal.record(actor, "add_milestone", milestone, {"title": [None, title],
                                                       "due_on": [None, due_on.isoformat()]}, item_id=item.id)
    uow.flush(item.id)
    return milestone


@uow.guarded
def complete_milestone(actor: User, item: Item, milestone_id: int) -> Milestone:
    """Mark a milestone reached (lead unit or admin)."""
    milestone = child_of(item, Milestone, milestone_id)
    if not item.is_open:
        raise Refused(_("A closed or cancelled item cannot be changed."))
    if not item.can_complete_milestones(actor):
        raise Refused(_("Only the lead unit may mark a milestone as reached."))
    if milestone.done:
        return milestone
    changes = journal.apply_changes(milestone, {"done": True, "done_at": clock.now()})
    item.last_activity_on = clock.today()
    _touch(item)
    journal.record(actor, "complete_milestone", milestone, {"done": changes["done"]},
                   note=milestone.title, item_id=item.id)
    uow.flush(item.id)
    return milestone
