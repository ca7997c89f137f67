"""Finding the header of a ledger as county offices send them round: a title merged across the
table, a 填报 line, blank rows, a grouped two-row header and other wordings for the same column."""
import pytest
from sqlalchemy import select

from tracker.items.models import Item
from tests.reports.test_import import outcomes, preview_of, setup, upload, xlsx  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("import_dir")
from tests.reports.test_import import import_dir  # noqa: E402,F401


GROUPED = [
    ["XX县履行教育职责评价反馈问题整改台账"] + [None] * 8,
    ["填报单位：县教育督导室    填报时间：2026年11月30日"] + [None] * 8,
    [None] * 9,
    ["序号", "反馈问题", "具体措施", "整改目标", "责任分工", None, None, None, "时间节点"],
    [None, None, None, None, "责任领导", "责任单位", "配合单位", "具体负责人", None],
    [1, "大班额问题突出", "新建城区学校", "消除大班额", "王副县长", "县教育局", "县财政局", "", "2026-12-31"],
]
GROUPED_MERGES = ["A1:I1", "A2:I2", "A4:A5", "B4:B5", "C4:C5", "D4:D5", "E4:H4", "I4:I5"]


def test_a_grouped_two_row_header_under_a_title_and_a_filing_line_is_found(setup, db):
    evaluation, admin = setup
    url, page = preview_of(admin, upload(admin, evaluation, xlsx(GROUPED, merges=GROUPED_MERGES)))
    result = outcomes(page)
    assert list(result) == [6] and result[6].startswith("Will be imported"), page.text
    assert "Ignored columns" not in page.text                      # 责任分工 is a group, not a column
    admin.post(url + "/confirm")
    item = db.session.scalar(select(Item))
    assert (item.lead_unit.name, [u.name for u in item.cooperating_units], item.responsible_leader,
            item.measures, item.finding.text) == ("县教育局", ["县财政局"], "王副县长", "新建城区学校",
                                                  "大班额问题突出")


@pytest.mark.parametrize("problem,measures,deadline,lead,owner", [
    ("存在问题", "整改措施", "整改时限", "牵头单位", "责任人"),
    ("问题表现", "具体措施", "完成时限", "责任单位", "具体负责人"),
    ("反馈问题", "整改措施", "时间节点", "牵头单位", "责任人"),
])
def test_header_wordings_are_matched_by_meaning(setup, make, db, problem, measures, deadline, lead, owner):
    evaluation, admin = setup
    rows = [[problem, measures, "整改目标", lead, owner, deadline],
            ["问题", "措施", "目标", "县教育局", "", "2026-12-31"]]
    url, page = preview_of(admin, upload(admin, evaluation, xlsx(rows)))
    assert outcomes(page)[2].startswith("Will be imported"), page.text


def test_a_sheet_without_the_header_names_what_was_looked_for(setup):
    evaluation, admin = setup
    _url, page = preview_of(admin, upload(admin, evaluation, xlsx([["甲", "乙"], [1, 2]])))
    assert "No header row was found" in page.text
    for title in ("存在问题", "问题表现", "反馈问题", "整改措施", "具体措施", "牵头单位", "责任单位"):
        assert title in page.text


def test_a_column_twice_in_the_header_is_refused_clearly(setup, db):
    evaluation, admin = setup
    rows = [["存在问题", "整改措施", "整改目标", "牵头单位", "责任单位", "整改时限"],
            ["问题", "措施", "目标", "县教育局", "县财政局", "2026-12-31"]]
    _url, page = preview_of(admin, upload(admin, evaluation, xlsx(rows)))
    assert "The column “责任单位” appears twice in the header (columns D and E)" in page.text
    assert "/confirm" not in page.text and db.session.scalar(select(Item)) is None
