"""Cooperating units' parts in a real browser: the coordinator hands out an item with three
cooperating units, each unit's head acknowledges and reports its part, the lead unit submits,
the inspector closes; on the way the lead head returns one part and the unit answers again."""
import datetime as dt
import re

from playwright.sync_api import expect

from tests.evidence import samples
from tests.helpers import TODAY

DEADLINE = (TODAY + dt.timedelta(days=60)).isoformat()
FINANCE_BY = (TODAY + dt.timedelta(days=30)).isoformat()
TITLE = "特殊教育学校配套设施建设"
PARTNERS = (("head-ndrc", "县发改委"), ("head-finance", "县财政局"), ("head-housing", "县住建局"))


def _confirming(page):
    page.on("dialog", lambda dialog: dialog.accept())  # destructive steps and 申请销号 ask first
    return page


def test_three_cooperating_units_report_their_parts_then_the_item_is_closed(open_as, live_server, tmp_path, shots):
    # 1. The coordinator creates the item with three cooperating units and hands it out, giving
    #    财政局 a line and an earlier deadline of its own.
    admin = open_as("admin")
    admin.goto(f"{live_server}/items/new")
    admin.fill("#title", TITLE)
    admin.fill("#target", "配套设施与主体工程同步交付")
    admin.fill("#measures", "完成立项、落实资金、组织施工")
    admin.select_option("#kind", "deadline")
    admin.select_option("#lead_unit_id", label="县教育局")
    admin.select_option("#cooperating_unit_ids", label=["县发改委", "县财政局", "县住建局"])
    admin.select_option("#owner_id", label="县教育局负责人 (县教育局)")
    admin.fill("#deadline", DEADLINE)
    admin.get_by_role("button", name="保存").click()
    expect(admin.locator(".flash-success")).to_contain_text("待交办")
    item_url = admin.url.split("#")[0]
    admin.locator("details.handout summary").click()
    box = admin.locator("details.handout")
    box.get_by_label("县财政局 的任务").fill("落实配套资金800万元")
    box.get_by_label("县财政局：任务时限").fill(FINANCE_BY)
    admin.locator("form.action", has=admin.locator("details.handout")).get_by_role("button", name="交办").click()
    expect(admin.locator(".badges")).to_contain_text("已交办")
    rows = admin.locator("#parts-table tbody tr")
    expect(rows).to_have_count(3)
    for _username, unit in PARTNERS:
        expect(admin.locator("#parts-table tr", has_text=unit)).to_contain_text("待签收")
    expect(admin.locator("#parts-table tr", has_text="县财政局")).to_contain_text(FINANCE_BY)

    # 2. Each cooperating unit's head finds the item, acknowledges its part and reports it done;
    #    发改委 posts progress with its approval file first.
    approval = tmp_path / "立项批复.pdf"
    approval.write_bytes(samples.pdf("立项批复"))
    for username, unit in PARTNERS:
        partner = _confirming(open_as(username))
        partner.goto(f"{live_server}/my")
        partner.get_by_role("link", name=TITLE).click()
        card = partner.locator(".part-card", has_text=unit)
        if unit == "县财政局":
            expect(card).to_contain_text("落实配套资金800万元")
        card.get_by_role("button", name="签收任务").click()
        expect(partner.locator(".flash-success")).to_contain_text("任务已签收")
        card = partner.locator(".part-card", has_text=unit)
        if unit == "县发改委":
            card.locator("textarea[name=body]").fill("项目已批复立项。")
            card.locator("input[type=file]").set_input_files(str(approval))
            card.get_by_role("button", name="报送任务进展").click()
            card = partner.locator(".part-card", has_text=unit)
            expect(card).to_contain_text("立项批复.pdf")
        card.locator("textarea[name=text]").fill(f"{unit}已完成本单位任务。")
        card.get_by_role("button", name="反馈任务完成").click()
        expect(partner.locator("#parts-table tr", has_text=unit)).to_contain_text("已反馈")
        # The cooperating unit sees its own part, not the others'.
        expect(partner.locator("#parts-table tbody tr")).to_have_count(1)

    # 3. The lead unit's head returns 住建局's part once, which answers again; then acknowledges
    #    the item, adds evidence and submits: every part is done, nothing to override.
    lead = _confirming(open_as("head-edu"))
    lead.goto(item_url)
    housing = lead.locator(".part-card", has_text="县住建局")
    housing.locator("textarea[name=text]").fill("请补充施工许可证。")
    housing.get_by_role("button", name="退回任务").click()
    expect(lead.locator("#parts-table tr", has_text="县住建局")).to_contain_text("已退回")
    builder = _confirming(open_as("head-housing"))
    builder.goto(item_url)
    expect(builder.locator(".part-return-reason")).to_contain_text("请补充施工许可证。")
    builder.locator(".part-card", has_text="县住建局").locator("textarea[name=text]").fill("施工许可证已办结。")
    builder.get_by_role("button", name="反馈任务完成").click()
    expect(builder.locator("#parts-table tr", has_text="县住建局")).to_contain_text("已反馈")

    lead.goto(item_url)
    lead.locator("div.action-box button[type=submit]", has_text="签收").click()
    expect(lead.locator(".badges")).to_contain_text("整改中")
    report = tmp_path / "配套设施验收报告.pdf"
    report.write_bytes(samples.pdf("配套设施验收报告"))
    lead.locator("#evidence ~ form.upload-form input[type=file]").set_input_files(str(report))
    lead.locator("#evidence ~ form.upload-form").get_by_role("button", name="上传").click()
    expect(lead.locator(".flash-success")).to_contain_text("已上传 1 个文件")
    lead.locator("details.action-box summary", has_text="申请销号").click()
    expect(lead.locator("details.action-box[open] .parts-waiting")).to_have_count(0)
    lead.locator("details.action-box[open] button[type=submit]").click()
    expect(lead.locator(".badges")).to_contain_text("已申请销号")
    lead.screenshot(path=str(shots / "parts.png"), full_page=True)

    # 4. The inspector closes it.
    inspector = _confirming(open_as("inspector"))
    inspector.goto(f"{live_server}/review")
    inspector.get_by_role("link", name=TITLE).click()
    expect(inspector.locator("#parts-table")).not_to_contain_text("待签收")
    inspector.locator("details.action-box summary", has_text="销号").click()
    box = inspector.locator("details.action-box[open]")
    box.locator("textarea").fill("配合单位任务均已反馈，同意销号。")
    box.locator("button[type=submit]").click()
    expect(inspector.locator(".badges")).to_contain_text("已销号")
    expect(inspector.locator("#acceptance-opinion")).to_contain_text("同意销号")
    assert re.search(r"/items/\d+", inspector.url)
