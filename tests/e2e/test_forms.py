"""Forms as browsers treat them: Back after posting, then posting the restored form again."""
from __future__ import annotations

from playwright.sync_api import expect

from tracker.extensions import db
from tracker.items.models import ProgressUpdate

TEXT = "第二批教师已到岗（后退后再次提交）"


def test_posting_progress_again_after_back_creates_no_second_entry(app, open_as, live_server, edu_item_id):
    item_id = edu_item_id
    page = open_as("head-edu")
    page.goto(f"{live_server}/items/{item_id}")
    page.fill("#body", TEXT)
    page.fill("#percent", "60")
    page.click(".progress-form [type=submit]")
    page.wait_for_load_state()
    expect(page.locator(".timeline").first).to_contain_text(TEXT)
    page.go_back()
    page.wait_for_load_state()
    if page.input_value("#body") != TEXT:  # a browser that restores nothing: the person types it again
        page.fill("#body", TEXT)
        page.fill("#percent", "60")
    page.click(".progress-form [type=submit]")
    page.wait_for_load_state()
    with app.app_context():
        bodies = [b for (b,) in db.session.query(ProgressUpdate.body).filter_by(item_id=item_id)]
        db.session.remove()
    assert bodies.count(TEXT) == 1
