"""Submitting an item for closure waits on its parts: refused while one is not reported done,
allowed when the lead unit's head gives a reason (journaled, shown to the inspector)."""
import re

from sqlalchemy import select

from tracker.items.models import Item, Status
from tracker.journal import JournalEntry
from tracker.parts.models import Part, PartStatus


def _submit(browser, item_id, reason=""):
    return browser.post(f"/items/{item_id}/actions/submit_for_closure", {"reason": reason}, follow_redirects=True)


def _status(db, item_id):
    db.session.expire_all()
    return db.session.get(Item, item_id).status


def _finish(crew, db, *, leave=()):
    """Each cooperating unit's head acknowledges and reports its part, except the units in `leave`;
    the lead unit acknowledges the item; the item has evidence."""
    from tests.factories import Factory
    lead = crew.login(crew.lead_head)
    lead.post(f"/items/{crew.item.id}/actions/acknowledge")
    Factory(db).evidence(db.session.get(Item, crew.item.id))
    for unit, head in zip(crew.units, crew.heads):
        if unit.name in leave:
            continue
        part = db.session.scalar(select(Part).where(Part.item_id == crew.item.id, Part.unit_id == unit.id))
        browser = crew.login(head)
        browser.post(f"/items/{crew.item.id}/parts/{part.id}/steps/acknowledge")
        browser.post(f"/items/{crew.item.id}/parts/{part.id}/steps/done", {"text": f"{unit.name}已完成"})
    return lead


def test_submission_is_refused_while_a_part_is_not_done_and_names_the_units(handed_out, db):
    crew = handed_out
    lead = _finish(crew, db, leave=("县财政局", "县住建局"))
    page = lead.get(f"/items/{crew.item.id}")
    assert "Parts not reported done: 县住建局 and 县财政局." in page.text or "Parts not reported done:" in page.text
    response = _submit(lead, crew.item.id)
    assert "Not every cooperating unit has reported its part done" in response.text
    assert "县财政局（Waiting for acknowledgement）" in response.text and "县住建局" in response.text
    assert "县发改委（" not in response.text
    assert _status(db, crew.item.id) == Status.IN_PROGRESS


def test_every_part_done_the_lead_unit_submits_and_the_inspector_closes(handed_out, db):
    crew = handed_out
    lead = _finish(crew, db)
    response = _submit(lead, crew.item.id)
    assert _status(db, crew.item.id) == Status.SUBMITTED, response.text
    inspector = crew.login(crew.inspector)
    inspector.post(f"/items/{crew.item.id}/actions/close_item", {"result": "rectified", "opinion": "符合要求"})
    assert _status(db, crew.item.id) == Status.CLOSED


def test_staff_cannot_override_open_parts(handed_out, db):
    crew = handed_out
    _finish(crew, db, leave=("县财政局",))
    crew.item.lead_unit.signoff_required = False  # staff submit straight to the inspectors
    db.session.commit()
    response = _submit(crew.login(crew.staff), crew.item.id, reason="财政资金已纳入预算")
    assert "Only the lead unit&#39;s head may submit while parts are not done." in response.text
    assert _status(db, crew.item.id) == Status.IN_PROGRESS
    assert db.session.scalar(select(Part.override_reason).where(Part.override_reason.is_not(None))) is None


def test_the_lead_head_submits_with_a_reason_which_is_journaled_and_shown_to_the_inspector(handed_out, db):
    crew = handed_out
    lead = _finish(crew, db, leave=("县财政局",))
    page = lead.get(f"/items/{crew.item.id}")
    assert "To submit anyway, say why" in page.text
    _submit(lead, crew.item.id, reason="资金已纳入明年预算，不影响验收")
    assert _status(db, crew.item.id) == Status.SUBMITTED
    entry = db.session.scalar(select(JournalEntry).where(JournalEntry.action == "override_part"))
    assert entry.note == "资金已纳入明年预算，不影响验收" and entry.changes["unit"] == [None, "县财政局"]
    page = crew.login(crew.inspector).get(f"/items/{crew.item.id}")
    override = re.search(r'id="parts-override">(.*?)</div>', page.text, re.S).group(1)
    assert "县财政局" in override and "资金已纳入明年预算，不影响验收" in override
    # The inspector may close it: what submitting required still holds.
    crew.login(crew.inspector).post(f"/items/{crew.item.id}/actions/close_item",
                                    {"result": "rectified", "opinion": "同意销号"})
    assert _status(db, crew.item.id) == Status.CLOSED


def test_the_review_queue_shows_which_parts_a_submission_went_without_and_why(handed_out, db):
    crew = handed_out
    lead = _finish(crew, db, leave=("县财政局", "县住建局"))
    _submit(lead, crew.item.id, reason="两单位资金已落实，待拨付")
    assert _status(db, crew.item.id) == Status.SUBMITTED
    queue = crew.login(crew.inspector).get("/review").text
    row = re.search(r'<tr><td data-label="[^"]*">%d</td>(.*?)</tr>' % crew.item.id, queue, re.S).group(1)
    override = re.search(r'class="sub parts-override">(.*?)</div>', row, re.S).group(1)
    assert "Submitted while parts were not done" in override
    assert "县财政局" in override and "县住建局" in override and "县发改委" not in override
    assert "两单位资金已落实，待拨付" in override and crew.lead_head.name in override


def test_the_review_queue_says_nothing_of_parts_for_a_submission_with_every_part_done(handed_out, db):
    crew = handed_out
    _submit(_finish(crew, db), crew.item.id)
    queue = crew.login(crew.inspector).get("/review").text
    assert crew.item.title in queue and "Submitted while parts were not done" not in queue


def test_a_returned_item_needs_the_override_again(handed_out, db):
    crew = handed_out
    lead = _finish(crew, db, leave=("县财政局",))
    _submit(lead, crew.item.id, reason="资金已纳入预算")
    crew.login(crew.inspector).post(f"/items/{crew.item.id}/actions/return_item", {"reason": "请补充财政局反馈"})
    assert _status(db, crew.item.id) == Status.RETURNED
    response = _submit(lead, crew.item.id)
    assert "Not every cooperating unit has reported its part done" in response.text
    assert _status(db, crew.item.id) == Status.RETURNED


def test_cancelling_the_item_cancels_its_open_parts(handed_out, db):
    crew = handed_out
    crew.login(crew.admin).post(f"/items/{crew.item.id}/actions/cancel", {"reason": "重复事项"})
    db.session.expire_all()
    statuses = set(db.session.scalars(select(Part.status).where(Part.item_id == crew.item.id)))
    assert statuses == {PartStatus.CANCELLED}
