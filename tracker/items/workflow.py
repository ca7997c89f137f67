"""The life of an item, as one declarative table read by pages, services and tests.

Each row: the action, the states it starts from, the state it leads to, the roles
that may take it, whether a unit member must belong to the lead unit, and the input
it needs. `check()` is the only gate; services call it before changing anything.
"""
from __future__ import annotations

from dataclasses import dataclass

from tracker.i18n import lazy_gettext as _l

from tracker.auth.models import DECIDER_ROLES, WORKER_ROLES, Role, User
from tracker.errors import Refused
from tracker.items.models import OPEN_STATUSES, Item, Status

ADMIN = frozenset({Role.ADMIN})
LEAD_UNIT = WORKER_ROLES
DECIDERS = DECIDER_ROLES


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
    in_actions_box: bool = True      # False: taken from its own form (e.g. a re-check's outcome)

    def open_to(self, role: Role) -> bool:
        """Whether `role` may ever take this action (on some item, in some state)."""
        return role in self.roles


TRANSITIONS: tuple[Transition, ...] = (
    Transition("assign", frozenset({Status.DRAFT}), Status.ASSIGNED, ADMIN,
               label=_l("Assign")),
    Transition("acknowledge", frozenset({Status.ASSIGNED}), Status.IN_PROGRESS, LEAD_UNIT,
               lead_unit_only=True, label=_l("Acknowledge receipt")),
    Transition("submit_for_closure", frozenset({Status.IN_PROGRESS, Status.RETURNED}), Status.SUBMITTED,
               LEAD_UNIT, lead_unit_only=True, label=_l("Submit for closure")),
    Transition("resume", frozenset({Status.RETURNED}), Status.IN_PROGRESS, LEAD_UNIT,
               lead_unit_only=True, label=_l("Resume rectification")),
    Transition("return_item", frozenset({Status.SUBMITTED}), Status.RETURNED, DECIDERS,
               needs=("reason",), label=_l("Return"), danger=True),
    Transition("close_item", frozenset({Status.SUBMITTED}), Status.CLOSED, DECIDERS,
               needs=("result",), label=_l("Close")),
    Transition("reopen", frozenset({Status.CLOSED}), Status.IN_PROGRESS, ADMIN,
               needs=("reason",), label=_l("Reopen"), danger=True),
    Transition("cancel", frozenset(OPEN_STATUSES), Status.CANCELLED, ADMIN,
               needs=("reason",), label=_l("Cancel item"), danger=True),
    Transition("reopen_after_recheck", frozenset({Status.CLOSED}), Status.IN_PROGRESS, DECIDERS,
               needs=("reason",), label=_l("Reopen: the problem is back"), danger=True, in_actions_box=False),
)

BY_ACTION = {t.action: t for t in TRANSITIONS}

STATUS_LABELS = {
    Status.DRAFT: _l("Draft"), Status.ASSIGNED: _l("Assigned"),
    Status.IN_PROGRESS: _l("In progress"), Status.SUBMITTED: _l("Submitted for closure"),
    Status.RETURNED: _l("Returned"), Status.CLOSED: _l("Closed"), Status.CANCELLED: _l("Cancelled"),
}


def refusal(item: Item, action: str, user: User) -> str | None:
    """Why `user` may not take `action` on `item` now, or None when allowed."""
    transition = BY_ACTION.get(action)
    if transition is None:
        return str(_l("Unknown action."))
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
    return None


def check(item: Item, action: str, user: User) -> Transition:
    """Return the transition when allowed, else raise Refused with the reason."""
    reason = refusal(item, action, user)
    if reason:
        raise Refused(reason)
    return BY_ACTION[action]


def available(item: Item, user: User) -> list[Transition]:
    """The actions `user` may take on `item` now, in table order (for the actions box)."""
    return [t for t in TRANSITIONS if t.in_actions_box and refusal(item, t.action, user) is None]
