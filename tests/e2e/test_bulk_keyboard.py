"""Bulk hand-out (批量交办) from the keyboard only (Tab, Space, Enter) on a phone-sized screen
(390×844): tick two drafts on the ledger, choose hand out, check, confirm, read the summary.
Screenshot: test-artifacts/screenshots/bulk-keyboard-phone.png."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.factories import Factory
from tracker.auth.models import User
from tracker.extensions import db
from tracker.items.models import Item, Status

WIDTH, HEIGHT = 390, 844


def tab_to(page, selector: str, limit: int = 400) -> None:
    """Press Tab until the element `selector` names has the focus (a keyboard user's way there)."""
    target = page.locator(selector)
    expect(target).to_have_count(1)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_an_admin_hands_out_two_drafts_with_the_keyboard_on_a_phone(app, open_as, live_server, shots):
    with app.app_context():
        drafts = db.session.query(Item).filter(Item.status == Status.DRAFT).order_by(Item.id).limit(2).all()
        if len(drafts) < 2:      # the demo has one draft; a second, as an import would leave it
            drafts.append(Factory(db).item(status=Status.DRAFT, lead_unit=drafts[0].lead_unit,
                                           title="改善农村小规模学校办学条件"))
        for draft in drafts:     # both ready to hand out (a missing owner is another test's matter)
            if draft.owner_id is None:
                draft.owner_id = db.session.query(User.id).filter(
                    User.unit_id == draft.lead_unit_id, User.active.is_(True)).order_by(User.id).limit(1).scalar()
        db.session.commit()
        ids, titles = [d.id for d in drafts], [d.title for d in drafts]
        db.session.remove()
    page = open_as("admin", width=WIDTH)
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    page.goto(f"{live_server}/items?status=draft")
    for item_id in ids:
        tab_to(page, f'input[name="ids"][value="{item_id}"]')
        page.keyboard.press("Space")
        expect(page.locator(f'input[name="ids"][value="{item_id}"]')).to_be_checked()
    expect(page.locator("#bulk-operation")).to_have_value("assign")          # hand out is the first choice
    expect(page.locator('input[name="scope"][value="selected"]')).to_be_checked()
    tab_to(page, "#bulk-form button[type=submit]")
    page.keyboard.press("Enter")

    expect(page.locator(".lead")).to_contain_text("2")
    rows = page.locator("#bulk-items tbody tr")
    expect(rows).to_have_count(2)
    for title in titles:
        expect(page.locator("#bulk-items")).to_contain_text(title)
    tab_to(page, 'button[name="step"][value="check"]')
    page.keyboard.press("Enter")
    expect(page.locator("#bulk-summary")).to_contain_text("交办 2 项")
    tab_to(page, 'button[name="step"][value="confirm"]')
    page.keyboard.press("Enter")

    expect(page.locator(".flash-success")).to_contain_text("已完成：交办 2 项")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH + 1, f"the page is {width}px wide on a {WIDTH}px screen"
    page.screenshot(path=str(shots / "bulk-keyboard-phone.png"), full_page=True)
    with app.app_context():
        assert {db.session.get(Item, i).status for i in ids} == {Status.ASSIGNED}
        db.session.remove()
