"""The item page's parts: a table of every cooperating unit's part (unit, deadline, status, last
activity, light) and the forms of who may act on each (registered in items.hooks)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, select

from tracker import clock
from tracker.auth.models import User
from tracker.evidence.models import Evidence
from tracker.extensions import db
from tracker.items import hooks, workflow
from tracker.links import link_maker
from tracker.parts import forms, presentation
from tracker.parts.models import Part, PartStatus, PartUpdate
from tracker.parts.services import parts_of


@dataclass
class PartRow:
    """One part as the item page shows it, with the forms the reader may use."""
    part: Part
    light: object
    status_label: str
    updates: list = field(default_factory=list)
    files: list = field(default_factory=list)
    forms: dict = field(default_factory=dict)   # step -> form ("acknowledge", "done", "return", "progress", "edit")


_UPDATES = (select(PartUpdate.part_id, PartUpdate.created_at, PartUpdate.body, User.name.label("author"))
            .join(User, User.id == PartUpdate.author_id).join(Part, Part.id == PartUpdate.part_id)
            .where(Part.item_id == bindparam("item_id"))
            .order_by(PartUpdate.created_at.desc(), PartUpdate.id.desc()))
_FILES = (select(Evidence.id, Evidence.part_id, Evidence.original_name, Evidence.withdrawn)
          .where(Evidence.item_id == bindparam("item_id"), Evidence.part_id.is_not(None))
          .order_by(Evidence.uploaded_at, Evidence.id))


def _forms(part: Part, item, user: User) -> dict:
    shown = {}
    prefix = f"part-{part.id}"
    if part.can_acknowledge(user, item):
        shown["acknowledge"] = forms.PartStepForm.shown(f"{prefix}-ack", version=part.version)
    if part.can_post_progress(user, item):
        shown["progress"] = forms.PartUpdateForm.shown(f"{prefix}-progress")
    if part.can_report_done(user, item):
        shown["done"] = forms.PartStepForm.shown(f"{prefix}-done", version=part.version)
    if part.can_return(user, item):
        shown["return"] = forms.PartStepForm.shown(f"{prefix}-return", version=part.version)
    if part.can_edit(user, item):
        shown["edit"] = forms.PartEditForm.shown(f"{prefix}-edit", request=part.request, deadline=part.deadline,
                                                 version=part.version)
    return shown


def part_rows(item, user: User) -> list[PartRow]:
    """The item's parts `user` may see (all for the lead unit and readers, its own for a cooperating
    unit; cancelled ones last), with their progress and files; an item
    without cooperating units costs no statement (its parts, if any, are all cancelled)."""
    if not item.cooperating_units:  # no statement for the many items without cooperating units
        return []
    today = clock.today()
    every = parts_of(item.id)
    rows = [PartRow(p, presentation.light_of(p.status, p.deadline, item.status, today),
                    str(presentation.STATUS_LABELS[p.status]), forms=_forms(p, item, user))
            for p in every if p.can_view(user, item)]  # a cooperating unit sees its own part
    rows.sort(key=lambda r: r.part.status == PartStatus.CANCELLED)
    by_id = {r.part.id: r for r in rows}
    if not rows:
        return rows
    connection = db.session.connection()
    for update in connection.execute(_UPDATES, {"item_id": item.id}):
        if update.part_id in by_id:  # not another cooperating unit's
            by_id[update.part_id].updates.append(update)
    download = link_maker("evidence.download", "evidence_id", item_id=item.id)
    for f in connection.execute(_FILES, {"item_id": item.id}):
        if f.part_id in by_id:
            by_id[f.part_id].files.append({"name": f.original_name, "withdrawn": f.withdrawn, "url": download(f.id)})
    return rows


def page_part(item, user) -> dict:
    """The parts table, the hand-out lines of the assign box, and what the submit box says of parts."""
    rows = part_rows(item, user)
    waiting = [r.part for r in rows if r.part.is_open]  # the submit box: the lead unit sees every part
    may_assign = "assign" in {t.action for t in workflow.available(item, user)} if user.role.can_administer() else False
    return {
        "part_rows": rows,
        "open_parts": [p for p in waiting if not p.override_reason],
        "overridden_parts": [p for p in waiting if p.override_reason],
        "may_override_parts": Part.can_override(user, item),
        "handout_form": forms.handout_form(item.cooperating_units, item) if may_assign and item.cooperating_units else None,
        "part_labels": presentation.STATUS_LABELS,
    }


hooks.page_parts.append(page_part)
