"""Exporting the ledger: what is on screen, in the shape offices know, safe to open in Excel."""
import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from tracker.auth.models import Role
from tracker.items.models import Status
from tracker.reports.ledger_book import FIRST_DATA_ROW
from tracker.reports.sheet import LEDGER_COLUMNS

D = dt.timedelta
HEADERS = [c.zh for c in LEDGER_COLUMNS]
BOOK_HEADERS = [HEADERS[0], "事项编号", *HEADERS[1:]]


def read_xlsx(response):
    """The sheet and its item rows (below the title, the 填报 line and the two header rows)."""
    assert response.status_code == 200, response.text
    assert response.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    return sheet, rows[FIRST_DATA_ROW - 1:]


def read_csv(response):
    assert response.status_code == 200
    assert response.data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def col(name):
    """Index of a column of the CSV (the ledger's columns)."""
    return HEADERS.index(name)


def xcol(name):
    """Index of a column of the 台账 (the ledger's columns with 事项编号 after 序号)."""
    return BOOK_HEADERS.index(name)


@pytest.fixture
def admin(login_as, make):
    return login_as(make.user(Role.ADMIN))


def test_xlsx_has_the_ledger_columns_dates_as_dates_and_frozen_header(admin, make, today):
    edu, fin = make.unit("县教育局"), make.unit("县财政局")
    owner = make.user(Role.HEAD, unit=edu, name="张三")
    make.item(title="补充音体美教师", lead_unit=edu, cooperating=[fin], owner=owner,
              deadline=today - D(days=5), status=Status.IN_PROGRESS, progress=40)
    make.item(title="特殊教育学校", lead_unit=fin, deadline=today + D(days=60), status=Status.CLOSED)

    sheet, rows = read_xlsx(admin.get("/reports/ledger.xlsx?sort=deadline"))
    assert sheet.freeze_panes == f"A{FIRST_DATA_ROW}"
    assert len(rows) == 2
    first = rows[0]
    assert first[xcol("序号")] == 1
    assert first[xcol("存在问题")] == "教师结构性短缺依然存在"
    assert first[xcol("整改事项")] == "补充音体美教师"
    assert first[xcol("牵头单位")] == "县教育局" and first[xcol("配合单位")] == "县财政局"
    assert first[xcol("责任人")] == "张三"
    assert first[xcol("整改时限")] == dt.datetime.combine(today - D(days=5), dt.time())
    assert sheet.cell(row=FIRST_DATA_ROW, column=xcol("整改时限") + 1).number_format == "yyyy-mm-dd"
    assert first[xcol("整改类型")] == "限期整改"
    assert first[xcol("完成情况/状态")] == "整改中"
    assert first[xcol("红黄绿灯")] == "已逾期" and first[xcol("逾期天数")] == 5
    assert first[xcol("进展情况")].startswith("40%")
    closed = rows[1]
    assert closed[xcol("完成情况/状态")] == "已销号"
    assert closed[xcol("销号时间")] == dt.datetime.combine(today, dt.time())
    assert closed[xcol("红黄绿灯")] is None


def test_export_follows_the_screen_filter_across_all_pages(admin, make, app):
    unit = make.unit()
    for n in range(app.config["ITEMS_PER_PAGE"] + 5):
        make.item(lead_unit=unit, title=f"事项{n:02d}")
    make.item(title="其他单位的事项")
    _sheet, rows = read_xlsx(admin.get(f"/reports/ledger.xlsx?unit={unit.id}&sort=title&page=2"))
    assert len(rows) == app.config["ITEMS_PER_PAGE"] + 5
    assert [r[xcol("整改事项")] for r in rows[:3]] == ["事项00", "事项01", "事项02"]


def test_a_head_exports_only_what_the_head_may_see(login_as, make):
    mine, other = make.unit(), make.unit()
    make.item(lead_unit=mine, title="本单位事项")
    make.item(lead_unit=other, title="别的单位事项")
    head = login_as(make.user(Role.HEAD, unit=mine))
    _sheet, rows = read_xlsx(head.get(f"/reports/ledger.xlsx?unit={other.id}"))
    assert rows == []
    lines = read_csv(head.get("/reports/ledger.csv"))
    assert [line[col("整改事项")] for line in lines[1:]] == ["本单位事项"]


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://evil\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)"])
def test_formulas_in_user_text_are_neutralised(admin, make, text):
    make.item(title=text)
    sheet, rows = read_xlsx(admin.get("/reports/ledger.xlsx"))
    cell = sheet.cell(row=FIRST_DATA_ROW, column=xcol("整改事项") + 1)
    assert cell.data_type == "s" and cell.value == text  # text, never a formula
    lines = read_csv(admin.get("/reports/ledger.csv"))
    assert lines[1][col("整改事项")] == "'" + text


def test_csv_is_utf8_with_bom_and_iso_dates(admin, make, today):
    make.item(title="消除大班额", deadline=today + D(days=10))
    response = admin.get("/reports/ledger.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    lines = read_csv(response)
    assert lines[0] == HEADERS
    assert lines[1][col("整改时限")] == (today + D(days=10)).isoformat()


def test_english_users_get_english_headers(admin, make):
    make.item()
    sheet, _rows = read_xlsx(admin.get("/reports/ledger.xlsx?lang=en"))
    assert [sheet.cell(row=3, column=n).value for n in range(1, 6)] == ["No.", "Item No.", "Source", "Problem", "Item"]
    assert sheet.cell(row=3, column=xcol("责任领导") + 1).value == "Responsibilities"
    assert sheet["A1"].value == "2019年度自评 rectification ledger"


def test_export_needs_sign_in(browser):
    assert browser.get("/reports/ledger.xlsx").status_code == 302


def test_every_item_is_exported_once_in_order_across_batches(admin, make, monkeypatch):
    """Items are read in batches: a ledger longer than a batch still comes out whole and in order."""
    from tracker.reports import export
    monkeypatch.setattr(export, "BATCH", 3)
    unit = make.unit()
    for n in range(8):
        make.item(lead_unit=unit, title=f"事项{n}", cooperating=[make.unit()] if n % 3 == 0 else ())
    _sheet, rows = read_xlsx(admin.get("/reports/ledger.xlsx?sort=title"))
    assert len(rows) == 8
    assert [r[xcol("事项编号")] for r in rows] == sorted(r[xcol("事项编号")] for r in rows)
    assert [r[xcol("整改事项")] for r in rows] == [f"事项{n}" for n in range(8)]
    assert [bool(r[xcol("配合单位")]) for r in rows] == [n % 3 == 0 for n in range(8)]
    lines = read_csv(admin.get("/reports/ledger.csv?sort=title"))
    assert [line[col("序号")] for line in lines[1:]] == [str(n) for n in range(1, 9)]
