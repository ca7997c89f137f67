"""The dashboard: the numbers leaders read, against a known fixture; heads see their unit only."""
import datetime as dt
import re

import pytest
from sqlalchemy import event

from tests.helpers import table, tile
from tracker import clock
from tracker.auth.models import Role
from tracker.evaluations.models import Indicator, Rating
from tracker.extensions import db as _db
from tracker.items.models import Status

D = dt.timedelta


@pytest.fixture
def ledger(make, today):
    """Education bureau: closed, overdue, on track, cancelled; finance bureau: due soon, draft."""
    edu, fin = make.unit("县教育局"), make.unit("县财政局")
    make.item(lead_unit=edu, status=Status.CLOSED, title="销号甲", deadline=today + D(days=30))
    make.item(lead_unit=edu, status=Status.IN_PROGRESS, title="超期未改甲", deadline=today - D(days=5))
    make.item(lead_unit=edu, status=Status.IN_PROGRESS, title="按期推进甲", deadline=today + D(days=60),
              progress=30)
    make.item(lead_unit=edu, status=Status.CANCELLED, title="撤销甲")
    make.item(lead_unit=fin, status=Status.IN_PROGRESS, title="临期乙", deadline=today + D(days=3))
    make.item(lead_unit=fin, status=Status.DRAFT, title="草稿乙")
    return edu, fin


def test_numbers_by_status_light_and_unit(login_as, make, ledger):
    page = login_as(make.user(Role.LEADER)).get("/reports/?lang=en")
    assert page.status_code == 200
    # The draft is the coordinator's: in no total, light, unit row or rate, and a leader does not see it.
    assert (tile(page, "tile-total"), tile(page, "tile-open"), tile(page, "tile-overdue"),
            tile(page, "tile-closed")) == ("5", "3", "1", "1")
    assert 'id="tile-drafts"' not in page.text
    by_status = dict(table(page, "by-status"))
    assert by_status["In progress"] == "3" and by_status["Draft"] == "0" and by_status["Cancelled"] == "1"
    assert dict(table(page, "by-light")) == {"Overdue": "1", "Attention": "1", "On track": "1"}
    # Unit, items (handed out, not cancelled), open, closed, overdue, completion rate (closed among
    # those items): the digest's and the statistics page's numbers (tracker/reports/stats.py); then
    # open and overdue parts as a cooperating unit.
    assert table(page, "by-unit") == [["县教育局", "3", "2", "1", "1", "33%", "0", "0"],
                                      ["县财政局", "1", "1", "0", "0", "0%", "0", "0"]]
    assert "<svg" in page.text and "Completion rate per lead unit" in page.text
    admin = login_as(make.user(Role.ADMIN)).get("/reports/?lang=en")
    assert tile(admin, "tile-total") == "5" and tile(admin, "tile-drafts") == "1"
    assert "Drafts waiting to be handed out" in admin.text
    assert table(admin, "by-unit") == table(page, "by-unit")


def test_unit_table_sorts_on_request(login_as, make, ledger):
    page = login_as(make.user(Role.ADMIN)).get("/reports/?sort=-overdue")
    assert [row[0] for row in table(page, "by-unit")] == ["县教育局", "县财政局"]
    page = login_as(make.user(Role.ADMIN)).get("/reports/?sort=name")
    assert [row[0] for row in table(page, "by-unit")] == sorted(["县教育局", "县财政局"])


def test_weekly_closures_and_newly_overdue(login_as, make, ledger, today):
    # Closed before its deadline passed: never overdue.
    item = make.item(status=Status.CLOSED, deadline=today - D(days=20))
    item.closed_at = clock.now() - D(days=25)
    _db.session.commit()
    weeks = table(login_as(make.user(Role.INSPECTOR)).get("/reports/"), "by-week")
    assert len(weeks) == 12
    assert weeks[-1][0].startswith(today.isoformat())            # this week (today is a Monday)
    assert weeks[-1][1:] == ["1", "0"]                            # one closure this week
    assert weeks[-2][1:] == ["0", "1"]                            # overdue since last Thursday
    assert sum(int(w[2]) for w in weeks) == 1
    assert weeks[-5][1] == "1"                                    # the early closure, 25 days ago


def test_indicator_framework_with_ratings_and_linked_items(login_as, make, db, ledger):
    finding = make.finding()
    evaluation = finding.evaluation
    top = Indicator(evaluation=evaluation, level=1, code="1", sort_key="0001", name="教育投入")
    mid = Indicator(evaluation=evaluation, level=2, code="1.1", sort_key="0001.0001", name="经费保障", parent=top)
    db.session.add_all([
        top, mid,
        Indicator(evaluation=evaluation, level=3, code="1.1.1", sort_key="0001.0001.0001", name="生均公用经费",
                  parent=mid, self_rating=Rating.FULLY),
        bad := Indicator(evaluation=evaluation, level=3, code="1.1.2", sort_key="0001.0001.0002",
                         name="教师配备", parent=mid, self_rating=Rating.NOT_YET, rating_after=Rating.BASICALLY)])
    db.session.flush()
    finding.indicator_id = bad.id
    db.session.commit()
    page = login_as(make.user(Role.LEADER)).get(f"/reports/?lang=en&evaluation={evaluation.id}")
    rows = table(page, "framework")
    assert [r[0] for r in rows] == ["1", "1.1", "1.1.1", "1.1.2"]
    assert rows[3][2:4] == ["Not yet implemented", "Basically implemented"]
    assert "超期未改甲" in rows[3][4] and "临期乙" in rows[3][4]
    assert rows[2][4] == ""
    ratings = re.sub(r"\s+", " ", re.search(r'id="ratings">(.*?)</p>', page.text, re.S).group(1))
    assert "Fully implemented 1" in ratings and "Not yet implemented 1" in ratings


def test_a_head_sees_only_the_unit(login_as, make, ledger):
    _edu, fin = ledger
    page = login_as(make.user(Role.HEAD, unit=fin)).get("/reports/?lang=en")
    assert page.status_code == 200
    assert f"Dashboard of {fin.name}" in page.text
    assert tile(page, "tile-total") == "1"  # its draft is not there for the unit
    assert [row[0] for row in table(page, "by-unit")] == ["县财政局"]
    assert "超期未改甲" not in page.text


def test_charts_need_no_script_and_no_inline_style(login_as, make, ledger):
    page = login_as(make.user(Role.ADMIN)).get("/reports/")
    svg = "".join(re.findall(r"<svg.*?</svg>", page.text, re.S))
    assert svg.count("<svg") == 2
    assert "<script" not in svg and "style=" not in svg and "http://" not in svg.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert 'media="print"' in page.text  # a print stylesheet


def test_dashboard_query_count_does_not_grow_with_items(login_as, make, app, db, today):
    admin = login_as(make.user(Role.ADMIN))

    def count_queries(n_units) -> int:
        for n in range(n_units):
            unit = make.unit()
            make.item(lead_unit=unit, status=Status.CLOSED)
            make.item(lead_unit=unit, deadline=today - D(days=n + 1))
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert admin.get("/reports/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    few, many = count_queries(2), count_queries(15)
    assert many == few, f"{few} queries for 2 units, {many} for 17"
    assert few <= 15
