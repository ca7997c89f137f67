"""The ledger: filters, sorting, counts and pagination live in the URL; no N+1 queries."""
import datetime as dt
import re

import pytest
from sqlalchemy import event

from tracker.auth.models import Role
from tracker.extensions import db as _db
from tracker.items.models import Status

D = dt.timedelta


def titles(page) -> list[str]:
    return re.findall(r'<td class="title-cell"><a href="/items/\d+">([^<]+)</a>', page.text)


@pytest.fixture
def admin(login_as, make):
    return login_as(make.user(Role.ADMIN))


def test_empty_ledger_says_so(admin):
    assert "没有符合筛选条件的整改事项" in admin.get("/items").text


def test_filter_by_unit_includes_cooperating_items(admin, make):
    edu, fin = make.unit("县教育局"), make.unit("县财政局")
    make.item(lead_unit=edu, title="甲")
    make.item(lead_unit=fin, cooperating=[edu], title="乙")
    make.item(lead_unit=fin, title="丙")
    assert sorted(titles(admin.get(f"/items?unit={edu.id}"))) == ["乙", "甲"]


def test_filter_by_status_owner_and_text(admin, make):
    unit = make.unit()
    owner = make.user(Role.HEAD, unit=unit)
    make.item(status=Status.SUBMITTED, title="特殊教育学校建设", lead_unit=unit, owner=owner)
    make.item(status=Status.IN_PROGRESS, title="消除大班额", lead_unit=unit)
    assert titles(admin.get("/items?status=submitted")) == ["特殊教育学校建设"]
    assert titles(admin.get(f"/items?owner={owner.id}")) == ["特殊教育学校建设"]
    assert titles(admin.get("/items?q=大班额")) == ["消除大班额"]


def test_free_text_matches_the_problem_text_and_escapes_wildcards(admin, make):
    make.item(title="事项一")
    assert titles(admin.get("/items?q=结构性短缺")) == ["事项一"]  # the finding's text
    assert titles(admin.get("/items?q=%25")) == []                 # a literal %, not a wildcard
    assert titles(admin.get("/items?q=_")) == []


def test_filter_by_evaluation(admin, make, db):
    from tracker.evaluations.models import Evaluation, Finding
    item = make.item(title="旧评价事项")
    other = Evaluation(title="2020", year=2020, issuing_body="州政府")
    db.session.add(Finding(evaluation=other, text="大班额", category="办学条件"))
    db.session.commit()
    assert titles(admin.get(f"/items?evaluation={item.finding.evaluation_id}")) == ["旧评价事项"]
    assert titles(admin.get(f"/items?evaluation={other.id}")) == []


@pytest.mark.parametrize("sort,expected", [
    ("deadline", ["B", "C", "A"]), ("-deadline", ["A", "C", "B"]),
    ("progress", ["C", "A", "B"]), ("-progress", ["B", "A", "C"]),
    ("title", ["A", "B", "C"]), ("light", ["B", "C", "A"]),
])
def test_sorting(admin, make, today, sort, expected):
    make.item(title="A", deadline=today + D(days=90), progress=50)
    make.item(title="B", deadline=today - D(days=2), progress=60)
    make.item(title="C", deadline=today + D(days=3), progress=10)
    assert titles(admin.get(f"/items?sort={sort}")) == expected


def test_pagination_keeps_filters_in_links(admin, make, app):
    for n in range(30):
        make.item(title=f"事项{n:02d}", status=Status.IN_PROGRESS)
    make.item(title="草稿", status=Status.DRAFT)
    first = admin.get("/items?status=in_progress&sort=title")
    assert len(titles(first)) == app.config["ITEMS_PER_PAGE"]
    assert "page=2" in first.text and "status=in_progress" in first.text
    second = admin.get("/items?status=in_progress&sort=title&page=2")
    assert titles(second) == [f"事项{n:02d}" for n in range(25, 30)]
    assert titles(admin.get("/items?status=in_progress&page=99")) == []


def test_the_pager_shows_the_edges_and_the_pages_around_this_one(admin, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "ITEMS_PER_PAGE", 1)
    for n in range(20):
        make.item(title=f"事项{n:02d}")
    page = admin.get("/items?sort=title&page=7")
    pager = re.search(r'<nav class="pager".*?</nav>', page.text, re.S).group(0)
    shown = re.findall(r">(\d+|…)<", pager)
    assert shown == ["1", "2", "…", "5", "6", "7", "8", "9", "10", "11", "…", "19", "20"]
    assert 'aria-current="page">7<' in pager and "page=6" in pager and "page=8" in pager
    assert titles(page) == ["事项06"] and "共 20 项" in page.text
    last = admin.get("/items?sort=title&page=20")
    assert 'rel="next"' not in last.text and 'rel="prev"' in last.text


def test_counts_per_status_at_the_top(admin, make):
    make.item(status=Status.DRAFT)
    make.item(status=Status.SUBMITTED)
    make.item(status=Status.SUBMITTED)
    page = admin.get("/items?status=draft").text
    assert re.search(r"已申请销号 <b>2</b>", page)
    assert re.search(r"全部 <b>3</b>", page)


@pytest.mark.parametrize("query", ["status=bogus", "light=purple", "unit=abc", "owner=-4", "page=-1",
                                   "page=abc", "sort=password_hash", "evaluation=99999999999999999999",
                                   "q=" + "长" * 500])
def test_malformed_parameters_are_ignored(admin, make, query):
    make.item(title="可见事项")
    page = admin.get(f"/items?{query}")
    assert page.status_code == 200


def test_query_count_does_not_grow_with_items_shown(admin, make, app):
    def count_queries(n_items) -> int:
        for _ in range(n_items):
            unit = make.unit()
            make.item(lead_unit=unit, cooperating=[make.unit()], owner=make.user(Role.HEAD, unit=unit))
        with app.app_context():
            engine = _db.engine
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert admin.get("/items").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    few = count_queries(2)
    many = count_queries(20)
    # The first request may also build a cached list the second finds (evaluations): never more.
    assert many <= few, f"{few} queries for 2 items, {many} for 22"
    assert few <= 16   # new units each time: the cached filter lists are rebuilt (two queries)


def test_a_units_counts_hold_its_led_and_cooperating_items_once(make, today):
    """The per-status counts of a unit's ledger include the items it cooperates on, each once."""
    from tracker.items import ledger
    unit = make.unit()
    make.item(status=Status.SUBMITTED, lead_unit=unit)
    make.item(status=Status.SUBMITTED, cooperating=[unit])
    make.item(status=Status.ASSIGNED, lead_unit=unit, cooperating=[unit])  # listed as both: still one item
    make.item(status=Status.SUBMITTED)  # another unit's
    admin, head = make.user(Role.ADMIN), make.user(Role.HEAD, unit=unit)
    for user, args in ((admin, {"unit": str(unit.id)}), (head, {}), (head, {"unit": str(unit.id)})):
        counts = ledger.status_counts(ledger.LedgerFilter.from_args(args), user, today)
        assert (counts[Status.SUBMITTED], counts[Status.ASSIGNED], sum(counts.values())) == (2, 1, 3), args


def test_open_items_only_hides_closed_and_cancelled_on_every_page(admin, make, login_as):
    unit = make.unit("县教育局")
    for status, title in [(Status.DRAFT, "待交办"), (Status.IN_PROGRESS, "整改中"), (Status.RETURNED, "已退回"),
                          (Status.CLOSED, "已销号"), (Status.CANCELLED, "已撤销")]:
        make.item(status=status, title=title, lead_unit=unit)
    page = admin.get(f"/items?unit={unit.id}&open=1")
    assert sorted(titles(page)) == sorted(["待交办", "整改中", "已退回"])
    assert 'id="open" name="open" value="1" checked' in page.text
    sort_link = re.search(r'<th scope="col">\s*<a href="([^"]+)"', page.text).group(1)
    assert "open=1" in sort_link           # the choice survives sorting
    assert sorted(titles(admin.get(f"/items?q=已&open=1"))) == ["已退回"]      # with a search too
    head = login_as(make.user(Role.HEAD, unit=unit))
    mine = titles(head.get("/my?open=1"))
    assert "已销号" not in mine and "已撤销" not in mine and "整改中" in mine


def test_reddest_first_follows_every_change_and_the_day(make, login_as, db, today):
    """The reddest-first order follows every change of an item and the day."""
    from tracker import clock
    from tracker.items.models import ClosureResult, Item
    unit = make.unit()
    calm = make.item(lead_unit=unit, title="按期推进", deadline=today + D(days=90), progress=60)
    late = make.item(lead_unit=unit, title="即将到期", deadline=today + D(days=2), progress=60)
    head = login_as(make.user(Role.HEAD, unit=unit))
    assert titles(head.get("/my")) == ["即将到期", "按期推进"]
    db.session.get(Item, calm.id).deadline = today - D(days=1)      # now overdue: red comes first
    db.session.commit()
    assert titles(head.get("/my")) == ["按期推进", "即将到期"]
    assert titles(head.get("/my?status=in_progress")) == ["按期推进", "即将到期"]
    clock.freeze(today + D(days=3))                                   # the other one is overdue too
    head = login_as(make.user(Role.HEAD, unit=unit))
    assert titles(head.get("/my")) == ["按期推进", "即将到期"]   # both red now: by number
    inspector = make.user(Role.INSPECTOR)
    item = db.session.get(Item, late.id)
    item.status, item.closed_at, item.closed_by_id = Status.CLOSED, clock.now(), inspector.id
    item.closure_result = ClosureResult.RECTIFIED
    db.session.commit()
    assert titles(head.get("/my?open=1")) == ["按期推进"]
    assert titles(head.get("/my")) == ["按期推进", "即将到期"]   # closed: no light, last


def test_links_keep_a_search_with_metacharacters_intact(admin, make):
    make.item(title="教师 & 校长#1")
    page = admin.get("/items?q=" + "教师 %26 校长%231")
    assert titles(page) == ["教师 &amp; 校长#1"]
    sort_link = re.search(r'<th scope="col">\s*<a href="([^"]+)"', page.text).group(1)
    assert "q=%E6%95%99%E5%B8%88+%26+%E6%A0%A1%E9%95%BF%231" in sort_link
    assert titles(admin.get(sort_link.replace("&amp;", "&"))) == ["教师 &amp; 校长#1"]


def test_a_units_listing_never_lags_a_change(admin, make, db, today):
    """One unit's listing (order, statuses and counts) right after each change."""
    from tracker.items.models import Item
    unit = make.unit()
    first = make.item(lead_unit=unit, title="甲", deadline=today + D(days=10))
    make.item(lead_unit=unit, title="乙", deadline=today + D(days=20))
    url = f"/items?unit={unit.id}&sort=deadline"
    assert titles(admin.get(url)) == ["甲", "乙"]
    db.session.get(Item, first.id).deadline = today + D(days=30)
    db.session.commit()
    assert titles(admin.get(url)) == ["乙", "甲"]
    db.session.get(Item, first.id).status = Status.SUBMITTED
    db.session.commit()
    page = admin.get(url + "&status=submitted")
    assert titles(page) == ["甲"]
    assert re.search(r'class="status-submitted">[^<]*<b>1</b>', page.text)
    make.item(lead_unit=unit, title="丙", deadline=today + D(days=5))
    assert titles(admin.get(url)) == ["丙", "乙", "甲"]
