"""Human labels for the domain's enums, shared by pages, forms and exports."""
from tracker.i18n import gettext as _, lazy_gettext as _l

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
                 "cancel": _l("cancelled"), "sign_in": _l("signed in"),
                 "add_milestone": _l("added a milestone"), "complete_milestone": _l("reached a milestone"),
                 "remind": _l("sent a reminder"), "escalate": _l("escalated"), "retry": _l("queued again"),
                 "attach_evidence": _l("attached evidence"), "withdraw_evidence": _l("withdrew evidence"),
                 "link_evidence": _l("linked evidence to a checklist entry"),
                 "withdraw_submission": _l("took back the submission for closure"),
                 "submit_for_signoff": _l("submitted to the unit head for sign-off"),
                 "approve_submission": _l("signed off the submission and submitted it for closure"),
                 "send_back": _l("sent the submission back to the staff"),
                 "reopen_after_recheck": _l("reopened after a re-check found the problem back"),
                 "add_requirement": _l("added a required-evidence entry"),
                 "request_extension": _l("asked for more time"), "approve_extension": _l("granted more time"),
                 "refuse_extension": _l("refused more time"),
                 "withdraw_extension": _l("settled the waiting extension request"),
                 "list_item": _l("changed listed supervision"), "unlist_item": _l("changed listed supervision"),
                 "schedule_recheck": _l("scheduled a re-check"), "record_recheck": _l("recorded a re-check"),
                 "remind_recheck": _l("was reminded of a re-check"), "rerate": _l("re-rated an indicator"),
                 "change_password": _l("changed the password"), "create_token": _l("created an API token"),
                 "revoke_token": _l("revoked an API token"), "sign_in_failed": _l("failed to sign in"),
                 "sign_in_throttled": _l("was refused sign-in (too many attempts)"),
                 "add_part": _l("gave a cooperating unit its part"), "reopen_part": _l("opened a part again"),
                 "acknowledge_part": _l("acknowledged a part"), "part_progress": _l("posted progress on a part"),
                 "report_part_done": _l("reported a part done"), "return_part": _l("returned a part"),
                 "edit_part": _l("changed a part"), "cancel_part": _l("cancelled a part"),
                 "override_part": _l("submitted without a part done"),
                 "issue_notice": _l("issued a supervision notice")}
FIELD_LABELS = {"finding_id": _l("Finding"), "title": _l("Title"), "measures": _l("Measures"),
                "target": _l("Target"), "kind": _l("Type"), "lead_unit_id": _l("Lead unit"),
                "owner_id": _l("Owner"), "responsible_leader": _l("Responsible leader"),
                "deadline": _l("Deadline"), "listed_supervision": _l("Listed supervision"),
                "cooperating_units": _l("Cooperating units"), "status": _l("Status"),
                "progress_percent": _l("Progress"), "return_reason": _l("Return reason"),
                "closure_result": _l("Result"), "cancel_reason": _l("Cancel reason"),
                "due_on": _l("Due on"), "done": _l("Reached"),
                "number": _l("Reminder number"), "recipients": _l("Sent to"),
                "file": _l("File"), "size": _l("Size (bytes)"), "withdrawn": _l("Withdrawn"),
                "requirement_id": _l("Checklist entry"), "acceptance_opinion": _l("Acceptance opinion"), "extension": _l("Extension request"),
                "requested_deadline": _l("Deadline asked for"),
                "signoff_comment": _l("Head's comment"), "signoff_required": _l("Head's sign-off"),
                "sha256": "SHA-256", "outcome": _l("Outcome"),
                "unit": _l("Unit"), "part_status": _l("Part status"), "part_deadline": _l("Part deadline"),
                "part_request": _l("Asked to do"), "statement": _l("Statement"),
                "override_reason": _l("Reason to submit without it"),
                "notice_number": _l("Notice number"), "reply_by": _l("Reply by")}

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


def row_words() -> dict:
    """What every row of a ledger table says alike, translated once for the table."""
    return {"no": _("No."), "lead_unit": _("Lead unit"), "owner": _("Owner"), "deadline": _("Deadline"),
            "status": _("Status"), "light": _("Light"), "progress": _("Progress"), "originally": _("originally"),
            "listed": _("Listed supervision"), "kind": {k: str(v) for k, v in KIND_LABELS.items()},
            "statuses": {k: str(v) for k, v in STATUS_LABELS.items()},
            "lights": {k: str(v) for k, v in LIGHT_LABELS.items()}}


def enum_label(mapping, value) -> str:
    """Label of an enum value given as enum or raw string (journal entries keep raw strings)."""
    for key, label in mapping.items():
        if key == value:
            return str(label)
    return "" if value is None else str(value)


# -- the journal as people read it -------------------------------------------------

# Bookkeeping columns a person does not need to see in the history (the action says it all).
HIDDEN_FIELDS = frozenset({"start_on", "behind_on", "last_activity_on", "assigned_at", "acknowledged_at",
                           "acknowledged_by_id", "submitted_at", "closed_at", "closed_by_id", "cancelled_at",
                           "version", "updated_at"})
# An extension request's states (the values are inspection's ExtensionStatus; items does not import it).
EXTENSION_LABELS = {"pending": _l("waiting for a decision"), "approved": _l("granted"),
                    "refused": _l("refused"), "withdrawn": _l("withdrawn")}
OUTCOME_LABELS = {"holds": _l("holds"), "problem_back": _l("problem back")}  # a re-check's (inspection's)
# A cooperating unit's part's states (the values are parts' PartStatus; items does not import it).
PART_STATUS_LABELS = {"pending": _l("Waiting for acknowledgement"), "in_progress": _l("Under way"),
                      "done": _l("Reported done"), "returned": _l("Returned for more"), "cancelled": _l("Cancelled")}
ENUM_FIELDS = {"status": STATUS_LABELS, "kind": KIND_LABELS, "closure_result": RESULT_LABELS,
               "extension": EXTENSION_LABELS, "outcome": OUTCOME_LABELS, "part_status": PART_STATUS_LABELS}


def journal_rows(entries) -> list[dict]:
    """Entries with readable changes: labels instead of enum values, names instead of ids."""
    from sqlalchemy import select

    from tracker.auth.models import User
    from tracker.evaluations.models import Finding
    from tracker.extensions import db
    from tracker.units.models import Unit

    wanted = {"lead_unit_id": set(), "owner_id": set(), "finding_id": set()}
    for entry in entries:
        for name, ids in wanted.items():
            for value in entry.changes.get(name, []):
                if isinstance(value, int):
                    ids.add(value)
    names = {
        "lead_unit_id": dict(db.session.execute(select(Unit.id, Unit.name).where(
            Unit.id.in_(wanted["lead_unit_id"]))).all()) if wanted["lead_unit_id"] else {},
        "owner_id": dict(db.session.execute(select(User.id, User.name).where(
            User.id.in_(wanted["owner_id"]))).all()) if wanted["owner_id"] else {},
        "finding_id": {f.id: f.short_text for f in db.session.scalars(select(Finding).where(
            Finding.id.in_(wanted["finding_id"])))} if wanted["finding_id"] else {},
    }

    def show(name, value):
        if value is None or value == []:
            return "—"
        if name in ENUM_FIELDS:
            return enum_label(ENUM_FIELDS[name], value)
        if name in names:
            return names[name].get(value, f"#{value}")
        if isinstance(value, bool):
            return str(_l("yes") if value else _l("no"))
        if isinstance(value, list):
            return "、".join(str(v) for v in value)
        if name == "progress_percent":
            return f"{value}%"
        return str(value)

    rows = []
    for entry in entries:
        changes = [(enum_label(FIELD_LABELS, name), show(name, old), show(name, new))
                   for name, (old, new) in entry.changes.items() if name not in HIDDEN_FIELDS]
        rows.append({"entry": entry, "changes": changes, "action": enum_label(ACTION_LABELS, entry.action)})
    return rows

