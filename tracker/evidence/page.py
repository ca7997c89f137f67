"""The item page's evidence part: the item's files as plain rows, with their links, the checklist
they answer, and the forms to attach and withdraw (registered in items.hooks; items does not import
evidence)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import aliased

from tracker.auth.models import User
from tracker.evidence.forms import AttachForm
from tracker.evidence.models import PREVIEWABLE_TYPES, Evidence, EvidenceRequirement
from tracker.extensions import db
from tracker.items import hooks
from tracker.links import link_maker


@dataclass(slots=True, frozen=True)
class EvidenceFile:
    """One evidence file as the item page shows it, with its links."""
    id: int
    progress_update_id: int | None
    original_name: str
    size: int
    content_type: str
    sha256: str
    uploaded_by: str
    uploaded_at: dt.datetime
    withdrawn: bool
    withdrawn_by: str | None
    withdraw_reason: str | None
    uploader_unit_id: int | None
    download_url: str
    preview_url: str
    withdraw_url: str

    @property
    def is_previewable(self) -> bool:
        return self.content_type in PREVIEWABLE_TYPES

    @property
    def open_url(self) -> str:
        """Where a reviewer opens the file: its preview where there is one."""
        return self.preview_url if self.is_previewable else self.download_url


_uploader, _withdrawer = aliased(User), aliased(User)
_FILES = (select(Evidence.id, Evidence.progress_update_id, Evidence.original_name, Evidence.size,
                 Evidence.content_type, Evidence.sha256, _uploader.name, Evidence.uploaded_at, Evidence.withdrawn,
                 _withdrawer.name, Evidence.withdraw_reason, _uploader.unit_id)
          .join(_uploader, _uploader.id == Evidence.uploaded_by_id)
          .outerjoin(_withdrawer, _withdrawer.id == Evidence.withdrawn_by_id)
          .where(Evidence.item_id == bindparam("item_id"))
          .order_by(Evidence.uploaded_at, Evidence.id))


def evidence_files(item_id: int) -> list[EvidenceFile]:
    """The item's evidence files, oldest first, withdrawn ones included."""
    rows = db.session.connection().execute(_FILES, {"item_id": item_id}).all()
    download = link_maker("evidence.download", "evidence_id", item_id=item_id)
    preview = link_maker("evidence.preview", "evidence_id", item_id=item_id)
    withdraw = link_maker("evidence.withdraw", "evidence_id", item_id=item_id)
    return [EvidenceFile(*row, download(row[0]), preview(row[0]), withdraw(row[0])) for row in rows]


def by_update(files: list[EvidenceFile]) -> dict[int | None, list[EvidenceFile]]:
    """The files under each progress update (key: its id; None: attached to the item itself)."""
    grouped: dict[int | None, list[EvidenceFile]] = {}
    for f in files:
        grouped.setdefault(f.progress_update_id, []).append(f)
    return grouped


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
    return [(row, row[2]) for row in db.session.connection().execute(_REQUIREMENTS, {"item_id": item_id})]


def page_part(item, user) -> dict:
    """The item page's variables for its files and checklist (forms only where they are shown)."""
    files = evidence_files(item.id)
    checklist = requirements(item.id)
    may_attach = item.can_attach_evidence(user)
    attach_form = None
    if may_attach:
        attach_form = AttachForm.shown()
        attach_form.requirement_id.choices = [("", "—")] + [(str(entry.id), entry.title) for entry, _n in checklist]
    return {"files_by_update": by_update(files), "current_files": [f for f in files if not f.withdrawn],
            "requirements": checklist, "may_attach": may_attach, "attach_form": attach_form,
            "withdrawable": {f.id for f in files
                             if not f.withdrawn and item.can_withdraw_evidence(user, f.uploader_unit_id)}}


hooks.page_parts.append(page_part)
