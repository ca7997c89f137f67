"""The exported ledger prints as a 台账: what an office sees when it opens or prints the xlsx."""
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from tracker.auth.models import Role
from tracker.evaluations.models import Evaluation, Finding
from tracker.reports.ledger_book import FIRST_DATA_ROW

D = dt.timedelta
BOOK_HEADERS = ["序号", "事项编号", "问题来源", "存在问题", "整改事项", "整改目标", "整改措施", "责任领导", "牵头单位",
                "配合单位", "责任人", "整改时限", "整改类型", "进展情况", "完成情况/状态", "红黄绿灯", "逾期天数",
                "佐证材料", "销号时间", "备注"]


def letter(name):
    return "ABCDEFGHIJKLMNOPQRST"[BOOK_HEADERS.index(name)]


def sheet_of(response):
    assert response.status_code == 200, response.text
    return load_workbook(io.BytesIO(response.data)).worksheets[0]


@pytest.fixture
def ledger(make, db, today):
    """Two problems of one evaluation: the first with three measures (items), the second with one."""
    evaluation = Evaluation(title="新源县人民政府履行教育职责情况自评（2019年度）", year=2019, issuing_body="县政府")
    shortage = Finding(evaluation=evaluation, text="教师结构性短缺依然存在，音体美教师不足", category="教师")
    special = Finding(evaluation=evaluation, text="特殊教育学校尚未建立", category="特教")
    db.session.add_all([shortage, special])
    db.session.commit()
    edu, fin = make.unit("县教育局"), make.unit("县财政局")
    items = [make.item(finding=shortage, title="招聘音体美教师", lead_unit=edu, cooperating=[fin],
                       deadline=today - D(days=4), responsible_leader="副县长 赵刚"),
             make.item(finding=special, title="建成特殊教育学校", lead_unit=fin, deadline=today + D(days=90)),
             make.item(finding=shortage, title="开展送教下乡" * 12, lead_unit=edu, deadline=today + D(days=30)),
             make.item(finding=shortage, title="组织教师培训", lead_unit=edu, deadline=today + D(days=60))]
    return evaluation, edu, fin, items


def test_the_ledger_has_its_title_filled_in_line_and_grouped_header(login_as, make, ledger, app):
    _evaluation, edu, _fin, _items = ledger
    app.config["OFFICE_NAME"] = "新源县人民政府教育督导室"
    try:
        sheet = sheet_of(login_as(make.user(Role.ADMIN)).get("/reports/ledger.xlsx"))
    finally:
        app.config["OFFICE_NAME"] = None
    assert sheet["A1"].value == "新源县人民政府履行教育职责情况自评（2019年度）整改台账"
    assert sheet["A2"].value == "填报单位：新源县人民政府教育督导室　　填报时间：2026年3月16日"
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A1:T1", "A2:T2", "H3:K3", "A3:A4", "D3:D4", "L3:L4"} <= merged
    assert sheet["H3"].value == "责任分工"
    assert [sheet[f"{c}4"].value for c in "HIJK"] == ["责任领导", "牵头单位", "配合单位", "责任人"]
    top = [sheet.cell(row=3, column=n).value for n in range(1, 21)]
    assert [t for t in top if t] == [h for h in BOOK_HEADERS if h not in ("责任领导", "牵头单位", "配合单位", "责任人")
                                     ][:7] + ["责任分工"] + BOOK_HEADERS[11:]


def test_problems_are_merged_over_their_measures_and_numbered(login_as, make, ledger):
    _evaluation, _edu, _fin, items = ledger
    sheet = sheet_of(login_as(make.user(Role.ADMIN)).get("/reports/ledger.xlsx?sort=deadline"))
    first = FIRST_DATA_ROW
    # Screen order is by deadline; the 台账 keeps each problem's items together, problems in the
    # order of their first item.
    titles = [sheet[f"{letter('整改事项')}{row}"].value for row in range(first, first + 4)]
    assert titles == ["招聘音体美教师", "开展送教下乡" * 12, "组织教师培训", "建成特殊教育学校"]
    assert [sheet[f"A{row}"].value for row in range(first, first + 4)] == [1, None, None, 2]
    assert [sheet[f"B{row}"].value for row in range(first, first + 4)] == [items[0].id, items[2].id, items[3].id,
                                                                           items[1].id]
    merged = {str(r) for r in sheet.merged_cells.ranges}
    for name in ("序号", "问题来源", "存在问题"):
        assert f"{letter(name)}{first}:{letter(name)}{first + 2}" in merged, name
    assert not any(r.startswith(f"A{first + 3}:") for r in merged)  # one item: nothing to merge
    assert sheet[f"D{first}"].value == "教师结构性短缺依然存在，音体美教师不足"
    assert sheet[f"C{first}"].value == "新源县人民政府履行教育职责情况自评（2019年度）"
    assert sheet[f"{letter('责任领导')}{first}"].value == "副县长 赵刚"
    assert sheet[f"{letter('配合单位')}{first}"].value == "县财政局"


def test_cells_are_bordered_wrapped_and_dates_are_dates(login_as, make, ledger, today):
    sheet = sheet_of(login_as(make.user(Role.ADMIN)).get("/reports/ledger.xlsx?sort=deadline"))
    first = FIRST_DATA_ROW
    for ref in (f"A{first}", f"E{first}", f"E{first + 1}", "H3", "I4", f"T{first + 3}"):
        cell = sheet[ref]
        assert cell.border.left.style == "thin" and cell.border.bottom.style == "thin", ref
    assert sheet[f"E{first + 1}"].alignment.wrap_text
    deadline = sheet[f"{letter('整改时限')}{first}"]
    assert deadline.value == dt.datetime.combine(today - D(days=4), dt.time())
    assert deadline.number_format == "yyyy-mm-dd" and deadline.is_date
    assert sheet[f"{letter('逾期天数')}{first}"].value == 4


def test_columns_fit_their_content_and_long_text_wraps_in_a_taller_row(login_as, make, ledger):
    sheet = sheet_of(login_as(make.user(Role.ADMIN)).get("/reports/ledger.xlsx?sort=deadline"))
    widths = {name: sheet.column_dimensions[letter(name)].width for name in BOOK_HEADERS}
    assert widths["整改事项"] == 24                              # the long title is capped and wraps
    assert widths["牵头单位"] == 10                              # 县教育局: 8 columns and air
    assert widths["序号"] < widths["存在问题"] <= 36
    long_row = sheet.row_dimensions[FIRST_DATA_ROW + 1].height
    assert long_row > 3 * sheet.row_dimensions[FIRST_DATA_ROW + 2].height


def test_it_prints_on_a4_landscape_one_page_wide_with_the_header_on_every_page(login_as, make, ledger):
    sheet = sheet_of(login_as(make.user(Role.ADMIN)).get("/reports/ledger.xlsx"))
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.paperSize == 9  # A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.print_title_rows == "$3:$4"
    assert sheet.freeze_panes == f"A{FIRST_DATA_ROW}"


def test_per_unit_and_overdue_variants(login_as, make, ledger):
    _evaluation, edu, fin, items = ledger
    admin = login_as(make.user(Role.ADMIN))
    unit_sheet = sheet_of(admin.get(f"/reports/ledger.xlsx?unit={fin.id}"))
    assert unit_sheet["A2"].value.startswith("填报单位：县财政局　　")
    titles = {unit_sheet[f"E{row}"].value for row in range(FIRST_DATA_ROW, unit_sheet.max_row + 1)}
    assert titles == {"招聘音体美教师", "建成特殊教育学校"}  # led, and cooperated on
    overdue = sheet_of(admin.get("/reports/ledger.xlsx?overdue=1"))
    assert overdue["A1"].value == "新源县人民政府履行教育职责情况自评（2019年度）整改台账（逾期事项）"
    assert overdue.max_row == FIRST_DATA_ROW and overdue[f"E{FIRST_DATA_ROW}"].value == "招聘音体美教师"


def test_a_heads_ledger_is_filled_in_by_the_heads_unit(login_as, make, ledger):
    _evaluation, edu, _fin, _items = ledger
    sheet = sheet_of(login_as(make.user(Role.HEAD, unit=edu)).get("/reports/ledger.xlsx"))
    assert sheet["A2"].value.startswith("填报单位：县教育局")
    assert sheet.max_row == FIRST_DATA_ROW + 2


def test_an_empty_ledger_is_still_a_ledger(login_as, make):
    sheet = sheet_of(login_as(make.user(Role.ADMIN)).get("/reports/ledger.xlsx"))
    assert sheet["A1"].value == "整改台账" and sheet["H3"].value == "责任分工"
    assert sheet.max_row == 4
