"""What the evidence and inspection packages add to an item, registered by them when imported.

They import items, never the reverse (inspection -> evidence -> items), so items asks these
registries where it needs their answers: whether an item may be submitted for closure, what to do
with the files of a progress update, and what the item page shows of them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# A reason the item cannot be submitted for closure yet, or None: f(item). Asked in the order
# registered; the first reason given is the one the user reads.
closure_checks: list[Callable[[Any], str | None]] = []

# Template variables of the item page: f(item, user) -> dict. Each package shows its part.
page_parts: list[Callable[[Any, Any], dict]] = []


@dataclass(frozen=True)
class ProgressFiles:
    """Files posted with a progress update: checked and stored before the update is written
    (`stage(files)`), recorded with it (`add_rows(actor, item, staged, update)`), and removed again
    when the update fails (`discard(staged)`)."""
    stage: Callable
    add_rows: Callable
    discard: Callable


progress_files: list[ProgressFiles] = []  # one: evidence.services

# What else a workflow step settles: f(actor, item, action), called after the item changed state.
after_transition: list[Callable[[Any, Any, str], None]] = []

# Who must hear of an event on an item that is not a workflow step (an extension asked for or
# decided, listed supervision, a re-check, a checklist entry): f(actor, item, event, details),
# called by the service in the change's transaction. One: notifications.notices.
events: list[Callable[[Any, Any, str, dict], None]] = []


def announce(actor, item, event: str, **details) -> None:
    """Tell the registered listeners that `event` happened to `item` (in the caller's transaction)."""
    for listener in events:
        listener(actor, item, event, details)


@dataclass(frozen=True)
class TransitionStep:
    """A package's share of a workflow step, given what the form or API call sent besides the
    action's own fields (`inputs`: the hand-out form's lines per cooperating unit, the reason of a
    submission overriding open parts). `check(actor, item, action, inputs)` runs before the item
    changes (it raises Refused/Invalid, or prepares what the step's own checks then see);
    `settle(actor, item, action, inputs)` after it changed state."""
    check: Callable
    settle: Callable


transition_steps: list[TransitionStep] = []  # one: parts.services

# An open item's cooperating units changed: f(actor, item, added_units, removed_units), after the change.
cooperating_units_changed: list[Callable[[Any, Any, list, list], None]] = []
# What listing an item for supervision (挂牌督办) sets off, in the same transaction: f(item), called
# from the supervision action and from an edit that ticks it (notifications.channels: SMS, robots).
listed_for_supervision: list[Callable[[Any], None]] = []


def closure_refusal(item) -> str | None:
    """The first reason a registered check gives against submitting `item` for closure, or None."""
    for check in closure_checks:
        reason = check(item)
        if reason:
            return reason
    return None


def page_context(item, user) -> dict:
    """The item page's variables from every registered part."""
    context: dict = {}
    for part in page_parts:
        context.update(part(item, user))
    return context
