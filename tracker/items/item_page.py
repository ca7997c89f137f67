"""What the item page lists (progress updates, evidence files, the journal), read as plain rows.

An item at province scale has dozens of updates, files and journal entries. Built as ORM objects with
their users, and each given its links by `url_for`, they cost several times the page's SQL; plain
rows of the shown columns, with links made from one `url_for` per kind of link, do not.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import aliased

from tracker.auth.models import User
from tracker.evidence.models import PREVIEWABLE_TYPES, Evidence
from tracker.extensions import db
from tracker.inspection.models import EvidenceRequirement, ExtensionRequest, Recheck
from tracker.items import presentation
from tracker.items.models import Milestone, ProgressUpdate
from tracker.journal import JournalEntry
from tracker.links import link_maker

# The statements are built once: building one costs more than running it.
_UPDATES = (select(ProgressUpdate.id, ProgressUpdate.created_at, ProgressUpdate.percent, ProgressUpdate.body,
                   User.name.label("author"))
            .outerjoin(User, User.id == ProgressUpdate.author_id)
            .where(ProgressUpdate.item_id == bindparam("item_id"))
            .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc()))


def _rows(statement, item_id: int) -> list:
    """The rows of one of this module's statements for the item. Run on the session's connection: plain
    rows need nothing of the ORM's result handling, which costs more than most of these statements."""
    return db.session.connection().execute(statement, {"item_id": item_id}).all()


def progress_updates(item_id: int) -> list:
    """The item's progress updates, newest first, with their author's name."""
    return _rows(_UPDATES, item_id)


# In the order of Item.milestones.
_MILESTONES = (select(Milestone.id, Milestone.title, Milestone.due_on, Milestone.done)
               .where(Milestone.item_id == bindparam("item_id")).order_by(Milestone.due_on))


def milestones(item_id: int) -> list:
    """The item's milestones, earliest first."""
    return _rows(_MILESTONES, item_id)


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
                 _withdrawer.name, Evidence.withdraw_reason)
          .join(_uploader, _uploader.id == Evidence.uploaded_by_id)
          .outerjoin(_withdrawer, _withdrawer.id == Evidence.withdrawn_by_id)
          .where(Evidence.item_id == bindparam("item_id"))
          .order_by(Evidence.uploaded_at, Evidence.id))


def evidence_files(item_id: int) -> list[EvidenceFile]:
    """The item's evidence files, oldest first, withdrawn ones included."""
    rows = _rows(_FILES, item_id)
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


_JOURNAL = (select(JournalEntry.id, JournalEntry.at, JournalEntry.action, JournalEntry.changes, JournalEntry.note,
                   User.name.label("actor_name"))
            .outerjoin(User, User.id == JournalEntry.actor_id)
            .where(JournalEntry.item_id == bindparam("item_id"))
            .order_by(JournalEntry.at.desc(), JournalEntry.id.desc()))


def journal(item_id: int) -> list[dict]:
    """The item's journal, newest first, as `presentation.journal_rows` (entries are plain rows
    with the actor's name as `actor_name`)."""
    return presentation.journal_rows(_rows(_JOURNAL, item_id))


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
