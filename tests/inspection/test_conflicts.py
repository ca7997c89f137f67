"""Someone else saves the item while an inspector decides: the inspector is told, nothing is saved."""
import datetime as dt

import pytest
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from tracker.auth.models import Role
from tracker.inspection.models import ExtensionRequest, ExtensionStatus
from tracker.items.models import Item, Status

D = dt.timedelta
STALE = "Someone else changed this item"


@pytest.fixture
def someone_else_saves_first():
    """Just before the request's flush, another writer bumps the item's version (as a concurrent
    save would), so the request's own UPDATE finds the version it read gone."""
    pending = []

    def bump(session, _context, _instances):
        if not pending:
            return
        pending.clear()
        session.connection().execute(update(Item.__table__).values(version=Item.__table__.c.version + 1))
    event.listen(Session, "before_flush", bump)
    yield lambda: pending.append(True)
    event.remove(Session, "before_flush", bump)


@pytest.fixture
def desk(make, login_as):
    lead = make.unit("县教育局")
    head = login_as(make.user(Role.HEAD, unit=lead, language="en"))
    inspector = login_as(make.user(Role.INSPECTOR, language="en"))
    return lead, head, inspector


def test_approving_an_extension_that_lost_a_race_shows_the_conflict_page(desk, make, db, today,
                                                                         someone_else_saves_first):
    lead, head, inspector = desk
    item = make.item(status=Status.IN_PROGRESS, lead_unit=lead, deadline=today + D(days=10))
    head.post(f"/items/{item.id}/extension", {"new_deadline": (today + D(days=90)).isoformat(),
                                              "reason": "用地审批未完成"})
    request = db.session.query(ExtensionRequest).one()
    someone_else_saves_first()
    page = inspector.post(f"/items/{item.id}/extension/{request.id}/approve", {"comment": ""})
    assert page.status_code == 409
    assert STALE in page.text
    db.session.expire_all()
    assert db.session.get(ExtensionRequest, request.id).status == ExtensionStatus.PENDING
    assert db.session.get(Item, item.id).deadline == today + D(days=10)


def test_setting_listed_supervision_that_lost_a_race_shows_the_conflict_page(desk, make, db,
                                                                            someone_else_saves_first):
    lead, _head, inspector = desk
    item = make.item(status=Status.IN_PROGRESS, lead_unit=lead)
    someone_else_saves_first()
    page = inspector.post(f"/items/{item.id}/listed/on")
    assert page.status_code == 409
    assert STALE in page.text
    db.session.expire_all()
    assert not db.session.get(Item, item.id).listed_supervision
