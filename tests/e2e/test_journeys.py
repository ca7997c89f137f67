"""The three user journeys, in a real browser, with what each person would check on screen."""
import datetime as dt
import re

from playwright.sync_api import expect

from tests.helpers import TODAY
from tests.evidence import samples

DEADLINE = (TODAY + dt.timedelta(days=40)).isoformat()
TITLE = "为乡镇学校补充专职音乐教师"


def _files(tmp_path):
    pdf = tmp_path / "招聘公告.pdf"
    pdf.write_bytes(samples.pdf("招聘公告"))
    photo = tmp_path / "面试现场.png"
    photo.write_bytes(samples.png(7))
    extra = tmp_path / "聘用名单.pdf"
    extra.write_bytes(samples.pdf("聘用名单"))
    return pdf, photo, extra


def _action(page, label: str, reason: str | None = None):
    """Open a folded action (if it needs input), fill it and confirm."""
    summary = page.locator("details.action-box summary", has_text=label)
    if summary.count():
        summary.first.click()
        box = page.locator("details.action-box[open]")
        if reason is not None:
            box.locator("textarea").fill(reason)
        box.locator("button[type=submit]").click()
    else:
        page.locator("div.action-box button[type=submit]", has_text=label).click()
    page.wait_for_load_state()


def test_item_from_creation_to_closure(open_as, live_server, tmp_path, shots):
    pdf, photo, extra = _files(tmp_path)

    # 1. The coordinator creates an item from a finding and assigns it.
    admin = open_as("admin")
    admin.goto(f"{live_server}/evaluations/")
    admin.get_by_role("link", name=re.compile("2019")).first.click()
    admin.locator("tr", has_text="教师结构性短缺").get_by_role("link", name="新增整改事项").click()
    admin.fill("#title", TITLE)
    admin.fill("#target", "每所乡镇学校至少一名专职音乐教师")
    admin.fill("#measures", "公开招聘、县域内交流轮岗")
    admin.select_option("#kind", "deadline")
    admin.select_option("#lead_unit_id", label="县教育局人事股")
    admin.select_option("#cooperating_unit_ids", label="县人社局")
    admin.select_option("#owner_id", label="县教育局人事股负责人 (县教育局人事股)")
    admin.fill("#deadline", DEADLINE)
    admin.get_by_role("button", name="保存").click()
    expect(admin.locator(".flash-success")).to_contain_text("待交办")
    item_url = admin.url.split("#")[0]
    _action(admin, "交办")
    expect(admin.locator(".badges")).to_contain_text("已交办")
    admin.goto(f"{live_server}/items?q={TITLE}")
    row = admin.locator("tr", has_text=TITLE)
    expect(row).to_contain_text("县教育局人事股")
    expect(row).to_contain_text("正常")          # 40 days ahead: green, said in words
    expect(row).to_contain_text(DEADLINE)
    admin.screenshot(path=str(shots / "ledger.png"), full_page=True)

    # 2. The head of the lead unit finds it, acknowledges, reports with a PDF and a photo, submits.
    head = open_as("head-edu-personnel")
    head.on("dialog", lambda dialog: dialog.accept())  # 申请销号 asks to confirm
    expect(head).to_have_url(re.compile("/my"))
    head.get_by_role("link", name=TITLE).click()
    _action(head, "签收")
    head.fill("#body", "招聘公告已发布，完成面试。")
    head.fill("#percent", "80")
    head.locator("form.upload-form").first.locator("input[type=file]").set_input_files([str(pdf), str(photo)])
    expect(head.locator(".chosen-files li")).to_have_count(2)
    head.get_by_role("button", name="报送整改进展").click()
    head.wait_for_url(re.compile(r"/items/\d+"))
    expect(head.locator(".timeline")).to_contain_text("招聘公告已发布")
    expect(head.locator(".timeline")).to_contain_text("招聘公告.pdf")
    expect(head.locator("img.thumb")).to_have_count(1)
    # The cooperating unit reports its part (会签) before the lead unit submits.
    partner = open_as("head-hrss")
    partner.goto(item_url)
    partner.get_by_role("button", name="签收任务").click()
    partner.locator(".part-card textarea[name=text]").fill("招聘计划已审核备案。")
    partner.get_by_role("button", name="反馈任务完成").click()
    expect(partner.locator("#parts-table")).to_contain_text("已反馈")
    head.reload()
    _action(head, "申请销号")
    expect(head.locator(".badges")).to_contain_text("已申请销号")
    head.screenshot(path=str(shots / "item.png"), full_page=True)

    stranger = open_as("head-disabled")
    response = stranger.goto(item_url)
    assert response.status == 404
    expect(stranger.locator("h1")).to_contain_text("页面不存在")

    # 3. The inspector returns it with a reason; the head adds evidence and resubmits; it is closed.
    inspector = open_as("inspector")
    inspector.on("dialog", lambda dialog: dialog.accept())
    inspector.goto(f"{live_server}/review")
    expect(inspector.locator("tr", has_text=TITLE)).to_contain_text("2")   # evidence count
    inspector.screenshot(path=str(shots / "review.png"), full_page=True)
    inspector.get_by_role("link", name=TITLE).click()
    expect(inspector.locator("#review-h")).to_be_visible()
    _action(inspector, "退回", reason="缺少聘用名单，请补充。")
    expect(inspector.locator(".badges")).to_contain_text("已退回")

    head.goto(item_url)
    expect(head.locator(".flash-error")).to_contain_text("缺少聘用名单")
    head.locator("#evidence ~ form.upload-form input[type=file]").set_input_files(str(extra))
    head.locator("#evidence ~ form.upload-form").get_by_role("button", name="上传").click()
    # The chosen file's name shows before sending; the success message only after the page reloads.
    expect(head.locator(".flash-success")).to_contain_text("已上传 1 个文件")
    expect(head.locator("a.file-name", has_text="聘用名单.pdf")).to_be_visible()
    _action(head, "申请销号")
    expect(head.locator(".badges")).to_contain_text("已申请销号")

    inspector.goto(item_url)
    _action(inspector, "销号")
    expect(inspector.locator(".badges")).to_contain_text("已销号")
    inspector.goto(f"{live_server}/items?status=closed")
    expect(inspector.locator("tr", has_text=TITLE)).to_contain_text("已销号")
    export = inspector.request.get(f"{live_server}/reports/ledger.xlsx?status=closed")
    assert export.ok
    import io

    import openpyxl
    workbook = openpyxl.load_workbook(io.BytesIO(export.body()), read_only=True)
    cells = [str(c) for row in workbook.active.iter_rows(values_only=True) for c in row if c is not None]
    workbook.close()
    assert any(TITLE in c for c in cells)
    inspector.goto(f"{live_server}/reports/")
    expect(inspector.locator("h1")).to_be_visible()
    inspector.screenshot(path=str(shots / "dashboard.png"), full_page=True)


def test_key_pages_in_english(open_as, live_server, shots):
    page = open_as("inspector", locale="en-US")
    page.get_by_role("link", name="English").click()      # the switcher on every page
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Ledger")
    page.goto(f"{live_server}/items")
    expect(page.locator("h1")).to_have_text("Rectification ledger")
    expect(page.locator("table.ledger")).to_contain_text("Overdue")
    page.get_by_role("link", name="推行书记校长交叉任职，落实党组织领导下的校长负责制").click()
    expect(page.locator("#actions-h")).to_have_text("Actions you can take")
    page.goto(f"{live_server}/review")
    expect(page.locator("h1")).to_have_text("Review queue")
    page.goto(f"{live_server}/items?lang=zh_CN")
    expect(page.locator("h1")).to_have_text("整改台账")


def test_phone_width_and_keyboard_only(open_as, live_server, shots):
    page = open_as("head-edu", width=375)
    page.goto(f"{live_server}/my")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 380, f"the page scrolls sideways at 375 px ({width} px)"
    page.screenshot(path=str(shots / "my-items-phone.png"), full_page=True)
    # Keyboard only: the skip link comes first and focus is visible.
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    # Every form field on the item page has a label.
    page.goto(f"{live_server}/my")
    page.locator("td.title-cell a").first.click()
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]):not([type=submit]), select, textarea')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.name)""")
    assert unlabelled == []


def test_long_and_right_to_left_titles_keep_the_layout(app, open_as, live_server):
    from tracker.extensions import db
    from tracker.items.models import Item
    long_title = "关于进一步加强乡镇学校音乐美术体育等紧缺学科专任教师补充配备工作" * 3 + "\u202eمرحبا\u202c"
    with app.app_context():
        item = db.session.query(Item).order_by(Item.id).first()
        item.title = long_title[:200]
        item_id = item.id
        db.session.commit()
        db.session.remove()
    page = open_as("admin", width=375)
    for path in ("/items", f"/items/{item_id}"):
        page.goto(f"{live_server}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 380, f"{path} scrolls sideways at 375 px ({width} px)"
