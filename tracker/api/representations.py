"""The JSON form of items, milestones, progress, evidence, units and evaluations.

Every key here is described in openapi.py; the schemathesis test checks they agree."""
from __future__ import annotations

import datetime as dt

from flask import url_for
from sqlalchemy import select

from tracker.auth.models import User
from tracker.evaluations.models import Evaluation, Finding
from tracker.extensions import db
from tracker.evidence.models import Evidence
from tracker.items import workflow
from tracker.items.lights import is_overdue, light_of
from tracker.items.models import Item, Milestone, ProgressUpdate, item_cooperating_units
from tracker.items.rows import among, name_of
from tracker.parts.models import Part
from tracker.parts.presentation import light_of as part_light
from tracker.units.models import Unit


def _at(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def unit_ref(unit: Unit | None) -> dict | None:
    return None if unit is None else {"id": unit.id, "name": unit.name}


def unit(row: Unit) -> dict:
    return {"id": row.id, "name": row.name, "code": row.code, "parent_id": row.parent_id, "active": row.active}


def evaluation(row: Evaluation) -> dict:
    return {"id": row.id, "title": row.title, "year": row.year, "issuing_body": row.issuing_body,
            "issued_on": _day(row.issued_on)}


def item_summary(item: Item, today: dt.date) -> dict:
    """An item as a ledger row shows it."""
    return {
        "id": item.id, "title": item.title, "status": item.status.value, "kind": item.kind.value,
        "deadline": _day(item.deadline), "original_deadline": _day(item.original_deadline),
        "progress_percent": item.progress_percent, "light": light_of(item, today).value,
        "overdue": is_overdue(item, today), "listed_supervision": item.listed_supervision,
        "lead_unit": unit_ref(item.lead_unit),
        "cooperating_units": [unit_ref(u) for u in item.cooperating_units],
        "owner": None if item.owner is None else {"id": item.owner.id, "name": item.owner.name},
        "finding": {"id": item.finding.id, "text": item.finding.text},
        "evaluation": {"id": item.finding.evaluation.id, "title": item.finding.evaluation.title},
        "updated_at": _at(item.updated_at), "version": item.version,
    }



class _Row:
    """The columns light_of and is_overdue read, under the names they read them by."""

    __slots__ = ("status", "deadline", "behind_on", "last_activity_on")

    def __init__(self, status, deadline, behind_on, last_activity_on):
        self.status, self.deadline, self.behind_on, self.last_activity_on = status, deadline, behind_on, last_activity_on


def item_summaries(ids: list[int], today: dt.date) -> list[dict]:
    """`item_summary` of each of `ids`, in that order, read as plain columns in two statements: the
    list endpoint's page of 25 items as ORM objects with their units, owner, finding and evaluation
    cost more than its SQL."""
    if not ids:
        return []
    cooperating: dict[int, list[dict]] = {}
    unit_name = name_of(Unit.name, Unit.id == item_cooperating_units.c.unit_id)
    for item_id, unit_id, name in db.session.execute(
            select(item_cooperating_units.c.item_id, item_cooperating_units.c.unit_id, unit_name)
            .where(among(item_cooperating_units.c.item_id, ids)).order_by(unit_name)):
        cooperating.setdefault(item_id, []).append({"id": unit_id, "name": name})
    evaluation = (Finding.id == Item.finding_id, Evaluation.id == Finding.evaluation_id)
    stmt = (select(Item.id, Item.title, Item.status, Item.kind, Item.deadline, Item.original_deadline,
                   Item.progress_percent, Item.behind_on, Item.last_activity_on, Item.listed_supervision,
                   Item.lead_unit_id, name_of(Unit.name, Unit.id == Item.lead_unit_id),
                   Item.owner_id, name_of(User.name, User.id == Item.owner_id),
                   Item.finding_id, name_of(Finding.text, Finding.id == Item.finding_id),
                   name_of(Finding.evaluation_id, Finding.id == Item.finding_id),
                   name_of(Evaluation.title, *evaluation), Item.updated_at, Item.version)
            .where(among(Item.id, ids)))
    rows = {}
    for (item_id, title, status, kind, deadline, original, percent, behind_on, last_activity, listed,
         unit_id, unit_name, owner_id, owner_name, finding_id, finding_text, evaluation_id,
         evaluation_title, updated_at, version) in db.session.execute(stmt):
        light = _Row(status, deadline, behind_on, last_activity)
        rows[item_id] = {
            "id": item_id, "title": title, "status": status.value, "kind": kind.value,
            "deadline": _day(deadline), "original_deadline": _day(original), "progress_percent": percent,
            "light": light_of(light, today).value, "overdue": is_overdue(light, today),
            "listed_supervision": listed, "lead_unit": {"id": unit_id, "name": unit_name},
            "cooperating_units": cooperating.get(item_id, []),
            "owner": None if owner_id is None else {"id": owner_id, "name": owner_name},
            "finding": {"id": finding_id, "text": finding_text},
            "evaluation": {"id": evaluation_id, "title": evaluation_title},
            "updated_at": _at(updated_at), "version": version,
        }
    return [rows[item_id] for item_id in ids if item_id in rows]


def milestone(row: Milestone) -> dict:
    return {"id": row.id, "title": row.title, "due_on": _day(row.due_on), "done": row.done,
            "done_at": _at(row.done_at)}


def progress(row: ProgressUpdate) -> dict:
    return {"id": row.id, "body": row.body, "percent": row.percent, "author": row.author.name,
            "created_at": _at(row.created_at)}


def evidence(row: Evidence) -> dict:
    return {"id": row.id, "name": row.original_name, "size": row.size, "content_type": row.content_type,
            "sha256": row.sha256, "progress_update_id": row.progress_update_id,
            "uploaded_by": row.uploaded_by.name, "uploaded_at": _at(row.uploaded_at),
            "withdrawn": row.withdrawn, "withdraw_reason": row.withdraw_reason,
            "download_url": url_for("api.download_evidence", item_id=row.item_id, evidence_id=row.id)}


def part(row: Part, item: Item, user, today: dt.date) -> dict:
    """A cooperating unit's part, with the steps the caller may take on it now."""
    steps = [step for step, allowed in (("acknowledge", row.can_acknowledge), ("progress", row.can_post_progress),
                                        ("done", row.can_report_done), ("return", row.can_return))
             if allowed(user, item)]
    return {"id": row.id, "unit": unit_ref(row.unit), "request": row.request, "deadline": _day(row.deadline),
            "status": row.status.value, "light": part_light(row.status, row.deadline, item.status, today).value,
            "last_activity_on": _day(row.last_activity_on), "acknowledged_at": _at(row.acknowledged_at),
            "done_at": _at(row.done_at), "statement": row.statement, "return_reason": row.return_reason,
            "override_reason": row.override_reason, "version": row.version, "actions": steps}


def item_detail(item: Item, today: dt.date, user, updates, files, parts=()) -> dict:
    """An item with everything its page shows except the journal (`parts`: its cooperating units')."""
    body = item_summary(item, today)
    body.update({
        "measures": item.measures, "target": item.target, "responsible_leader": item.responsible_leader,
        "return_reason": item.return_reason, "acceptance_opinion": item.acceptance_opinion, "closure_result": item.closure_result.value if item.closure_result else None,
        "closed_at": _at(item.closed_at), "submitted_at": _at(item.submitted_at),
        "milestones": [milestone(m) for m in item.milestones],
        "progress": [progress(u) for u in updates],
        "evidence": [evidence(f) for f in files],
        "actions": [{"action": t.action, "needs": list(t.needs)} for t in workflow.available(item, user)],
        "can_post_progress": item.can_post_progress(user),
        "parts": [part(p, item, user, today) for p in parts if p.can_view(user, item)],
    })
    return body


STATISTICS_NUMBERS = ("assigned", "cancelled", "closed", "closed_on_time", "closed_late", "open", "overdue",
                      "overdue_days", "longest_overdue", "acknowledged", "returns", "extensions_asked",
                      "extensions_granted", "reminders", "escalations", "listed")
STATISTICS_RATES = ("on_time_rate", "completion_rate", "average_acknowledge_days")


def unit_statistics(row, with_unit: bool = True, parts: bool = True) -> dict:
    """One unit's numbers (tracker/reports/stats.py UnitStats); rates are null without items."""
    values = row.as_dict()
    out = {name: values[name] for name in STATISTICS_NUMBERS + STATISTICS_RATES}
    if with_unit:
        out.update(unit={"id": row.unit_id, "name": row.name}, rank=row.rank)
        if parts:
            out["parts"] = [unit_statistics(p, parts=False) for p in row.parts]
    return out
