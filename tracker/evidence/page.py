"""The item page's evidence part: the item's files as plain rows, with their links, and the form
to attach more (registered in items.hooks; items does not import evidence)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased

from tracker.auth.models import User
from tracker.evidence.forms import AttachForm
from tracker.evidence.models import PREVIEWABLE_TYPES, Evidence
from tracker.extensions import db
from tracker.i18n import format_moment, format_size
from tracker.i18n import lazy_gettext as _l
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
    rows = db.session.connection().execute(_FILES, {"item_id": item_id}).all()
    download = link_maker("evidence.download", "evidence_id", item_id=item_id)
    preview = link_maker("evidence.preview", "evidence_id", item_id=item_id)
    withdraw = link_maker("evidence.withdraw", "evidence_id", item_id=item_id)
    return [EvidenceFile(*row, download(row[0]), preview(row[0]), withdraw(row[0])) for row in rows]


def file_lists(files: list[EvidenceFile], may_attach: bool, csrf: str) -> dict[int | None, Markup]:
    """The lists of files under each progress update (key: its id; None: attached to the item itself),
    as HTML. A page has up to one list per update: as Jinja macro calls they cost more than the SQL of
    the whole page. Everything the users wrote (names, reasons) is escaped."""
    words = {key: Markup(text) for key, text in _FILE_WORDS.items()}
    by_update: dict[int | None, list[str]] = {}
    for f in files:
        by_update.setdefault(f.progress_update_id, []).append(_file_html(f, may_attach, csrf, words))
    return {key: Markup(f'\n<ul class="files">\n{"".join(items)}</ul>\n') for key, items in by_update.items()}


_FILE_WORDS = {"preview": _l("Preview"), "withdrawn": _l("Withdrawn"), "withdraw": _l("Withdraw…"),
               "confirm": _l("Withdraw this file? It stays on record, marked withdrawn."), "reason": _l("Reason"),
               "submit": _l("Withdraw file"), "withdrawn_by": _l("Withdrawn by %(name)s: %(reason)s")}


def _file_html(f: EvidenceFile, may_attach: bool, csrf: str, words: dict[str, Markup]) -> str:
    name, preview = escape(f.original_name), escape(f.preview_url)
    html = [f'  <li class="file{" withdrawn" if f.withdrawn else ""}">\n']
    if not f.withdrawn and f.is_previewable and f.content_type.startswith("image/"):
        html.append(f'    <a href="{preview}" target="_blank" rel="noopener"><img class="thumb" src="{preview}" '
                    f'alt="{name}" loading="lazy"></a>\n')
    html.append(f'    <div class="file-main">\n      <a href="{escape(f.download_url)}" class="file-name">{name}</a>\n')
    if f.content_type == "application/pdf" and not f.withdrawn:
        html.append(f' · <a href="{preview}" target="_blank" rel="noopener">{words["preview"]}</a>\n')
    if f.withdrawn:
        html.append(f'<span class="tag">{words["withdrawn"]}</span>\n')
    sha256 = escape(f.sha256)
    html.append(f'      <div class="meta">{escape(format_size(f.size))} · {escape(f.uploaded_by)} · '
                f'{format_moment(f.uploaded_at, "yyyy-MM-dd HH:mm")}\n'
                f'        · <span title="SHA-256 {sha256}">SHA-256 <code>{sha256[:12]}…</code></span></div>\n')
    if f.withdrawn:
        said = words["withdrawn_by"] % {"name": f.withdrawn_by, "reason": f.withdraw_reason}
        html.append(f'      <div class="meta">{said}</div>\n')
    if may_attach and not f.withdrawn:
        html.append(
            f'      <details class="withdraw"><summary>{words["withdraw"]}</summary>\n'
            f'        <form method="post" action="{escape(f.withdraw_url)}" data-confirm="{words["confirm"]}">\n'
            f'          <input type="hidden" name="csrf_token" value="{escape(csrf)}">\n'
            f'          <label for="withdraw-{f.id}">{words["reason"]}</label>\n'
            f'          <textarea id="withdraw-{f.id}" name="reason" rows="2" maxlength="2000" required></textarea>\n'
            f'          <button type="submit" class="danger small">{words["submit"]}</button>\n'
            f'        </form>\n      </details>\n')
    html.append("    </div>\n  </li>\n")
    return "".join(html)


def page_part(item, user, csrf: str) -> dict:
    """The item page's variables for its files (the form only where it is shown)."""
    files = evidence_files(item.id)
    may_attach = item.can_attach_evidence(user)
    return {"file_lists": file_lists(files, may_attach, csrf), "current_files": [f for f in files if not f.withdrawn],
            "may_attach": may_attach,
            # Shown only: the page writes its one CSRF token into the form; the attach view checks it.
            "attach_form": AttachForm(meta={"csrf": False}) if may_attach else None}


hooks.page_parts.append(page_part)
