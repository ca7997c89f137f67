"""Importing sheets as offices fill them in: a preview of every row, nothing written until the admin
confirms, then all rows or none."""
import datetime as dt
import io
import re
import time
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from tracker.auth.models import Role
from tracker.evaluations.models import Finding, Indicator, Rating
from tracker.items.models import Item, Status
from tracker.journal import JournalEntry
from tracker.units.models import Unit


@pytest.fixture(autouse=True)
def import_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path / "imports"))
    return tmp_path / "imports"


@pytest.fixture
def setup(make, login_as):
    evaluation = make.finding().evaluation
    for name in ("县教育局", "县财政局", "县人社局"):
        make.unit(name)
    return evaluation, login_as(make.user(Role.ADMIN))


def xlsx(rows, merges=(), title="台账") -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for ref in merges:
        sheet.merge_cells(ref)
    buffer = io.BytesIO()
    book.save(buffer)
    book.close()
    buffer.seek(0)
    return buffer


def upload(admin, evaluation, content, kind="ledger", name="台账.xlsx"):
    return admin.post("/reports/import", {"kind": kind, "evaluation_id": str(evaluation.id),
                                          "file": (content, name)}, content_type="multipart/form-data")


def preview_of(admin, response):
    assert response.status_code == 302, response.text
    page = admin.get(response.location + "?lang=en")
    assert page.status_code == 200
    return response.location, page


def outcomes(page) -> dict[int, str]:
    rows = re.findall(r'<tr class="row-(?:ok|error)"><td>(\d+)</td>\s*<td>(.*?)</td>', page.text, re.S)
    return {int(n): re.sub(r"<[^>]+>|\s+", " ", text).strip() for n, text in rows}


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


MESSY = [
    ["2026年教育督导问题整改台账"],                                       # a title row above the header
    ["Deadline", " 存在\n问题 ", "整改措施", "整改目标", "牵头单位", "配合单位", "联系电话", "整改类型", "序号"],
    ["2026年6月30日", "大班额问题突出", "新建学校", "消除大班额", "县教育局", "县财政局", "123", "限期整改", 1],
    ["2026/7/1", None, "招聘教师", "补足教师", "县教育局", "县财政局、县人社局", None, "长期坚持", 2],
    [None, None, None, None, None, None, None, None, None],             # an empty row
    [46203, "特殊教育学校尚未建立", "立项建设", "建成学校", "县文旅局", None, None, None, 3],
    ["next spring", "经费不足", "增加投入", "达标", "县财政局", None, None, None, 4],
    ["2026-06-30", None, "措施", "目标", "县教育局", None, None, None, 5],
    [dt.datetime(2026, 9, 1), "布局不合理", '="措施"&"一"', "目标", "县教育局", None, None, "immediate", 6],
]


def test_a_messy_sheet_gets_a_row_by_row_preview_in_plain_words(setup, db):
    evaluation, admin = setup
    _url, page = preview_of(admin, upload(admin, evaluation, xlsx(MESSY, merges=["A1:I1", "B3:B4"])))
    result = outcomes(page)
    assert set(result) == {3, 4, 6, 7, 8, 9}                             # the empty row is skipped
    assert result[3].startswith("Will be imported") and "New finding" in result[3]
    assert result[4].startswith("Will be imported")                    # problem from the merged cell
    assert "Unknown unit “县文旅局”" in result[6]
    assert "The deadline “next spring” is not a date we can read" in result[7]
    assert "The problem text is missing" in result[8]
    assert "holds a formula without a value" in result[9]
    assert "Ignored columns: 联系电话" in page.text
    assert re.search(r'id="unknown-units">县文旅局<', page.text)
    assert "/confirm" not in page.text                                  # nothing to confirm yet
    assert count(db, Item) == 0


def test_dates_in_every_spelling_are_read(setup, db):
    evaluation, admin = setup
    rows = [["存在问题", "整改措施", "整改目标", "牵头单位", "整改时限"]] + [
        [f"问题{n}", "措施", "目标", "县教育局", value] for n, value in
        enumerate(["2026年6月30日", "2026/6/30", "2026-06-30", 46203, dt.date(2026, 6, 30), "2026.6.30"])]
    url, page = preview_of(admin, upload(admin, evaluation, xlsx(rows)))
    assert page.text.count('<td class="date">Jun 30, 2026</td>') == 6  # an English-speaking admin
    admin.post(url + "/confirm")
    assert {i.deadline for i in db.session.scalars(select(Item))} == {dt.date(2026, 6, 30)}


def test_confirm_is_all_or_nothing(setup, db):
    evaluation, admin = setup
    url, _page = preview_of(admin, upload(admin, evaluation, xlsx(MESSY, merges=["B3:B4"])))
    response = admin.post(url + "/confirm")
    assert response.status_code == 302
    assert "Nothing was imported" in admin.get(url + "?lang=en").text
    assert count(db, Item) == 0 and count(db, Finding) == 1


def test_confirmed_import_creates_findings_and_draft_items_with_journal(setup, db):
    evaluation, admin = setup
    good = MESSY[:5]
    url, page = preview_of(admin, upload(admin, evaluation, xlsx(good, merges=["B3:B4"])))
    assert "/confirm" in page.text
    response = admin.post(url + "/confirm")
    assert response.status_code == 302 and "status=draft" in response.location
    items = db.session.scalars(select(Item).order_by(Item.id)).all()
    assert [(i.title, i.status, i.kind.value) for i in items] == [
        ("新建学校", Status.DRAFT, "deadline"), ("招聘教师", Status.DRAFT, "long_term")]  # titled from the measure
    assert [i.ledger_no for i in items] == ["1", "2"]                   # the sheet's own 序号
    assert items[0].finding_id == items[1].finding_id                   # one finding for the merged cell
    assert sorted(u.name for u in items[1].cooperating_units) == sorted(["县人社局", "县财政局"])
    entries = db.session.scalars(select(JournalEntry).where(JournalEntry.item_id == items[0].id)).all()
    assert entries[0].action == "create" and "台账.xlsx" in entries[0].note
    # created by the form's own service: the history shows the same fields as for a typed-in item
    from tracker.items.services import EDITABLE_FIELDS
    assert set(entries[0].changes) == {*EDITABLE_FIELDS, "cooperating_units", "ledger_no", "deadline_text"}
    assert entries[0].changes["listed_supervision"] == [None, False]
    assert admin.get(url).status_code == 404                            # the upload is gone
    assert admin.post(url + "/confirm").status_code == 404              # a second confirm adds nothing
    assert count(db, Item) == 2


def test_unknown_units_can_be_created_from_the_preview(setup, db):
    evaluation, admin = setup
    rows = [["存在问题", "整改措施", "整改目标", "牵头单位", "配合单位", "整改时限"],
            ["问题", "措施", "目标", "县文旅局", "县残联、县财政局", "2026-12-31"]]
    url, page = preview_of(admin, upload(admin, evaluation, xlsx(rows)))
    assert re.search(r'id="unknown-units">县文旅局 and 县残联<', page.text)
    assert admin.post(url + "/units", {}).status_code == 302           # without the tick: nothing
    assert count(db, Unit) == 3
    admin.post(url + "/units", {"confirm": "y"})
    assert set(db.session.scalars(select(Unit.name))) >= {"县文旅局", "县残联"}
    page = admin.get(url)
    assert "/confirm" in page.text
    admin.post(url + "/confirm")
    assert db.session.scalar(select(Item)).lead_unit.name == "县文旅局"


@pytest.mark.parametrize("content", [b"%PDF-1.4 not a sheet", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"0" * 600,
                                     b"name,deadline\n a,b\n", b""])
def test_a_file_that_is_not_xlsx_is_refused(setup, content, import_dir):
    evaluation, admin = setup
    response = upload(admin, evaluation, io.BytesIO(content), name="ledger.xlsx")
    assert response.status_code == 422
    assert "xlsx" in response.text
    assert not import_dir.exists() or not any(import_dir.iterdir())


def test_a_damaged_xlsx_is_refused_in_plain_words(setup):
    evaluation, admin = setup
    data = xlsx([["存在问题", "牵头单位"]]).getvalue()
    import zipfile
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            if not info.filename.startswith("xl/worksheets/"):
                dst.writestr(info, src.read(info))
    broken.seek(0)
    response = upload(admin, evaluation, broken)
    page = admin.get(response.location + "?lang=en") if response.status_code == 302 else response
    assert "not an Excel workbook" in page.text


def test_a_huge_sheet_meets_a_clear_limit(setup, app, monkeypatch):
    evaluation, admin = setup
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 5)
    rows = [["存在问题", "整改措施", "整改目标", "牵头单位", "整改时限"]] + [
        [f"问题{n}", "措施", "目标", "县教育局", "2026-12-31"] for n in range(6)]
    _url, page = preview_of(admin, upload(admin, evaluation, xlsx(rows)))
    assert "The sheet has more than 5 rows" in page.text


def test_a_sheet_without_a_header_row_says_so(setup):
    evaluation, admin = setup
    _url, page = preview_of(admin, upload(admin, evaluation, xlsx([["a", "b"], [1, 2]])))
    assert "No header row was found" in page.text


def test_the_upload_belongs_to_its_uploader(setup, make, login_as):
    evaluation, admin = setup
    url, _page = preview_of(admin, upload(admin, evaluation, xlsx(MESSY[:4])))
    other = login_as(make.user(Role.ADMIN))
    assert other.get(url).status_code == 404
    assert other.post(url + "/confirm").status_code == 404
    assert other.get("/reports/import/../../secret_key").status_code == 404


def test_only_admins_import(login_as, make):
    head = login_as(make.user(Role.HEAD))
    assert head.get("/reports/import").status_code == 403
    assert login_as(make.user(Role.INSPECTOR)).get("/reports/import/sample-ledger.xlsx").status_code == 403


def test_indicator_framework_import(setup, db):
    evaluation, admin = setup
    rows = [["指标编号", "指标名称", "自评结果", "分值", "备注"],
            ["1", "教育投入", None, None, None], ["1.1", "经费保障", None, None, None],
            ["1.1.1", "生均公用经费", "完全落实", 3, None],
            ["1.1.2", "教师工资", "尚未落实", "2.5", None]]
    url, page = preview_of(admin, upload(admin, evaluation, xlsx(rows), kind="indicators"))
    assert set(outcomes(page).values()) == {"Will be imported"}
    admin.post(url + "/confirm")
    indicators = db.session.scalars(select(Indicator).order_by(Indicator.sort_key)).all()
    assert [(i.code, i.level, i.self_rating) for i in indicators] == [
        ("1", 1, None), ("1.1", 2, None), ("1.1.1", 3, Rating.FULLY), ("1.1.2", 3, Rating.NOT_YET)]
    assert indicators[3].parent.code == "1.1"


def test_indicator_errors_duplicates_orphans_and_bad_ratings(setup):
    evaluation, admin = setup
    rows = [["Code", "Indicator", "Self-rating"], ["1", "甲", "完全落实"], ["1", "乙", None],
            ["2.1", "丙", None], ["3", "丁", "很好"], ["x y", "戊", None]]
    _url, page = preview_of(admin, upload(admin, evaluation, xlsx(rows), kind="indicators"))
    result = outcomes(page)
    assert "appears twice" in result[3] and "parent indicator 2" in result[4]
    assert "Unknown rating “很好”" in result[5] and "is not like 1, 1.2 or 1.2.3" in result[6]


def test_the_sample_sheet_round_trips_through_the_import(setup):
    evaluation, admin = setup
    sample = admin.get("/reports/import/sample-ledger.xlsx")
    assert sample.status_code == 200
    book = load_workbook(io.BytesIO(sample.data))
    assert book.active["C1"].value == "存在问题"
    book.close()
    url, page = preview_of(admin, upload(admin, evaluation, io.BytesIO(sample.data)))
    assert set(outcomes(page)) == {2, 3}
    admin.post(url + "/units", {"confirm": "y"})
    assert "/confirm" in admin.get(url).text


def test_an_exported_ledger_can_be_imported_again(setup, make, db):
    evaluation, admin = setup
    item = make.item(title="导出事项", lead_unit=db.session.scalar(select(Unit).where(Unit.name == "县教育局")))
    exported = admin.get("/reports/ledger.xlsx")
    url, page = preview_of(admin, upload(admin, evaluation, io.BytesIO(exported.data)))
    (outcome,) = outcomes(page).values()                                 # the row is read, and recognised
    assert f"Already imported (item #{item.id})" in outcome and "skipped" in outcome
    admin.post(url + "/confirm")
    assert count(db, Item) == 1


def with_huge_merges(content: io.BytesIO) -> io.BytesIO:
    """The same workbook with a few merged ranges claiming a million rows and 60 columns each: the
    file stays a few KB (an attack file, or a sheet someone merged by whole columns)."""
    source, out = zipfile.ZipFile(content), io.BytesIO()
    merges = '<mergeCells count="3"><mergeCell ref="A20:BH1048576"/><mergeCell ref="J1:BH1048576"/>' \
             '<mergeCell ref="A1:A1048576"/></mergeCells>'
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<mergeCells.*?</mergeCells>", b"", data).replace(
                    b"</sheetData>", b"</sheetData>" + merges.encode())
            target.writestr(info, data)
    out.seek(0)
    return out


def test_merged_ranges_of_a_million_rows_cost_what_the_sheet_holds(setup, db):
    evaluation, admin = setup
    sheet = with_huge_merges(xlsx(MESSY[1:4]))
    assert len(sheet.getvalue()) < 10_000
    started = time.process_time()
    url, page = preview_of(admin, upload(admin, evaluation, sheet))
    assert time.process_time() - started < 5  # CPU seconds, whatever else the machine is doing
    assert "大班额问题突出" in page.text


def test_the_sheet_is_parsed_once_per_upload_and_its_files_go_with_the_import(setup, db, import_dir):
    evaluation, admin = setup
    url, first = preview_of(admin, upload(admin, evaluation, xlsx(MESSY[:5], merges=["B3:B4"])))
    for stored in import_dir.glob("*.xlsx"):
        stored.write_bytes(b"not a workbook any more")  # a second parse would fail
    again = admin.get(url + "?lang=en")
    assert outcomes(again) == outcomes(first) and "大班额问题突出" in again.text
    assert admin.post(url + "/confirm").status_code == 302
    assert count(db, Item) == 2
    assert sorted(p.name for p in import_dir.iterdir()) == []


def test_a_second_confirm_of_the_same_upload_imports_nothing(app, setup, db, import_dir):
    """Two confirms of one upload at once (a double click, two tabs): the second has read the upload
    before the first committed and removed it; the claim taken in the first's transaction stops it."""
    from tracker.auth.models import User
    from tracker.errors import Conflict
    from tracker.reports import importer
    evaluation, admin = setup
    url, _page = preview_of(admin, upload(admin, evaluation, xlsx(MESSY[:5], merges=["B3:B4"])))
    token = url.rstrip("/").split("/")[-1]
    read_by_the_second = {p.name: p.read_bytes() for p in import_dir.iterdir()}
    assert admin.post(url + "/confirm").status_code == 302  # the first confirm, committed
    for name, content in read_by_the_second.items():       # what the second request still holds
        (import_dir / name).write_bytes(content)
    user = db.session.query(User).filter_by(role=Role.ADMIN).one()
    with pytest.raises(Conflict):
        importer.confirm(user, importer.upload_for(user, token))
    db.session.rollback()
    assert count(db, Item) == 2
    again = admin.post(url + "/confirm", follow_redirects=True)  # and through the page
    assert "This sheet was already imported a moment ago" in again.text and count(db, Item) == 2
