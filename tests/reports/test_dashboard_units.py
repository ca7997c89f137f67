"""The dashboard at province scale: the unit table comes in pages, the chart shows the units
furthest behind, the indicator framework lists a few items per indicator."""
import datetime as dt
import re

import pytest

from tests.helpers import table
from tracker.auth.models import Role
from tracker.evaluations.models import Indicator
from tracker.items.models import Status
from tracker.reports.dashboard import CHART_UNITS, LINKED_ITEMS, UNITS_PER_PAGE

D = dt.timedelta
UNITS = UNITS_PER_PAGE + 5


@pytest.fixture
def many_units(make, today):
    """Unit 00 has closed its only item, every other unit has one open item; unit 07 is overdue."""
    units = [make.unit(f"单位{n:02d}") for n in range(UNITS)]
    make.item(lead_unit=units[0], status=Status.CLOSED)
    for n, unit in enumerate(units[1:], start=1):
        make.item(lead_unit=unit, deadline=today - D(days=3) if n == 7 else today + D(days=90))
    return units


@pytest.fixture
def admin(login_as, make):
    return login_as(make.user(Role.ADMIN))


def names(page) -> list[str]:
    return [row[0] for row in table(page, "by-unit")]


def test_the_unit_table_comes_in_pages_sorted_across_all_of_them(admin, many_units):
    first = admin.get("/reports/?sort=name")
    assert names(first) == [f"单位{n:02d}" for n in range(UNITS_PER_PAGE)]
    assert 'aria-current="page">1<' in first.text
    assert "/reports/?sort=name&amp;page=2" in first.text
    second = admin.get("/reports/?sort=name&page=2")
    assert names(second) == [f"单位{n:02d}" for n in range(UNITS_PER_PAGE, UNITS)]
    assert names(admin.get("/reports/?sort=-name"))[0] == f"单位{UNITS - 1:02d}"


def test_sorting_by_overdue_puts_the_overdue_unit_on_the_first_page(admin, many_units):
    assert names(admin.get("/reports/?sort=-overdue"))[0] == "单位07"
    assert names(admin.get("/reports/?sort=-rate"))[0] == "单位00"


@pytest.mark.parametrize("query, shown_page", [
    ("page=999999", 2), ("page=99999999999999999999999", 2), ("page=-3", 1), ("page=0", 1),
    ("page=abc", 1), ("page=", 1), ("sort=items%3B%20DROP%20TABLE%20items", 1), ("sort=__class__", 1),
    ("sort=-", 1), ("sort=name&page=2%27", 1)])
def test_bad_paging_and_sorting_input_shows_a_page(admin, many_units, query, shown_page):
    page = admin.get(f"/reports/?{query}")
    assert page.status_code == 200
    assert f'aria-current="page">{shown_page}<' in page.text
    assert len(names(page)) == (UNITS_PER_PAGE if shown_page == 1 else UNITS - UNITS_PER_PAGE)


def test_sort_links_keep_the_evaluation_and_start_again_on_page_one(admin, make, many_units):
    evaluation = make.finding().evaluation
    page = admin.get(f"/reports/?evaluation={evaluation.id}&sort=name&page=2")
    links = re.findall(r'href="(/reports/\?[^"#]*)#units"', page.text)
    assert f"/reports/?sort=-name&amp;evaluation={evaluation.id}" in links
    assert all("page=" not in link for link in links)


def test_the_chart_shows_the_units_furthest_behind_and_points_to_all(admin, many_units):
    page = admin.get("/reports/?lang=en")
    chart = re.search(r'<svg class="chart bar-chart".*?</svg>', page.text, re.S).group(0)
    assert chart.count("<rect") == CHART_UNITS
    assert "单位07" in chart            # 0 % and overdue: first in line
    assert "单位00" not in chart        # 100 %
    assert f"The {CHART_UNITS} of {UNITS} lead units with the lowest completion rate" in page.text
    assert 'href="/reports/?sort=rate#units"' in page.text


def test_a_small_ledger_charts_every_unit_without_a_caption(admin, make):
    make.item(lead_unit=make.unit("县教育局"))
    page = admin.get("/reports/?lang=en")
    assert page.text.count("<rect") == 1 and "lowest completion rate" not in page.text


def test_an_indicator_lists_its_first_items_and_counts_the_others(login_as, make, db, today):
    finding = make.finding()
    indicator = Indicator(evaluation=finding.evaluation, level=3, code="1.1.1", sort_key="0001", name="教师配备")
    db.session.add(indicator)
    db.session.flush()
    finding.indicator_id = indicator.id
    db.session.commit()
    for n in range(LINKED_ITEMS + 3):
        make.item(finding=finding, title=f"关联事项{n}", deadline=today + D(days=n + 1))
    page = login_as(make.user(Role.LEADER)).get(f"/reports/?lang=en&evaluation={finding.evaluation.id}")
    cell = table(page, "framework")[0][4]
    assert [f"关联事项{n}" in cell for n in range(LINKED_ITEMS + 3)] == [True] * LINKED_ITEMS + [False] * 3
    assert "and 3 more" in cell
