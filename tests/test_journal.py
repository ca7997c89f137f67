"""The journal is append-only and records the actor and the old and new values."""
import pytest

from tracker.auth.models import Role
from tracker.items.models import Status
from tracker.journal import JournalEntry


def test_journal_entries_cannot_be_changed_or_deleted(app, db, make, login_as):
    lead = make.unit()
    item = make.item(status=Status.SUBMITTED, lead_unit=lead)
    inspector = make.user(Role.INSPECTOR)
    login_as(inspector).post(f"/items/{item.id}/actions/return_item", {"reason": "材料不全"})
    entry = db.session.query(JournalEntry).filter_by(item_id=item.id).one()
    assert entry.actor_id == inspector.id and entry.note == "材料不全"
    assert entry.changes["status"] == ["submitted", "returned"]
    entry.note = "篡改"
    with pytest.raises(RuntimeError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.query(JournalEntry).filter_by(item_id=item.id).one())
    with pytest.raises(RuntimeError):
        db.session.commit()
    db.session.rollback()


def test_item_history_is_visible_to_its_unit(login_as, make):
    lead = make.unit()
    item = make.item(status=Status.IN_PROGRESS, lead_unit=lead, progress=10)
    head = login_as(make.user(Role.HEAD, unit=lead, name="张股长"))
    head.post(f"/items/{item.id}/progress", {"body": "进展", "percent": "30", "submission_key": "k"})
    page = head.get(f"/items/{item.id}").text
    assert "张股长" in page and "<del>10%</del>" in page and "<ins>30%</ins>" in page


def test_sign_in_is_journaled(browser, make, db):
    user = make.user(Role.LEADER)
    browser.login(user.username)
    assert db.session.query(JournalEntry).filter_by(action="sign_in", actor_id=user.id).count() == 1
