"""The item page at scale: its cost in SQL statements does not grow with what the item has collected,
for any of the roles whose page differs (buttons, forms, withdraw links)."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.test_performance import counted
from tracker import clock
from tracker.auth.models import Role
from tracker.inspection.models import EvidenceRequirement, ExtensionRequest, ExtensionStatus
from tracker.items.models import ProgressUpdate, Status
from tracker.journal import JournalEntry


def _grow(db, make, item, head, inspector, rows: int) -> None:
    """`rows` progress updates, each with a file, journal entries, checklist entries and decided extensions."""
    for n in range(rows):
        update = ProgressUpdate(item=item, author_id=head.id, body=f"进展 <b>{n}</b>", percent=n,
                                submission_key=f"grow{item.id}-{n}", created_at=clock.now())
        db.session.add(update)
        db.session.flush()
        evidence = make.evidence(item, uploader=head, name=f"材料{n}.pdf")
        evidence.progress_update_id = update.id
        db.session.add(EvidenceRequirement(item_id=item.id, title=f"清单{n}", created_by_id=inspector.id))
        db.session.add(ExtensionRequest(item_id=item.id, requested_by_id=head.id, current_deadline=item.deadline,
                                        requested_deadline=item.deadline + dt.timedelta(days=n + 1), reason="理由",
                                        status=ExtensionStatus.REFUSED, decided_by_id=inspector.id,
                                        decided_at=clock.now(), comment="不同意"))
        db.session.add(JournalEntry(actor_id=inspector.id, object_type="item", object_id=item.id, item_id=item.id,
                                    action="update", changes={"owner_id": [None, head.id], "title": ["a", "b"]},
                                    note=f"备注{n}"))
    db.session.commit()


def _statements(app, db, make, login_as, role: Role, rows: int) -> int:
    unit = make.unit()
    head = make.user(Role.HEAD, unit=unit)
    inspector = make.user(Role.INSPECTOR)
    item = make.item(status=Status.IN_PROGRESS, lead_unit=unit, owner=head)
    _grow(db, make, item, head, inspector, rows)
    viewer = {Role.HEAD: head, Role.INSPECTOR: inspector}.get(role) or make.user(role, unit=unit)
    browser = login_as(viewer)
    browser.get(f"/items/{item.id}")  # warm: first-request work is not per-row work
    with counted(db.engine) as statements:
        response = browser.get(f"/items/{item.id}")
    assert response.status_code == 200
    assert "材料0.pdf" in response.text and "进展 &lt;b&gt;0&lt;/b&gt;" in response.text
    return len(statements)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.HEAD, Role.STAFF, Role.INSPECTOR])
def test_item_page_statements_do_not_grow_with_updates_files_and_journal(app, db, make, login_as, role):
    """An item with four times as many updates, files, journal entries and requests costs the same queries."""
    few = _statements(app, db, make, login_as, role, rows=2)
    many = _statements(app, db, make, login_as, role, rows=8)
    assert many == few
    assert many <= 13, many
