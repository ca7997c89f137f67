"""Attaching and withdrawing evidence. Files are checked and written before the database rows,
and removed again if the rows cannot be written: no row without its file. (Bytes placed by a
request whose commit fails afterwards stay unreferenced; they are never a row without its file.)"""
from __future__ import annotations

import datetime as dt

import logging
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from tracker import clock, journal, uow
from tracker.auth.models import User
from tracker.errors import Invalid, Refused
from tracker.evidence import detect
from tracker.evidence.models import Evidence, EvidenceRequirement
from tracker.evidence.names import display_name
from tracker.evidence.storage import TooLarge, key_for, spool, storage
from tracker.extensions import db
from tracker.items import hooks
from tracker.items.models import LIMITS, WAITING_STATUSES, Item, ProgressUpdate, Status
from tracker.items.services import child_of

log = logging.getLogger(__name__)


@dataclass
class StagedFile:
    """An upload that passed every check, waiting in a temporary file."""

    temp: Path
    sha256: str
    size: int
    content_type: str
    name: str
    placed: bool = False  # True once this request put new bytes into the storage

    @property
    def key(self) -> str:
        return key_for(self.sha256)


def _limits() -> detect.ZipLimits:
    cfg = current_app.config
    return detect.ZipLimits(cfg["ZIP_MAX_ENTRIES"], cfg["ZIP_MAX_RATIO"], cfg["ZIP_MAX_TOTAL_MB"] * 1024 * 1024)


def stage(files: list[FileStorage]) -> list[StagedFile]:
    """Spool, hash and type-check every file; on the first bad one remove them all and raise Invalid."""
    max_mb = current_app.config["UPLOAD_MAX_FILE_MB"]
    staged: list[StagedFile] = []
    try:
        for upload in files:
            if upload is None or not upload.filename:  # an empty file input sends a nameless part
                continue
            shown = (upload.filename or "")[:200]
            try:
                temp, sha, size = spool(upload.stream, max_mb * 1024 * 1024)
            except TooLarge:
                raise Invalid({"files": _("“%(name)s” is larger than %(n)d MB.", name=shown, n=max_mb)})
            except OSError:
                log.exception("could not spool upload %r", shown)
                raise Invalid({"files": _("The file could not be saved (storage error). Nothing was saved; "
                                          "please try again later.")})
            staged.append(StagedFile(temp, sha, size, "", ""))
            if size == 0:
                raise Invalid({"files": _("“%(name)s” is empty.", name=shown)})
            try:
                content_type = detect.detect(temp, _limits())
            except detect.Refusal as exc:
                raise Invalid({"files": f"“{shown}”: {exc.message}"})
            staged[-1].content_type = content_type
            staged[-1].name = display_name(upload.filename, detect.EXTENSIONS[content_type])
    except BaseException:
        discard(staged)
        raise
    return staged


def discard(staged: list[StagedFile]) -> None:
    """Remove the temporary files. Bytes this request placed in the storage stay: another upload of
    the same file may already reference them in a transaction not yet committed; `sweep` removes
    them once no row can."""
    for item in staged:
        item.temp.unlink(missing_ok=True)


# No transaction lasts this long: bytes placed earlier and still unreferenced belong to nobody.
SWEEP_AFTER = dt.timedelta(hours=24)


def sweep(now: dt.datetime | None = None) -> int:
    """Delete stored files that no evidence row references, placed more than SWEEP_AFTER ago (the
    leftovers of uploads that failed after placing their bytes). Returns how many went."""
    cutoff = ((now or clock.real_now()) - SWEEP_AFTER).timestamp()
    store, removed = storage(), 0
    candidates = list(store.keys_placed_before(cutoff))
    for start in range(0, len(candidates), 500):
        batch = candidates[start:start + 500]
        referenced = set(db.session.scalars(select(Evidence.storage_key).where(Evidence.storage_key.in_(batch))))
        for key in batch:
            if key not in referenced:
                store.delete(key)
                removed += 1
    return removed


def add_rows(actor: User, item: Item, staged: list[StagedFile], update: ProgressUpdate | None = None,
             requirement_id: int | None = None, part_id: int | None = None) -> tuple[list[Evidence], list[str]]:
    """Place the files and add their rows and journal entries (the caller flushes or calls discard).

    Returns (new evidence and files now linked to the checklist entry, names of files the item
    already had). A file the item already has, uploaded again for a checklist entry, is linked to
    that entry (the same bytes satisfy it, wherever they were first attached); a withdrawn file
    uploaded again is attached anew. `part_id`: the cooperating unit's part the files are posted for."""
    rows = {row.sha256: row for row in db.session.scalars(select(Evidence).where(Evidence.item_id == item.id))}
    added, duplicates = [], []
    store = storage()
    for file in staged:
        if file.sha256 in rows and rows[file.sha256].withdrawn:
            file.temp.unlink(missing_ok=True)  # its bytes are stored: the file is attached again
            added.append(_attach_again(actor, item, rows[file.sha256], file.name, update, requirement_id, part_id))
            continue
        if file.sha256 in rows:
            file.temp.unlink(missing_ok=True)
            existing = rows[file.sha256]
            if requirement_id is not None and existing.requirement_id is None:
                _link(actor, item, existing, requirement_id)
                added.append(existing)
            else:
                duplicates.append(file.name)
            continue
        try:
            if store.exists(file.key):
                file.temp.unlink(missing_ok=True)
            else:
                store.put_file(file.key, file.temp)
                file.placed = True
        except OSError:
            log.exception("could not store %s", file.key)
            raise Invalid({"files": _("The file could not be saved (storage error). Nothing was saved; "
                                      "please try again later.")})
        evidence = Evidence(item=item, progress_update=update, storage_key=file.key, original_name=file.name,
                            size=file.size, content_type=file.content_type, sha256=file.sha256,
                            uploaded_by_id=actor.id, uploaded_at=clock.now(), requirement_id=requirement_id,
                            part_id=part_id)
        db.session.add(evidence)
        rows[file.sha256] = evidence
        db.session.flush()
        journal.record(actor, "attach_evidence", evidence,
                       {"file": [None, file.name], "sha256": [None, file.sha256], "size": [None, file.size]},
                       item_id=item.id)
        added.append(evidence)
    return added, duplicates


def _attach_again(actor: User, item: Item, evidence: Evidence, name: str, update: ProgressUpdate | None,
                  requirement_id: int | None, part_id: int | None = None) -> Evidence:
    """A withdrawn file uploaded again: the same row (one per file and item) is current again."""
    values = {"withdrawn": False, "withdrawn_at": None, "withdrawn_by_id": None, "withdraw_reason": None,
              "original_name": name, "uploaded_by_id": actor.id, "uploaded_at": clock.now(),
              "progress_update": update, "requirement_id": requirement_id, "part_id": part_id}
    changes = journal.apply_changes(evidence, values)
    journal.record(actor, "attach_evidence", evidence, {"file": [None, name], "withdrawn": changes.get("withdrawn")},
                   item_id=item.id)
    return evidence


def _link(actor: User, item: Item, evidence: Evidence, requirement_id: int) -> None:
    changes = journal.apply_changes(evidence, {"requirement_id": requirement_id})
    requirement = db.session.get(EvidenceRequirement, requirement_id)
    journal.record(actor, "link_evidence", evidence, changes,
                   note=f"{evidence.original_name} → {requirement.title}", item_id=item.id)


@uow.guarded
def attach(actor: User, item: Item, files: list[FileStorage],
           requirement_id: int | None = None) -> tuple[list[Evidence], list[str]]:
    """Attach files directly to an item, optionally for one entry of its required-evidence checklist."""
    if not item.can_attach_evidence(actor):
        raise Refused(_("Evidence cannot be added to this item now.") if item.can_view(actor)
                      else _("You may not add evidence to this item."))
    if requirement_id is not None:
        requirement = db.session.get(EvidenceRequirement, requirement_id)
        if requirement is None or requirement.item_id != item.id:
            raise Invalid({"requirement_id": _("Choose an entry of this item's checklist.")})
    staged = stage(files)
    if not staged:
        raise Invalid({"files": _("Choose at least one file.")})
    try:
        added, duplicates = add_rows(actor, item, staged, requirement_id=requirement_id)
        if added:
            item.last_activity_on = clock.today()
            uow.touch(item)  # an inspector deciding on the files as they were is told
        uow.flush(item.id)
    except BaseException:
        db.session.rollback()
        discard(staged)
        raise
    return added, duplicates


def evidence_for(item: Item, evidence_id: int) -> Evidence:
    """An evidence row of this (already permission-checked) item, else 404."""
    return child_of(item, Evidence, evidence_id)


@uow.guarded
def withdraw(actor: User, item: Item, evidence: Evidence, reason: str) -> None:
    """Mark a wrong file withdrawn (kept, never deleted), with a reason."""
    if not item.can_withdraw_evidence(actor, evidence.uploaded_by.unit_id):
        raise Refused(withdraw_refusal(actor, item))
    if evidence.withdrawn:
        raise Refused(_("This file is already withdrawn."))
    reason = (reason or "").strip()
    if not reason:
        raise Invalid({"reason": _("Give a reason.")})
    if len(reason) > LIMITS["reason"]:
        raise Invalid({"reason": _("At most %(n)d characters.", n=LIMITS["reason"])})
    changes = journal.apply_changes(evidence, {"withdrawn": True, "withdrawn_at": clock.now(),
                                               "withdrawn_by_id": actor.id, "withdraw_reason": reason})
    journal.record(actor, "withdraw_evidence", evidence, {"withdrawn": changes["withdrawn"]},
                   note=f"{evidence.original_name}: {reason}", item_id=item.id)
    uow.touch(item)  # a second withdrawal, or a decision taken on the files as they were, is told
    uow.flush(item.id)


def withdraw_refusal(actor: User, item: Item, evidence: Evidence | None = None) -> str:
    """Why `actor` may not withdraw a file of `item` (the page and the service say the same)."""
    if evidence is not None and evidence.withdrawn:
        return _("This file is already withdrawn.")
    if not item.can_view(actor):
        return _("You may not change this item's evidence.")
    if not item.is_open:
        return _("Evidence of a closed or cancelled item is frozen.")
    if item.status in WAITING_STATUSES and actor.role.can_work_on_items():
        return _("The item is waiting for the inspectors' decision on this evidence. Take the submission "
                 "back first, then withdraw the file.")
    return _("Only the unit that uploaded a file may withdraw it.")


def current_count(item: Item) -> int:
    from sqlalchemy import func
    return db.session.scalar(select(func.count()).select_from(Evidence).where(
        Evidence.item_id == item.id, Evidence.withdrawn.is_(False))) or 0


def _closure_refusal(item: Item) -> str | None:
    if current_count(item) == 0:
        return _("Attach at least one evidence file before submitting for closure.")
    return None


hooks.progress_files.append(hooks.ProgressFiles(stage=stage, add_rows=add_rows, discard=discard))
hooks.closure_checks.append(_closure_refusal)


def verify() -> list[tuple[Evidence, str]]:
    """Re-hash every stored file; return (evidence, 'missing' | 'altered') for each problem."""
    from tracker.evidence.storage import file_sha256
    store, problems, checked = storage(), [], {}
    for evidence in db.session.scalars(select(Evidence).order_by(Evidence.id)):
        if evidence.sha256 not in checked:
            if not store.exists(evidence.storage_key):
                checked[evidence.sha256] = "missing"
            else:
                with store.open(evidence.storage_key) as f:
                    checked[evidence.sha256] = None if file_sha256(f) == evidence.sha256 else "altered"
        if checked[evidence.sha256]:
            problems.append((evidence, checked[evidence.sha256]))
    return problems
