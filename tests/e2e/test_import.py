"""The import as an administrator does it in a browser: a messy county sheet uploaded, a column the
importer could not place mapped in the preview, a title edited, confirmed, the items in the ledger."""
from __future__ import annotations

from openpyxl import Workbook
from playwright.sync_api import expect

from tracker.extensions import db
from tracker.items.models import Item

ROWS = [
    ["XX县履行教育职责评价反馈问题整改台账", None, None, None, None, None],
    ["填报单位：县教育局    填报时间：2026年3月1日", None, None, None, None, None],
    [],
    ["序号", "存在问题", "整改内容", "整改目标", "牵头单位", "完成时限"],     # 整改内容: not a known title
    [1, "大班额问题突出（浏览器导入）", "1.新建城区学校2所，扩充学位", "消除大班额", "县教育局", "2026年12月底前"],
    [None, None, "2.招聘教师50名；补足缺口", "补足教师", "县教育局", "2026.12"],
    [],
    ["注：1. 本表由县教育局汇总。", None, None, None, None, None],
]


def test_a_messy_sheet_is_mapped_in_the_preview_and_lands_in_the_ledger(app, open_as, live_server, tmp_path,
                                                                          monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path / "imports"))
    book = Workbook()
    for row in ROWS:
        book.active.append(row)
    book.active.merge_cells("A1:F1")
    book.active.merge_cells("A5:A6")
    book.active.merge_cells("B5:B6")
    path = tmp_path / "县教育局整改台账.xlsx"
    book.save(path)

    page = open_as("admin", locale="en-US")
    page.goto(f"{live_server}/reports/import?lang=en")
    page.select_option("#kind", "ledger")
    page.set_input_files("#file", str(path))
    page.click("form.card button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator("#preview-summary")).to_contain_text("2 rows, 2 with errors.")
    expect(page.locator("#preview-rows")).to_contain_text("The measures are missing.")
    expect(page.locator("#ignored-rows")).to_contain_text("注：1. 本表由县教育局汇总。")

    page.select_option("#column-mapping select", "measures")
    page.click("#choices-form button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator("#preview-summary")).to_contain_text("2 rows, 0 with errors.")
    expect(page.locator("input[name=title-5]")).to_have_value("新建城区学校2所")
    page.fill("input[name=title-6]", "招聘教师50名补足缺口")
    page.click("#choices-form button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator("#preview-rows")).to_contain_text("Title edited in the preview.")

    page.click("form[action$='/confirm'] button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator("body")).to_contain_text("2 items imported as drafts.")
    expect(page.locator("main")).to_contain_text("新建城区学校2所")
    expect(page.locator("main")).to_contain_text("招聘教师50名补足缺口")
    with app.app_context():
        titles = sorted(t for (t,) in db.session.query(Item.title).filter(Item.measures.like("%新建城区学校%")
                                                                          | Item.measures.like("%招聘教师50名%")))
        db.session.remove()
    assert titles == ["招聘教师50名补足缺口", "新建城区学校2所"]
