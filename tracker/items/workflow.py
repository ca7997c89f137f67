"""The life of an item, as one declarative table read by pages, services and tests.

Each row: the action, the states it starts from, the state it leads to, the roles
that may take it, whether a unit member must belong to the lead unit, and the input
it needs. `check()` is the only gate; services call it before changing anything.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from tracker.i18n import lazy_gettext as _l

from tracker.auth.models import DECIDER_ROLES, SIGNER_ROLES, WORKER_ROLES, Role, User
from tracker.errors import Refused
from tracker.items.models import OPEN_STATUSES, Item, Status

ADMIN = frozenset({Role.ADMIN})
LEAD_UNIT = WORKER_ROLES
DECIDERS = DECIDER_ROLES
STAFF = frozenset(r for r in WORKER_ROLES if r.submits_through_head())
SIGNERS = SIGNER_ROLES


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[Status]
    target: Status
    roles: frozenset[Role]
    needs: tuple[str, ...] = ()      # input fields that must be given: "reason", "result"
    lead_unit_only: bool = False     # heads/staff must belong to the lead unit
    label: object = ""
    danger: bool = False             # destructive: the page asks for confirmation
    summed_up: bool = False          # the page shows what is being handed over and asks to confirm
    # The operation this step belongs to ("record_recheck": a re-check found the problem back).
    # Such a step is never a bare action: not in the actions box, refused by the routes and the
    # API; only that operation takes it, having recorded what justifies it.
    part_of: str = ""
    # The unit's own sign-off (单位负责人审核): True, the step is taken only where `user`'s submission
    # goes to the unit's head first; False, only where it does not; None, either way.
    signoff: bool | None = None

    def open_to(self, role: Role) -> bool:
        """Whether `role` may ever take this action (on some item, in some state)."""
        return role in self.roles


TRANSITIONS: tuple[Transition, ...] = (
    Transition("assign", frozenset({Status.DRAFT}), Status.ASSIGNED, ADMIN,
               label=_l("Assign")),
    Transition("acknowledge", frozenset({Status.ASSIGNED}), Status.IN_PROGRESS, LEAD_UNIT,
               lead_unit_only=True, label=_l("Acknowledge receipt")),
    Transition("submit_for_closure", frozenset({Status.IN_PROGRESS, Status.RETURNED}), Status.SUBMITTED,
               LEAD_UNIT, lead_unit_only=True, label=_l("Submit for closure"), summed_up=True, signoff=False),
    # Staff of a unit that signs off: the submission waits for the head, who passes it on or sends
    # it back with a comment.
    Transition("submit_for_signoff", frozenset({Status.IN_PROGRESS, Status.RETURNED}), Status.SIGNOFF,
               STAFF, lead_unit_only=True, label=_l("Submit to the unit head for sign-off"), summed_up=True,
               signoff=True),
    Transition("approve_submission", frozenset({Status.SIGNOFF}), Status.SUBMITTED, SIGNERS,
               lead_unit_only=True, label=_l("Sign off and submit for closure"), summed_up=True),
    Transition("send_back", frozenset({Status.SIGNOFF}), Status.IN_PROGRESS, SIGNERS,
               lead_unit_only=True, needs=("reason",), label=_l("Send back to the staff")),
    Transition("resume", frozenset({Status.RETURNED}), Status.IN_PROGRESS, LEAD_UNIT,
               lead_unit_only=True, label=_l("Resume rectification")),
    Transition("return_item", frozenset({Status.SUBMITTED}), Status.RETURNED, DECIDERS,
               needs=("reason",), label=_l("Return"), danger=True),
    Transition("close_item", frozenset({Status.SUBMITTED}), Status.CLOSED, DECIDERS,
               needs=("result", "opinion"), label=_l("Close")),
    Transition("reopen", frozenset({Status.CLOSED}), Status.IN_PROGRESS, ADMIN,
               needs=("reason",), label=_l("Reopen"), danger=True),
    Transition("cancel", frozenset(OPEN_STATUSES), Status.CANCELLED, ADMIN,
               needs=("reason",), label=_l("Cancel item"), danger=True),
    Transition("withdraw_submission", frozenset({Status.SIGNOFF, Status.SUBMITTED}), Status.IN_PROGRESS, LEAD_UNIT,
               lead_unit_only=True, label=_l("Take back the submission")),
    Transition("reopen_after_recheck", frozenset({Status.CLOSED}), Status.IN_PROGRESS, DECIDERS,
               needs=("reason",), label=_l("Reopen: the problem is back"), danger=True, part_of="record_recheck"),
)

OPERATIONS = {"record_recheck": _l("recording a re-check")}

BY_ACTION = {t.action: t for t in TRANSITIONS}

STATUS_LABELS = {
    Status.DRAFT: _l("Draft"), Status.ASSIGNED: _l("Assigned"),
    Status.IN_PROGRESS: _l("In progress"), Status.SIGNOFF: _l("Awaiting the unit head's sign-off"),
    Status.SUBMITTED: _l("Submitted for closure"),
    Status.RETURNED: _l("Returned"), Status.CLOSED: _l("Closed"), Status.CANCELLED: _l("Cancelled"),
}


def needs_signoff(item: Item, user: User) -> bool:
    """Whether `user`'s submission for closure of `item` goes to the unit's head first: staff of a
    unit that signs off, where the deployment asks for it (UNIT_SIGNOFF, on by default)."""
    return (user.role.submits_through_head() and current_app.config.get("UNIT_SIGNOFF", True)
            and item.lead_unit.signoff_required)


def refusal(item: Item, action: str, user: User, within: str = "") -> str | None:
    """Why `user` may not take `action` on `item` now, or None when allowed. `within` names the
    operation taking the step; a bare action (the routes, the API) passes none."""
    transition = BY_ACTION.get(action)
    if transition is None:
        return str(_l("Unknown action."))
    if transition.part_of != within:
        return str(_l("This is not an action of its own: it is part of %(operation)s.",
                      operation=OPERATIONS[transition.part_of]))
    if not transition.open_to(user.role):
        return str(_l("Your role may not do this."))
    if not user.role.can_administer():
        if not item.can_view(user):
            return str(_l("This item belongs to another unit."))
        if transition.lead_unit_only and not item.is_lead_member(user):
            return str(_l("Only the lead unit may do this."))
    if item.status not in transition.sources:
        return str(_l("Not possible while the item is “%(status)s”.",
                      status=STATUS_LABELS[item.status]))
    if transition.signoff is not None and transition.signoff != needs_signoff(item, user):
        if transition.signoff:
            return str(_l("Your unit's submissions go to the inspectors directly."))
        return str(_l("Your unit's head signs off your submission first: submit it to the head."))
    return None


def check(item: Item, action: str, user: User, within: str = "") -> Transition:
    """Return the transition when allowed, else raise Refused with the reason."""
    reason = refusal(item, action, user, within)
    if reason:
        raise Refused(reason)
    return BY_ACTION[action]


def available(item: Item, user: User) -> list[Transition]:
    """The actions `user` may take on `item` now, in table order (for the actions box)."""
    return [t for t in TRANSITIONS if refusal(item, t.action, user) is None]
