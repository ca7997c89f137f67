"""Inspection rules: extensions, the required-evidence checklist, re-checks, listed supervision,
re-rating of indicators. Each function checks, validates, journals and flushes; the caller commits
(tracker/uow.py). Each touches the item, so of two concurrent writes to one item the second is a Conflict."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from tracker import clock, journal, uow
from tracker.auth.models import User
from tracker.errors import Invalid, Refused
from tracker.evaluations.models import Indicator, Rating
from tracker.evidence.models import Evidence, EvidenceRequirement
from tracker.extensions import db
from tracker.inspection.models import ExtensionRequest, ExtensionStatus, Recheck, RecheckOutcome
from tracker.items import hooks
from tracker.items import services as item_services
from tracker.items.lights import refresh_schedule
from tracker.items.models import LIMITS, Item, Status

log = logging.getLogger(__name__)


def _reason(text: str | None, field: str = "reason", required: bool = True) -> str:
    text = (text or "").strip()
    if required and not text:
        raise Invalid({field: _("Give a reason.")})
    if len(text) > LIMITS["reason"]:
        raise Invalid({field: _("At most %(n)d characters.", n=LIMITS["reason"])})
    return text


def _decider(actor: User) -> None:
    if not actor.role.can_decide():
        raise Refused(_("Only inspectors and administrators may do this."))


# -- deadline extensions (延期申请) ------------------------------------------------

def pending_extension(item: Item) -> ExtensionRequest | None:
    return db.session.scalar(select(ExtensionRequest).where(
        ExtensionRequest.item_id == item.id, ExtensionRequest.status == ExtensionStatus.PENDING))


@uow.guarded
def request_extension(actor: User, item: Item, new_deadline: Any, reason: str) -> ExtensionRequest:
    """The lead unit asks for a later deadline; at most one request waits per item."""
    if not item.is_open:
        raise Refused(_("A closed or cancelled item cannot be extended."))
    if not item.can_request_extension(actor):
        raise Refused(_("Only the lead unit may request an extension."))
    if pending_extension(item) is not None:
        raise Refused(_("An extension request for this item is already waiting for a decision."))
    reason = _reason(reason)
    if not isinstance(new_deadline, dt.date):
        raise Invalid({"new_deadline": _("Enter a date.")})
    if new_deadline <= item.deadline:
        raise Invalid({"new_deadline": _("The new deadline must be later than the current one (%(date)s).",
                                         date=item.deadline.isoformat())})
    request = ExtensionRequest(item=item, requested_by_id=actor.id, requested_at=clock.now(),
                               current_deadline=item.deadline, requested_deadline=new_deadline, reason=reason)
    db.session.add(request)
    db.session.flush()
    # A request, not a change: the deadline stays until the request is granted.
    journal.record(actor, "request_extension", request, {"requested_deadline": [None, new_deadline.isoformat()]},
                   note=reason,
                   item_id=item.id)
    hooks.announce(actor, item, "extension_requested", detail=reason, on_date=new_deadline)
    uow.touch(item)
    uow.flush(item.id)  # a second request sent at once fills the one-pending index: a Conflict
    return request


@uow.guarded
def decide_extension(actor: User, item: Item, request_id: int, approve: bool, comment: str) -> ExtensionRequest:
    """Approve (the deadline moves; the original stays) or refuse a waiting request."""
    _decider(actor)
    request = item_services.child_of(item, ExtensionRequest, request_id)
    if request.status != ExtensionStatus.PENDING:
        raise Refused(_("This request has already been decided."))
    if approve and not item.is_open:
        raise Refused(_("A closed or cancelled item cannot be extended."))
    comment = _reason(comment, "comment", required=not approve)
    status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
    journal.apply_changes(request, {"status": status, "decided_by_id": actor.id, "decided_at": clock.now(),
                                    "comment": comment or None})
    changes = {"extension": [ExtensionStatus.PENDING.value, status.value]}
    if approve:
        changes.update(journal.apply_changes(item, {"deadline": request.requested_deadline}))
        refresh_schedule(item)
    uow.touch(item)
    journal.record(actor, "approve_extension" if approve else "refuse_extension", item, changes,
                   note=comment or None, item_id=item.id)
    hooks.announce(actor, item, "extension_approved" if approve else "extension_refused", detail=comment or None,
                   on_date=request.requested_deadline, requester_id=request.requested_by_id)
    uow.flush(item.id)
    return request


# Steps after which a waiting request can never be decided: the item is settled, or starts again.
SETTLES_EXTENSIONS = {"close_item", "cancel", "reopen", "reopen_after_recheck"}


def _settle_pending_extension(actor: User, item: Item, action: str) -> None:
    """A request still waiting when the item is closed, cancelled or reopened is withdrawn
    (journaled), so it leaves the inspectors' queue instead of waiting there for ever."""
    request = pending_extension(item) if action in SETTLES_EXTENSIONS else None
    if request is None:
        return
    journal.apply_changes(request, {"status": ExtensionStatus.WITHDRAWN, "decided_at": clock.now()})
    journal.record(actor, "withdraw_extension", item,
                   {"extension": [ExtensionStatus.PENDING.value, ExtensionStatus.WITHDRAWN.value]},
                   note=request.requested_deadline.isoformat(), item_id=item.id)


hooks.after_transition.append(_settle_pending_extension)


# -- required-evidence checklist ----------------------------------------------------

@uow.guarded
def add_requirement(actor: User, item: Item, title: str) -> EvidenceRequirement:
    _decider(actor)
    if not item.is_open:
        raise Refused(_("A closed or cancelled item cannot be changed."))
    title = (title or "").strip()
    if not title:
        raise Invalid({"title": _("This field is required.")})
    if len(title) > 200:
        raise Invalid({"title": _("At most %(n)d characters.", n=200)})
    requirement = EvidenceRequirement(item=item, title=title, created_by_id=actor.id, created_at=clock.now())
    db.session.add(requirement)
    db.session.flush()
    journal.record(actor, "add_requirement", requirement, {"title": [None, title]}, item_id=item.id)
    if item.status != Status.DRAFT:
        hooks.announce(actor, item, "requirement_added", detail=title)
    uow.touch(item)
    uow.flush(item.id)
    return requirement


def requirements_status(item: Item) -> list[tuple[EvidenceRequirement, int]]:
    """Each checklist entry with its number of current (not withdrawn) files."""
    counts = dict(db.session.execute(
        select(Evidence.requirement_id, func.count()).where(
            Evidence.item_id == item.id, Evidence.withdrawn.is_(False), Evidence.requirement_id.is_not(None))
        .group_by(Evidence.requirement_id)).all())
    entries = db.session.scalars(select(EvidenceRequirement).where(EvidenceRequirement.item_id == item.id)
                                 .order_by(EvidenceRequirement.id)).all()
    return [(entry, counts.get(entry.id, 0)) for entry in entries]


def missing_requirements(item: Item) -> list[str]:
    return [entry.title for entry, count in requirements_status(item) if count == 0]


def _closure_refusal(item: Item) -> str | None:
    missing = missing_requirements(item)
    if missing:
        return _("The required evidence is incomplete: %(missing)s.", missing="、".join(missing))
    return None


hooks.closure_checks.append(_closure_refusal)


# -- listed supervision (挂牌督办) ----------------------------------------------------

@uow.guarded
def set_listed_supervision(actor: User, item: Item, listed: bool, note: str = "") -> None:
    _decider(actor)
    if not item.is_open:
        raise Refused(_("A closed or cancelled item cannot be changed."))
    changes = journal.apply_changes(item, {"listed_supervision": bool(listed)})
    if not changes:
        return
    uow.touch(item)
    note = (note or "").strip()[:LIMITS["reason"]] or None
    journal.record(actor, "list_item" if listed else "unlist_item", item, changes, note=note, item_id=item.id)
    if item.status != Status.DRAFT:
        hooks.announce(actor, item, "listed" if listed else "unlisted", detail=note)
    if listed:
        for listed_hook in hooks.listed_for_supervision:   # SMS and the unit's group, with the change
            listed_hook(item)
    uow.flush(item.id)


# -- re-checks (回头看) ---------------------------------------------------------------

@uow.guarded
def schedule_recheck(actor: User, item: Item, due_on: Any) -> Recheck:
    _decider(actor)
    if item.status != Status.CLOSED:
        raise Refused(_("A re-check can be scheduled only on a closed item."))
    if not isinstance(due_on, dt.date):
        raise Invalid({"due_on": _("Enter a date.")})
    if due_on < clock.today():
        raise Invalid({"due_on": _("Choose today or a later date.")})
    recheck = Recheck(item=item, due_on=due_on, scheduled_by_id=actor.id, created_at=clock.now())
    db.session.add(recheck)
    db.session.flush()
    journal.record(actor, "schedule_recheck", recheck, {"due_on": [None, due_on.isoformat()]}, item_id=item.id)
    uow.touch(item)
    uow.flush(item.id)
    return recheck


@uow.guarded
def record_recheck(actor: User, item: Item, recheck_id: int, problem_back: bool, finding: str) -> Recheck:
    """Record what the re-check found; a problem that is back reopens the item."""
    _decider(actor)
    recheck = item_services.child_of(item, Recheck, recheck_id)
    if recheck.done_at is not None:
        raise Refused(_("This re-check has already been recorded."))
    finding = _reason(finding, "finding", required=problem_back)
    outcome = RecheckOutcome.PROBLEM_BACK if problem_back else RecheckOutcome.HOLDS
    journal.apply_changes(recheck, {"done_at": clock.now(), "done_by_id": actor.id, "outcome": outcome,
                                    "finding": finding or None})
    journal.record(actor, "record_recheck", recheck, {"outcome": [None, outcome.value]}, note=finding or None,
                   item_id=item.id)
    # One notice for both: the re-check's outcome says the item is reopened (perform() tells no more).
    hooks.announce(actor, item, "recheck_back" if problem_back else "recheck_holds", detail=finding or None)
    if problem_back:
        # perform() checks the transition, journals the reopening and touches the item.
        item_services.perform(actor, item, "reopen_after_recheck", reason=finding, within="record_recheck")
    else:
        uow.touch(item)
        uow.flush(item.id)
    return recheck


def due_rechecks(today: dt.date) -> list[Recheck]:
    """Re-checks due today or earlier and not yet recorded (for the inspectors' queue and reminders)."""
    return list(db.session.scalars(select(Recheck).where(Recheck.done_at.is_(None), Recheck.due_on <= today)
                                   .order_by(Recheck.due_on)))


# -- re-rating indicators -------------------------------------------------------------

@uow.guarded
def rerate_indicator(actor: User, indicator: Indicator, rating: str) -> None:
    _decider(actor)
    try:
        value = Rating(rating) if rating else None
    except ValueError:
        raise Invalid({"rating": _("Choose a rating.")})
    changes = journal.apply_changes(indicator, {"rating_after": value})
    if changes:
        journal.record(actor, "rerate", indicator, changes)
    uow.flush()
