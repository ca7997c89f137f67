"""The item page's inspection part: the required-evidence checklist, extension requests and
re-checks as plain rows, and the forms shown to who may use them (registered in items.hooks;
items does not import inspection)."""
from __future__ import annotations

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import aliased

from tracker.auth.models import User
from tracker.evidence.models import Evidence, EvidenceRequirement
from tracker.extensions import db
from tracker.inspection import forms as inspection_forms
from tracker.inspection.models import ExtensionRequest, ExtensionStatus, Recheck
from tracker.items import hooks


def _rows(statement, item_id: int) -> list:
    return db.session.connection().execute(statement, {"item_id": item_id}).all()


# The checklist with each entry's number of current files, in one statement.
_REQUIREMENTS = (select(EvidenceRequirement.id, EvidenceRequirement.title, func.count(Evidence.id))
                 .outerjoin(Evidence, and_(Evidence.requirement_id == EvidenceRequirement.id,
                                           Evidence.item_id == EvidenceRequirement.item_id,
                                           Evidence.withdrawn.is_(False)))
                 .where(EvidenceRequirement.item_id == bindparam("item_id"))
                 .group_by(EvidenceRequirement.id, EvidenceRequirement.title)
                 .order_by(EvidenceRequirement.id))


def requirements(item_id: int) -> list[tuple]:
    """The item's checklist as (entry, number of current files), as inspection.requirements_status."""
    return [(row, row[2]) for row in _rows(_REQUIREMENTS, item_id)]


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


def page_part(item, user, csrf: str) -> dict:
    """What the item page shows of extensions, the checklist and re-checks (forms only where shown:
    the page writes its one CSRF token into them; the views that take the posts check it)."""
    extensions = extension_requests(item.id)
    # At most one request waits per item (inspection.services.request_extension).
    pending = next((r for r in extensions if r.status == ExtensionStatus.PENDING), None)
    may_request = item.can_request_extension(user)
    shown = {"csrf": False}
    return {
        "extensions": extensions,
        "pending_extension": pending,
        "may_request_extension": may_request,
        "requirements": requirements(item.id),
        "rechecks": rechecks(item.id),
        "extension_form": inspection_forms.ExtensionRequestForm(meta=shown) if may_request and not pending else None,
        "recheck_form": inspection_forms.RecheckForm(meta=shown) if item.can_recheck(user) else None,
    }


hooks.page_parts.append(page_part)
