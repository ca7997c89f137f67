"""A county's own 整改台账: one problem with several numbered measures, deadlines as offices write
them, the 序号, 责任人, 进展情况 and 备注 kept; phrases that are not dates get a date picker."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from tracker import clock
from tracker.items.models import Item, ItemKind, ProgressUpdate
from tracker.reports import sheets_in
from tracker.units.models import Unit
from tests.reports.test_import import import_dir, outcomes, preview_of, setup, upload, xlsx  # noqa: F401


@pytest.mark.parametrize("value,expected", [
    ("2025年6月底前", dt.date(2025, 6, 30)), ("2025年6月", dt.date(2025, 6, 30)), ("2025.12", dt.date(2025, 12, 31)),
    (2025.12, dt.date(2025, 12, 31)), ("2025/3/31", dt.date(2025, 3, 31)), ("2025年第三季度", dt.date(2025, 9, 30)),
    ("2025年底前", dt.date(2025, 12, 31)), ("2026年秋季学期开学前", dt.date(2026, 8, 31)),
    (dt.datetime(2026, 5, 1), dt.date(2026, 5, 1)), (46203, dt.date(2026, 6, 30)),
    ("2025年3月—2025年6月", dt.date(2025, 6, 30)),
])
def test_deadlines_as_offices_write_them(value, expected):
    assert sheets_in.deadline_phrase(value) == (expected, None)


def test_words_for_immediate_and_long_term_and_a_month_without_a_year():
    assert sheets_in.deadline_phrase("立行立改") == (None, "immediate")
    assert sheets_in.deadline_phrase("长期坚持") == (None, "long_term")
    with pytest.raises(sheets_in.NeedsYear):
        sheets_in.deadline_phrase("6月底")


LEDGER = [
    ["XX县履行教育职责评价反馈问题整改台账"] + [None] * 9,
    ["序号", "问题来源", "存在问题", "整改目标", "整改措施", "牵头单位", "责任人", "完成时限", "进展情况", "备注"],
    [1, "督导评估", "大班额问题突出", "消除56人以上大班额", "1.新建城区学校2所，扩充学位", "县教育局", "张三",
     "2026年6月底前", "已完成选址", "挂牌督办"],
    [None, None, None, None, "2.招聘教师50名；补足缺口", "县教育局", "李四", "立行立改", None, None],
    [None, None, None, None, "3.建立控额长效机制", "县教育局", None, "长期坚持", None, None],
    [2, "督导评估", "校舍安全隐患", "消除隐患", "开展排查", "县教育局", None, "6月底", None, None],
]
MERGES = ["A1:J1", "A3:A5", "B3:B5", "C3:C5", "D3:D5"]


def test_one_problem_with_numbered_measures_becomes_items_titled_from_their_measures(setup, make, db, app):
    evaluation, admin = setup
    unit = db.session.scalar(select(Unit).where(Unit.name == "县教育局"))
    make.user(name="张三", unit=unit)
    url, page = preview_of(admin, upload(admin, evaluation, xlsx(LEDGER, merges=MERGES)))
    result = outcomes(page)
    assert "has no year: choose the date below" in result[6]
    assert "long-term item has no fixed deadline" in result[5]
    assert 'name="date-5"' in page.text and 'name="date-6"' in page.text   # date pickers, not a dead end
    assert "/confirm" not in page.text
    admin.post(url + "/dates", {"date-5": "2026-12-31", "date-6": "2027-06-30"})
    page = admin.get(url + "?lang=en")
    assert "/confirm" in page.text, outcomes(page)
    admin.post(url + "/confirm")
    items = db.session.scalars(select(Item).order_by(Item.id)).all()
    assert [(i.title, i.kind, i.deadline, i.ledger_no) for i in items] == [
        ("新建城区学校2所", ItemKind.DEADLINE, dt.date(2026, 6, 30), "1"),
        ("招聘教师50名", ItemKind.IMMEDIATE, clock.today() + dt.timedelta(days=app.config["IMPORT_IMMEDIATE_DAYS"]), "1"),
        ("建立控额长效机制", ItemKind.LONG_TERM, dt.date(2026, 12, 31), "1"),
        ("开展排查", ItemKind.DEADLINE, dt.date(2027, 6, 30), "2")]
    assert len({i.finding_id for i in items[:3]}) == 1 and items[3].finding_id != items[0].finding_id
    assert items[0].owner.name == "张三" and items[0].owner_text == ""
    assert items[1].owner is None and items[1].owner_text == "李四"       # no such user: kept as text
    assert items[0].remarks == "挂牌督办" and items[2].deadline_text == "长期坚持"
    progress = db.session.scalars(select(ProgressUpdate)).all()
    assert [(p.item_id, p.body, p.created_at.date()) for p in progress] == [
        (items[0].id, "已完成选址", clock.now().date())]


def test_units_by_alias_a_cell_of_ten_units_and_notes_rows_at_the_bottom(setup, make, db):
    evaluation, admin = setup
    rsj = db.session.scalar(select(Unit).where(Unit.name == "县人社局"))
    admin.post(f"/admin/units/{rsj.id}", {"name": "县人力资源和社会保障局", "code": rsj.code,
                                            "aliases": "县人社局\n人社局", "active": "y"})
    tens = [make.unit(f"县第{n}局") for n in range(10)]
    rows = [["存在问题", "整改措施", "整改目标", "牵头单位", "配合单位", "整改时限"],
            ["问题甲", "措施一", "目标", "县人社局", "、".join(u.name for u in tens), "2026-12-31"],
            [None] * 6,
            ["问题乙", "措施二", "目标", "县教育局", "人社局；县财政局\n县第1局", "2026-12-31"],
            ["注：1. 本表由各责任单位填写。2. 时限以文件为准。", None, None, None, None, None],
            ["联系人：王五  电话：0000-1234567", None, None, None, None, None],
            ["以上事项请于每月25日前报送进展"] + [None] * 5]
    url, page = preview_of(admin, upload(admin, evaluation, xlsx(rows, merges=["A7:F7"])))
    result = outcomes(page)
    assert set(result) == {2, 4} and all(r.startswith("Will be imported") for r in result.values()), result
    assert "“县人社局” is another name of 县人力资源和社会保障局" in result[2]
    assert "unknown-units" not in page.text
    ignored = page.text[page.text.index('id="ignored-rows"'):]
    for text in ("Row 5: 注：1. 本表由各责任单位填写", "Row 6: 联系人：王五", "Row 7: 以上事项请于每月25日前报送进展"):
        assert text in ignored
    admin.post(url + "/confirm")
    first, second = db.session.scalars(select(Item).order_by(Item.id)).all()
    assert first.lead_unit.name == "县人力资源和社会保障局" and len(first.cooperating_units) == 10
    assert sorted(u.name for u in second.cooperating_units) == ["县人力资源和社会保障局", "县第1局", "县财政局"]


def test_the_same_sheet_imported_twice_creates_nothing_new(setup, db):
    evaluation, admin = setup
    for round_ in (1, 2):
        url, page = preview_of(admin, upload(admin, evaluation, xlsx(LEDGER[:5], merges=MERGES)))
        admin.post(url + "/dates", {"date-5": "2026-12-31"})
        page = admin.get(url + "?lang=en")
        if round_ == 2:
            result = outcomes(page)
            assert all("Already imported" in result[n] and "skipped" in result[n] for n in (3, 4, 5)), result
        admin.post(url + "/confirm")
        assert db.session.scalar(select(func.count()).select_from(Item)) == 3
        assert db.session.scalar(select(func.count()).select_from(ProgressUpdate)) == 1


def test_the_item_page_shows_what_the_sheet_said(setup, db):
    evaluation, admin = setup
    url, _page = preview_of(admin, upload(admin, evaluation, xlsx(LEDGER[:5], merges=MERGES)))
    admin.post(url + "/dates", {"date-5": "2026-12-31"})
    admin.post(url + "/confirm")
    long_term = db.session.scalar(select(Item).where(Item.kind == ItemKind.LONG_TERM))
    first = db.session.scalar(select(Item).order_by(Item.id))
    page = admin.get(f"/items/{long_term.id}?lang=en").text
    assert 'id="deadline-text">长期坚持<' in page and 'id="ledger-no">1<' in page
    page = admin.get(f"/items/{first.id}?lang=en").text
    assert 'id="remarks">挂牌督办<' in page and "李四" not in page and "张三" in page


ROWS = [["XX县整改台账", None, None, None, None], ["存在问题", "整改措施", "整改目标", "牵头单位", "整改时限"],
        ["大班额", "1.新建学校，扩充学位", "消除大班额", "县教育局", "2026年底前"],
        [None, "2.招聘教师", None, "县教育局", "2026/9/1"]]


def test_a_legacy_xls_with_merged_cells_imports(setup, db):
    xlwt = pytest.importorskip("xlwt")
    import io
    evaluation, admin = setup
    book = xlwt.Workbook()
    sheet = book.add_sheet("台账")
    for r, row in enumerate(ROWS):
        for c, value in enumerate(row):
            if value is not None and not (r == 3 and c in (0, 2)):
                sheet.write(r, c, value)
    sheet.merge(0, 0, 0, 4)      # the title across the table
    sheet.merge(2, 3, 0, 0)      # the problem over its two measures
    sheet.merge(2, 3, 2, 2)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    url, page = preview_of(admin, upload(admin, evaluation, buffer, name="台账.xls"))
    assert all(o.startswith("Will be imported") for o in outcomes(page).values()), outcomes(page)
    admin.post(url + "/confirm")
    items = db.session.scalars(select(Item).order_by(Item.id)).all()
    assert [(i.title, i.deadline, i.finding.text) for i in items] == [
        ("新建学校", dt.date(2026, 12, 31), "大班额"), ("招聘教师", dt.date(2026, 9, 1), "大班额")]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_csv_in_utf8_or_gbk_imports(setup, db, encoding):
    import csv
    import io
    evaluation, admin = setup
    text = io.StringIO()
    csv.writer(text).writerows([["" if v is None else v for v in row] for row in ROWS[1:3]])
    url, page = preview_of(admin, upload(admin, evaluation, io.BytesIO(text.getvalue().encode(encoding)),
                                         name="台账.csv"))
    admin.post(url + "/confirm")
    assert [i.title for i in db.session.scalars(select(Item))] == ["新建学校"]


@pytest.mark.parametrize("content,message", [
    ("<html><body><table><tr><td>存在问题</td></tr></table></body></html>".encode(), "a web page saved"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptionInfo".encode("utf-16-le") + b"0" * 600, "protected by a password"),
])
def test_html_saved_as_xls_and_a_password_protected_workbook_are_refused(setup, db, import_dir, content, message):
    import io
    evaluation, admin = setup
    response = admin.post("/reports/import?lang=en", {"kind": "ledger", "evaluation_id": str(evaluation.id),
                                                      "file": (io.BytesIO(content), "台账.xls")},
                          content_type="multipart/form-data")
    assert response.status_code == 422 and message in response.text
    assert db.session.scalar(select(func.count()).select_from(Item)) == 0
    assert not import_dir.exists() or not any(import_dir.iterdir())


def test_an_error_value_and_a_30000_character_cell_are_row_errors_in_plain_words(setup, db):
    evaluation, admin = setup
    rows = [["存在问题", "整改措施", "整改目标", "牵头单位", "整改时限"],
            ["问题甲", "#REF!", "目标", "县教育局", "2026-12-31"],
            ["问题乙", "措施" * 15000, "目标", "县教育局", "2026-12-31"],
            ["问题丙", "措施", "目标", "县教育局", "2026-12-31"]]
    url, page = preview_of(admin, upload(admin, evaluation, xlsx(rows)))
    result = outcomes(page)
    assert "holds a formula without a value" in result[2]
    assert "longer than 5000 characters" in result[3]
    assert result[4].startswith("Will be imported") and "/confirm" not in page.text
    assert db.session.scalar(select(func.count()).select_from(Item)) == 0
