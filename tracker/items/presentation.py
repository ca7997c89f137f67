"""Human labels for the domain's enums, shared by pages, forms and exports."""
from flask_babel import lazy_gettext as _l

from tracker.auth.models import Role
from tracker.evaluations.models import Rating
from tracker.items.lights import LIGHT_LABELS, Light, light_of
from tracker.items.models import ClosureResult, ItemKind, Status
from tracker.items.workflow import STATUS_LABELS

KIND_LABELS = {ItemKind.IMMEDIATE: _l("Fix immediately"), ItemKind.DEADLINE: _l("Fix by deadline"),
               ItemKind.LONG_TERM: _l("Long-term")}
RESULT_LABELS = {ClosureResult.RECTIFIED: _l("Rectified"), ClosureResult.ONGOING: _l("Ongoing rectification")}
RATING_LABELS = {Rating.FULLY: _l("Fully implemented"), Rating.BASICALLY: _l("Basically implemented"),
                 Rating.NOT_YET: _l("Not yet implemented")}
ROLE_LABELS = {Role.ADMIN: _l("Coordinator (admin)"), Role.INSPECTOR: _l("Inspector"),
               Role.HEAD: _l("Department head"), Role.STAFF: _l("Unit staff"), Role.LEADER: _l("Leader")}
ACTION_LABELS = {"create": _l("created"), "update": _l("edited"), "progress": _l("posted progress"),
                 "assign": _l("assigned"), "acknowledge": _l("acknowledged receipt"),
                 "submit_for_closure": _l("submitted for closure"), "resume": _l("resumed"),
                 "return_item": _l("returned"), "close_item": _l("closed"), "reopen": _l("reopened"),
                 "cancel": _l("cancelled"), "sign_in": _l("signed in")}
FIELD_LABELS = {"finding_id": _l("Finding"), "title": _l("Title"), "measures": _l("Measures"),
                "target": _l("Target"), "kind": _l("Type"), "lead_unit_id": _l("Lead unit"),
                "owner_id": _l("Owner"), "responsible_leader": _l("Responsible leader"),
                "deadline": _l("Deadline"), "listed_supervision": _l("Listed supervision"),
                "cooperating_units": _l("Cooperating units"), "status": _l("Status"),
                "progress_percent": _l("Progress"), "return_reason": _l("Return reason"),
                "closure_result": _l("Result"), "cancel_reason": _l("Cancel reason")}

status = STATUS_LABELS
kind = KIND_LABELS
result = RESULT_LABELS
rating = RATING_LABELS
role = ROLE_LABELS
action = ACTION_LABELS
field = FIELD_LABELS
light = LIGHT_LABELS
Light = Light
light_of = light_of
Status = Status


def enum_label(mapping, value) -> str:
    """Label of an enum value given as enum or raw string (journal entries keep raw strings)."""
    for key, label in mapping.items():
        if key == value:
            return str(label)
    return "" if value is None else str(value)
