"""The item page's inspection part: the required-evidence checklist, extension requests and
re-checks as plain rows, and the forms shown to who may use them (registered in items.hooks;
items does not import inspection)."""
from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased

from tracker.auth.models import User
from tracker.extensions import db
from tracker.inspection import forms as inspection_forms
from tracker.inspection.models import ExtensionRequest, ExtensionStatus, Recheck
from tracker.items import hooks


def _rows(statement, item_id: int) -> list:
    return db.session.connection().execute(statement, {"item_id": item_id}).all()


_requester, _decider = aliased(User), aliased(User)
_EXTENSIONS = (select(ExtensionRequest.id, ExtensionRequest.status, ExtensionRequest.current_deadline,
                      ExtensionRequest.requested_deadline, ExtensionRequest.requested_at, ExtensionRequest.reason,
                      ExtensionRequest.comment, _requester.name.label("requested_by_name"),
                      _decider.name.label("decided_by_name"))
               .join(_requester, _requester.id == ExtensionRequest.requested_by_id)
               .outerjoin(_decider, _decider.id == ExtensionRequest.decided_by_id)
               .where(ExtensionRequest.item_id == bindparam("item_id"))
               .order_by(ExtensionRequest.requested_at.desc()))
_RECHECKS = (select(Recheck.id, Recheck.due_on, Recheck.outcome, Recheck.finding, User.name.label("done_by_name"))
             .outerjoin(User, User.id == Recheck.done_by_id)
             .where(Recheck.item_id == bindparam("item_id")).order_by(Recheck.due_on))


def extension_requests(item_id: int) -> list:
    """The item's extension requests, newest first, with the names of who asked and who decided."""
    return _rows(_EXTENSIONS, item_id)


def rechecks(item_id: int) -> list:
    """The item's re-checks, earliest first, with the name of who did each."""
    return _rows(_RECHECKS, item_id)


def page_part(item, user) -> dict:
    """What the item page shows of extensions and re-checks, with the forms of who may use them (the
    checklist itself comes with the evidence part)."""
    extensions = extension_requests(item.id)
    # At most one request waits per item (inspection.services.request_extension).
    pending = next((r for r in extensions if r.status == ExtensionStatus.PENDING), None)
    may_request = item.can_request_extension(user)
    may_recheck = item.can_recheck(user)
    shown_rechecks = rechecks(item.id)
    return {
        "extensions": extensions,
        "pending_extension": pending,
        "may_request_extension": may_request,
        "rechecks": shown_rechecks,
        "extension_form": inspection_forms.ExtensionRequestForm.shown() if may_request and not pending else None,
        "decide_form": inspection_forms.ExtensionDecisionForm.shown(f"decide-{pending.id}")
        if pending and user.role.can_decide() else None,
        "requirement_form": inspection_forms.RequirementForm.shown() if item.can_supervise(user) else None,
        "recheck_form": inspection_forms.RecheckForm.shown() if may_recheck else None,
        "recheck_result_forms": {r.id: inspection_forms.RecheckResultForm.shown(f"recheck-{r.id}")
                                 for r in shown_rechecks if may_recheck and not r.outcome},
    }


hooks.page_parts.append(page_part)
