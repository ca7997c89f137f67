"""What the admin decides in the import preview before confirming: which field an unrecognised column
holds, the titles, close unit names, re-imported rows, the sheet of a workbook, a new evaluation,
挂牌督办 from the sheet; and the limits of a sheet."""
import io
import re

from openpyxl import Workbook
from sqlalchemy import func, select

from tracker import clock
from tracker.evaluations.models import Evaluation, Finding
from tracker.items.models import Item
from tracker.units.models import Unit
from tests.reports.test_import import import_dir, outcomes, preview_of, setup, upload, xlsx  # noqa: F401

HEADER = ["存在问题", "整改内容", "整改目标", "牵头单位", "整改时限"]   # 整改内容 is not a known title
ROWS = [HEADER,
        ["大班额问题突出", "1.新建城区学校2所，扩充学位", "消除大班额", "县教育局", "2026-12-31"],
        ["教师缺口大", "招聘教师50名", "补足教师", "县教育局", "2026-12-31"]]


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def mapping_select(page, header):
    """The name of the select that maps `header`, and the option labels it offers."""
    m = re.search(r'<label for="(map-\d+)">' + re.escape(header) + r'</label>.*?<select[^>]*>(.*?)</select>',
                  page.text, re.S)
    assert m, page.text
    return m.group(1), re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', m.group(2))


def test_an_unplaced_column_is_mapped_in_the_preview_and_the_preview_is_recomputed(setup, db):
    evaluation, admin = setup
    url, page = preview_of(admin, upload(admin, evaluation, xlsx(ROWS)))
    assert "Ignored columns: 整改内容" in page.text
    assert outcomes(page)[2].startswith("The measures are missing.")
    name, options = mapping_select(page, "整改内容")
    labels = dict(options)
    assert labels[""] == "Ignore this column" and labels["measures"] == "整改措施 (Measures)"
    assert "problem" not in labels                      # a field another column holds is not offered
    admin.post(url + "/choices", {name: "measures"})
    page = admin.get(url + "?lang=en")
    assert outcomes(page)[2].startswith("Will be imported") and "/confirm" in page.text
    assert "Ignored columns" not in page.text
    assert 'value="新建城区学校2所"' in page.text          # the title is drawn from the mapped measure
    _name, options = mapping_select(page, "整改内容")   # still shown, to undo the choice
    assert admin.post(url + "/confirm").status_code == 302
    items = db.session.scalars(select(Item).order_by(Item.id)).all()
    assert [(i.title, i.measures) for i in items] == [("新建城区学校2所", "1.新建城区学校2所，扩充学位"),
                                                       ("招聘教师50名", "招聘教师50名")]


def test_ignoring_the_column_again_brings_the_error_back(setup, db):
    evaluation, admin = setup
    url, page = preview_of(admin, upload(admin, evaluation, xlsx(ROWS)))
    name, _options = mapping_select(page, "整改内容")
    admin.post(url + "/choices", {name: "measures"})
    admin.post(url + "/choices", {name: ""})
    page = admin.get(url + "?lang=en")
    assert outcomes(page)[2].startswith("The measures are missing.") and "/confirm" not in page.text


def test_titles_are_edited_per_row_before_confirming(setup, db):
    evaluation, admin = setup
    rows = [["存在问题", "整改措施", "整改目标", "牵头单位", "整改时限"]] + ROWS[1:]
    url, page = preview_of(admin, upload(admin, evaluation, xlsx(rows)))
    assert 'name="title-2" form="choices-form" value="新建城区学校2所"' in page.text
    admin.post(url + "/choices", {"title-2": "新建两所城区学校", "title-3": "招聘教师50名"})
    page = admin.get(url + "?lang=en")
    assert 'value="新建两所城区学校"' in page.text and "Title edited in the preview." in outcomes(page)[2]
    assert "Title edited" not in outcomes(page)[3]      # unchanged title: nothing to keep
    admin.post(url + "/confirm")
    assert db.session.scalars(select(Item.title).order_by(Item.id)).all() == ["新建两所城区学校", "招聘教师50名"]


def test_a_close_unit_name_is_proposed_and_once_accepted_becomes_an_alias(setup, db):
    evaluation, admin = setup
    rows = [["存在问题", "整改措施", "整改目标", "牵头单位", "配合单位", "整改时限"],
            ["问题甲", "措施甲", "目标", "县教育和体育局", "县财政局", "2026-12-31"],
            ["问题乙", "措施乙", "目标", "县教育局", "县火星局", "2026-12-31"]]
    url, page = preview_of(admin, upload(admin, evaluation, xlsx(rows)))
    assert "Unknown unit “县教育和体育局”" in outcomes(page)[2]
    m = re.search(r'<label for="(unit-\d+)">县教育和体育局</label>.*?</select>', page.text, re.S)
    education = db.session.scalar(select(Unit).where(Unit.name == "县教育局"))
    assert m and f'<option value="{education.id}">Use 县教育局</option>' in m.group(0)
    assert '<label for="unit-1">' not in page.text     # 县火星局 is like no unit: nothing proposed
    admin.post(url + "/choices", {m.group(1): str(education.id)})
    page = admin.get(url + "?lang=en")
    assert "“县教育和体育局” taken as 县教育局 (accepted in the preview)." in outcomes(page)[2]
    assert "Unknown unit “县火星局”" in outcomes(page)[3] and "/confirm" not in page.text
    admin.post(url + "/units", {"confirm": "y"})
    admin.post(url + "/confirm")
    items = db.session.scalars(select(Item).order_by(Item.id)).all()
    assert [i.lead_unit.name for i in items] == ["县教育局", "县教育局"]
    db.session.expire_all()
    assert "县教育和体育局" in db.session.get(Unit, education.id).alias_list   # known next time


def test_a_row_already_imported_is_skipped_by_default_or_its_text_updated(setup, db):
    evaluation, admin = setup
    rows = [["存在问题", "整改措施", "整改目标", "牵头单位", "整改时限", "备注"],
            ["大班额问题突出", "新建学校", "消除大班额", "县教育局", "2026-12-31", ""]]
    url, _page = preview_of(admin, upload(admin, evaluation, xlsx(rows)))
    admin.post(url + "/confirm")
    item = db.session.scalar(select(Item))
    rows[1][2], rows[1][5] = "2026年底前消除56人以上大班额", "县长督办"
    url, page = preview_of(admin, upload(admin, evaluation, xlsx(rows)))
    assert f"Already imported (item #{item.id}): this row is skipped" in outcomes(page)[2]
    assert '<option value="skip" selected>Skip this row</option>' in page.text
    admin.post(url + "/choices", {"again-2": "update"})
    page = admin.get(url + "?lang=en")
    assert f"Already imported (item #{item.id}): its text is updated from this row." in outcomes(page)[2]
    admin.post(url + "/confirm")
    db.session.expire_all()
    assert count(db, Item) == 1 and count(db, Finding) == 2     # the factory's finding and this one
    item = db.session.scalar(select(Item))
    assert (item.target, item.remarks) == ("2026年底前消除56人以上大班额", "县长督办")


def test_skipping_a_re_imported_row_changes_nothing(setup, db):
    evaluation, admin = setup
    rows = [["存在问题", "整改措施", "整改目标", "牵头单位", "整改时限"],
            ["大班额问题突出", "新建学校", "消除大班额", "县教育局", "2026-12-31"]]
    url, _page = preview_of(admin, upload(admin, evaluation, xlsx(rows)))
    admin.post(url + "/confirm")
    rows[1][2] = "另一个目标"
    url, _page = preview_of(admin, upload(admin, evaluation, xlsx(rows)))
    admin.post(url + "/confirm")
    db.session.expire_all()
    assert db.session.scalars(select(Item.target)).all() == ["消除大班额"]


def workbook(sheets: dict) -> io.BytesIO:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def test_the_admin_picks_the_sheet_of_a_workbook(setup, db):
    evaluation, admin = setup
    content = workbook({"说明": [["填表说明：请按要求填写"]],
                        "整改台账": [["存在问题", "整改措施", "整改目标", "牵头单位", "整改时限"],
                                 ["问题甲", "措施甲", "目标", "县教育局", "2026-12-31"]]})
    url, page = preview_of(admin, upload(admin, evaluation, content))
    assert "No header row was found" in page.text            # the first sheet is only instructions
    assert '<option value="说明" selected>说明</option><option value="整改台账">整改台账</option>' in page.text
    admin.post(url + "/choices", {"sheet": "整改台账"})
    page = admin.get(url + "?lang=en")
    assert list(outcomes(page)) == [2] and outcomes(page)[2].startswith("Will be imported")
    admin.post(url + "/confirm")
    assert db.session.scalars(select(Item.title)).all() == ["措施甲"]


def test_an_import_creates_the_evaluation_it_belongs_to_on_confirm(setup, db):
    _evaluation, admin = setup
    rows = [["存在问题", "整改措施", "整改目标", "牵头单位", "整改时限"],
            ["问题甲", "措施甲", "目标", "县教育局", "2026-12-31"]]
    form = admin.get("/reports/import?lang=en")
    assert '<option value="0">A new evaluation (name and year below)</option>' in form.text
    response = admin.post("/reports/import", {"kind": "ledger", "evaluation_id": "0", "new_title": "",
                                              "file": (xlsx(rows), "台账.xlsx")}, content_type="multipart/form-data")
    assert "Give the new evaluation a name and a year." in response.text
    response = admin.post("/reports/import", {"kind": "ledger", "evaluation_id": "0", "new_title": "2027年县级评价",
                                              "new_year": "2027", "file": (xlsx(rows), "台账.xlsx")},
                          content_type="multipart/form-data")
    url, page = preview_of(admin, response)
    assert "→ 2027 · 2027年县级评价" in page.text and outcomes(page)[2].startswith("Will be imported")
    assert count(db, Evaluation) == 1                        # nothing is created before the confirm
    done = admin.post(url + "/confirm")
    created = db.session.scalar(select(Evaluation).where(Evaluation.title == "2027年县级评价"))
    assert created.year == 2027 and done.location.endswith(f"/items?evaluation={created.id}&status=draft")
    item = db.session.scalar(select(Item))
    assert item.finding.evaluation_id == created.id


def test_a_new_evaluation_is_not_created_when_the_import_fails(setup, db):
    _evaluation, admin = setup
    rows = [["存在问题", "整改措施", "整改目标", "牵头单位", "整改时限"],
            ["问题甲", "措施甲", "目标", "县火星局", "2026-12-31"]]
    response = admin.post("/reports/import", {"kind": "ledger", "evaluation_id": "0", "new_title": "新评价",
                                              "new_year": "2027", "file": (xlsx(rows), "台账.xlsx")},
                          content_type="multipart/form-data")
    url, _page = preview_of(admin, response)
    admin.post(url + "/confirm")
    assert count(db, Evaluation) == 1 and count(db, Item) == 0


def test_listed_supervision_is_set_where_the_sheet_marks_it(setup, db):
    evaluation, admin = setup
    rows = [["序号", "存在问题", "整改措施", "整改目标", "牵头单位", "整改时限", "是否挂牌督办"],
            [1, "问题甲", "措施甲", "目标", "县教育局", "2026-12-31", "是"],
            [2, "问题乙", "措施乙", "目标", "县教育局", "2026-12-31", "否"],
            [3, "问题丙", "措施丙", "目标", "县教育局", "2026-12-31", "√"],
            [4, "问题丁", "措施丁", "目标", "县教育局", "2026-12-31", None]]
    url, page = preview_of(admin, upload(admin, evaluation, xlsx(rows)))
    result = outcomes(page)
    assert "Listed for supervision (挂牌督办), as the sheet marks it." in result[2]
    assert "Listed for supervision" not in result[3] and "Listed for supervision" in result[4]
    admin.post(url + "/confirm")
    assert db.session.scalars(select(Item.listed_supervision).order_by(Item.id)).all() == [True, False, True, False]


def test_two_thousand_rows_import_and_one_more_meets_a_clear_message(setup, db):
    evaluation, admin = setup
    header = ["存在问题", "整改措施", "整改目标", "牵头单位", "整改时限"]
    rows = [header] + [[f"问题{n}", "措施", "目标", "县教育局", "2026-12-31"] for n in range(2001)]
    _url, page = preview_of(admin, upload(admin, evaluation, xlsx(rows)))
    assert "The sheet has more than 2000 rows. Split it into smaller sheets." in page.text
    assert "/confirm" not in page.text
    url, page = preview_of(admin, upload(admin, evaluation, xlsx(rows[:2001])))
    assert "2000 rows, 0 with errors." in page.text
    admin.post(url + "/confirm")
    assert count(db, Item) == 2000


def test_a_30000_character_cell_is_refused_in_its_row_and_nothing_is_written(setup, db):
    evaluation, admin = setup
    rows = [["存在问题", "整改措施", "整改目标", "牵头单位", "整改时限"],
            ["问题甲", "措施", "目标" * 15000, "县教育局", "2026-12-31"]]
    url, page = preview_of(admin, upload(admin, evaluation, xlsx(rows)))
    assert "The column “整改目标” is longer than" in outcomes(page)[2]
    admin.post(url + "/confirm")
    assert count(db, Item) == 0


def test_a_closed_item_is_not_offered_for_update(setup, db):
    from tracker.items.models import Status
    evaluation, admin = setup
    rows = [["存在问题", "整改措施", "整改目标", "牵头单位", "整改时限"],
            ["大班额问题突出", "新建学校", "消除大班额", "县教育局", "2026-12-31"]]
    url, _page = preview_of(admin, upload(admin, evaluation, xlsx(rows)))
    admin.post(url + "/confirm")
    item = db.session.scalar(select(Item))
    item.status, item.cancelled_at, item.cancel_reason = Status.CANCELLED, clock.now(), "重复事项"
    db.session.commit()
    rows[1][2] = "另一个目标"
    url, page = preview_of(admin, upload(admin, evaluation, xlsx(rows)))
    assert f"Already imported (item #{item.id}, closed or cancelled): this row is skipped." in outcomes(page)[2]
    assert 'name="again-2"' not in page.text
    admin.post(url + "/choices", {"again-2": "update"})
    admin.post(url + "/confirm")
    db.session.expire_all()
    assert db.session.scalars(select(Item.target)).all() == ["消除大班额"]
