"""A head on a phone (375×812): a compact menu, an item's actions and progress form before its
facts and history, a photo posted from the camera picker, a readable dashboard. Screenshots under
test-artifacts/screenshots/phone-*.png."""
from __future__ import annotations

import base64

from playwright.sync_api import expect


PHONE = 375
# A 1×1 PNG, as a photo taken with the phone would arrive (its bytes are checked to be an image).
PHOTO = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def top(page, selector: str) -> float:
    return page.eval_on_selector(selector, "el => el.getBoundingClientRect().top + window.scrollY")


def test_the_menu_folds_and_my_items_fill_the_first_screen(open_as, live_server, shots):
    page = open_as("head-edu", width=PHONE)
    page.set_viewport_size({"width": PHONE, "height": 812})
    page.goto(f"{live_server}/my")
    nav_height = page.eval_on_selector(".topbar", "el => el.getBoundingClientRect().height")
    assert nav_height < 812 * 0.2, f"the header takes {nav_height:.0f} px of the first screen"
    expect(page.locator("#main-nav")).to_be_hidden()
    page.screenshot(path=str(shots / "phone-my-items.png"))
    page.click(".menu-toggle")
    expect(page.locator("#main-nav")).to_be_visible()
    expect(page.locator(".menu-toggle")).to_have_attribute("aria-expanded", "true")
    page.screenshot(path=str(shots / "phone-menu.png"))


def test_an_items_actions_and_progress_form_come_before_its_history(open_as, live_server, shots, edu_item_id):
    item_id = edu_item_id
    page = open_as("head-edu", width=PHONE)
    page.set_viewport_size({"width": PHONE, "height": 812})
    page.goto(f"{live_server}/items/{item_id}")
    actions, form, facts, history = (top(page, s) for s in (".actions-card", ".progress-form", ".facts",
                                                           ".journal-card"))
    assert actions < form < facts < history
    assert actions < 812  # what to do is on the first screen
    file_input = page.locator(".progress-form input[type=file]")
    assert "image/*" in file_input.get_attribute("accept")  # the phone offers its camera
    page.screenshot(path=str(shots / "phone-item.png"))
    page.fill("#body", "操场改造完成，附现场照片")
    page.fill("#percent", "70")
    file_input.set_input_files(files=[{"name": "现场.png", "mimeType": "image/png", "buffer": PHOTO}])
    page.screenshot(path=str(shots / "phone-posting-progress.png"))
    page.click(".progress-form [type=submit]")
    page.wait_for_load_state()
    expect(page.locator(".timeline").first).to_contain_text("操场改造完成，附现场照片")
    expect(page.locator(".timeline img.thumb").first).to_be_visible()


def test_the_dashboard_reads_on_a_phone(open_as, live_server, shots):
    page = open_as("leader", width=PHONE)
    page.set_viewport_size({"width": PHONE, "height": 812})
    page.goto(f"{live_server}/reports/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE + 5, f"the dashboard scrolls sideways ({width} px)"
    sizes = page.eval_on_selector_all("svg text", "els => els.map(e => e.getBoundingClientRect().height)")
    assert sizes and min(sizes) >= 9, f"chart labels {min(sizes or [0]):.1f} px high"
    page.screenshot(path=str(shots / "phone-dashboard.png"), full_page=True)


def test_a_long_paste_is_kept_whole_and_counted_against_the_limit(open_as, live_server, edu_item_id):
    item_id = edu_item_id
    page = open_as("head-edu", width=PHONE)
    page.goto(f"{live_server}/items/{item_id}")
    page.fill("#body", "已完成" * 1880)
    assert page.eval_on_selector("#body", "el => el.value.length") == 5640  # not cut to 5,000
    counter = page.locator('.counter[data-counts="body"]')
    expect(counter).to_have_text("5640 / 5000")
    expect(counter).to_have_class("counter over")
