"""Milestones: admins plan them, the lead unit marks them reached, all journaled."""
import datetime as dt

from tracker.auth.models import Role
from tracker.items.models import Milestone, Status
from tracker.journal import JournalEntry


def test_admin_adds_and_lead_unit_completes_a_milestone(login_as, make, db, today):
    lead = make.unit()
    item = make.item(status=Status.IN_PROGRESS, lead_unit=lead)
    admin = login_as(make.user(Role.ADMIN))
    due = today + dt.timedelta(days=20)
    assert admin.post(f"/items/{item.id}/milestones", {"title": "完成项目立项", "due_on": due.isoformat()}).status_code == 302
    milestone = db.session.query(Milestone).one()
    head = login_as(make.user(Role.HEAD, unit=lead))
    page = head.get(f"/items/{item.id}").text
    assert "完成项目立项" in page and f"/milestones/{milestone.id}/done" in page
    head.post(f"/items/{item.id}/milestones/{milestone.id}/done")
    db.session.expire_all()
    assert db.session.get(Milestone, milestone.id).done
    actions = {e.action for e in db.session.query(JournalEntry).filter_by(item_id=item.id)}
    assert {"add_milestone", "complete_milestone"} <= actions


def test_bad_milestone_input_is_refused(login_as, make, db):
    item = make.item()
    admin = login_as(make.user(Role.ADMIN))
    for data in ({"title": "", "due_on": "2026-05-01"}, {"title": "x" * 201, "due_on": "2026-05-01"},
                 {"title": "立项", "due_on": "not-a-date"}):
        assert admin.post(f"/items/{item.id}/milestones", data).status_code == 422
    assert db.session.query(Milestone).count() == 0


def test_others_cannot_plan_or_complete_milestones(login_as, make, db, today):
    lead, partner = make.unit(), make.unit()
    item = make.item(lead_unit=lead, cooperating=[partner])
    milestone = Milestone(item=item, title="阶段一", due_on=today)
    db.session.add(milestone)
    db.session.commit()
    partner_head = login_as(make.user(Role.HEAD, unit=partner))
    partner_head.post(f"/items/{item.id}/milestones", {"title": "私自添加", "due_on": today.isoformat()})
    partner_head.post(f"/items/{item.id}/milestones/{milestone.id}/done")
    stranger = login_as(make.user(Role.HEAD))
    assert stranger.post(f"/items/{item.id}/milestones/{milestone.id}/done").status_code == 404
    db.session.expire_all()
    assert db.session.query(Milestone).count() == 1 and not db.session.get(Milestone, milestone.id).done
