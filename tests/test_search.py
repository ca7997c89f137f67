"""Free-text search in the ledger: the same items as a literal, case-insensitive substring match of
title, measures or finding text, found through the search index on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, insert, select, text

from tests.helpers import query_plan, scans_every_item
from tracker.auth.models import Role
from tracker.evaluations.models import Finding
from tracker.items import ledger, search, services
from tracker.items.models import Item, ItemKind, Status

TEXTS = [  # (title, measures, finding text)
    ("核定教师编制", "按标准补足编制", "教师结构性短缺"),
    ("消除大班额", "新建校舍，分流学生", "大班额问题突出"),
    ("Teacher Training 计划", "100% coverage_of staff; see \\share\\plan 'A' \"B\"", "经费不足"),
    ("普通话测试", "组织培训", "教"),
    ("建设特殊教育学校", "立项、用地、开工", "特殊教育学校建设滞后"),
]
QUERIES = ["教", "师", "大", "教师", "编制", "大班", "班额", "教师编制", "编制按", "特殊教育学校建设滞后",
           "teacher", "TRAINING", "Teacher Training 计", "r t", "%", "_", "\\", "'", '"', "100%", "coverage_of",
           "\\share\\", "'A' \"B\"", "*", "教*", "NEAR", "AND", "OR", "(", ")", ":", ":*", "&", "|", "!",
           "<->", ".*", "^教", "[a-z]", "，", "、", " ", "没有的词", "额问", "滞后教"]


def _ids(q: str, user) -> set[int]:
    stmt = ledger._filtered(ledger.visible_to(user), ledger.LedgerFilter(q=q), user, dt.date(2026, 3, 16))
    return set(ledger.db.session.scalars(stmt.with_only_columns(Item.id)))


def _expected(q: str, items) -> set[int]:
    """The substring rule users know, with Python's case folding."""
    q = q.lower()
    return {item.id for item in items
            if any(q in text.lower() for text in (item.title, item.measures, item.finding.text))}


@pytest.fixture
def corpus(db, make):
    items = []
    for title, measures, finding_text in TEXTS:
        finding = Finding(evaluation_id=make.finding().evaluation_id, text=finding_text, category="教师")
        item = make.item(title=title, finding=finding)
        item.measures = measures
        items.append(item)
    db.session.commit()
    return items


@pytest.mark.parametrize("q", QUERIES)
def test_search_finds_exactly_the_items_containing_the_text(db, make, corpus, q):
    """Chinese of one, two and more characters, Latin in any case, punctuation and the syntax
    characters of SQL, LIKE, regular expressions and full-text queries are all plain text."""
    admin = make.user(Role.ADMIN)
    assert _ids(q, admin) == _expected(q, corpus)


def test_two_character_words_are_found_in_each_field(db, make, corpus):
    admin = make.user(Role.ADMIN)
    assert _ids("编制", admin) == {corpus[0].id}       # title and measures
    assert _ids("突出", admin) == {corpus[1].id}       # finding text only
    assert _ids("教师", admin) == {corpus[0].id}       # title and finding text
    assert _ids("额新", admin) == set()                # never across two fields


def test_a_cancelled_item_is_found_and_counted(db, make):
    admin = make.user(Role.ADMIN)
    item = make.item(status=Status.CANCELLED, title="撤销的大班额事项")
    counts = ledger.status_counts(ledger.LedgerFilter(q="大班"), admin, dt.date(2026, 3, 16))
    assert _ids("大班", admin) == {item.id}
    assert counts[Status.CANCELLED] == 1 and sum(counts.values()) == 1


def test_an_edited_title_is_found_by_its_new_text_only(db, make):
    admin = make.user(Role.ADMIN)
    item = make.item(status=Status.DRAFT, title="旧标题核定编制")
    values = {"title": "新标题补充教师", "measures": item.measures, "target": item.target,
              "finding_id": item.finding_id, "lead_unit_id": item.lead_unit_id, "kind": item.kind.value,
              "deadline": item.deadline, "cooperating_unit_ids": [], "owner_id": None}
    services.update_item(admin, item, values)
    db.session.commit()
    assert _ids("补充教师", admin) == {item.id}
    assert _ids("旧标题", admin) == set() and _ids("编制", admin) == set()


def test_an_edited_finding_text_moves_its_items(db, make):
    admin = make.user(Role.ADMIN)
    item = make.item(title="事项")
    finding = db.session.get(Finding, item.finding_id)
    finding.text = "寄宿制学校生活设施不足"
    db.session.commit()
    assert _ids("寄宿", admin) == {item.id}
    assert _ids("短缺", admin) == set()


def test_items_written_without_the_orm_are_found(db, make):
    """Bulk inserts (the generator, imports) are indexed by the database itself."""
    admin = make.user(Role.ADMIN)
    unit, finding = make.unit(), make.finding()
    day = dt.date(2026, 4, 1)
    db.session.execute(insert(Item.__table__), [{
        "finding_id": finding.id, "title": "批量写入的事项", "measures": "措施", "target": "目标",
        "kind": ItemKind.DEADLINE, "lead_unit_id": unit.id, "deadline": day, "original_deadline": day,
        "status": Status.DRAFT, "last_activity_on": day, "created_at": dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        "updated_at": dt.datetime(2026, 3, 1, tzinfo=dt.UTC)}])
    db.session.commit()
    assert len(_ids("批量", admin)) == 1


def test_the_index_is_filled_for_items_that_existed_before_it(db, make, corpus):
    """The migration's backfill: dropping and recreating the index finds the same items."""
    admin = make.user(Role.ADMIN)
    db.session.commit()
    with db.engine.begin() as conn:
        search.drop_index(conn)
        search.create_index(conn)
    assert _ids("大班", admin) == {corpus[1].id}


@pytest.mark.parametrize("q", ["长" * 1000, "教师\x00编制", "'; DROP TABLE items; --", "%_%", "x" * 1000])
def test_hostile_search_text_gives_a_ledger_page(db, make, login_as, q):
    admin = make.user(Role.ADMIN)
    make.item(title="教师编制")
    response = login_as(admin).get("/items", query_string={"q": q})
    assert response.status_code == 200
    assert ("教师编制" in response.text) == (q == "教师\x00编制")


def _search_statements(user, q: str) -> dict:
    today = dt.date(2026, 3, 16)
    flt = ledger.LedgerFilter(q=q)
    page = ledger._ordered(ledger._filtered(ledger.visible_to(user), flt, user, today), flt.sort, today)
    base = ledger._filtered(ledger.visible_to(user), flt, user, today, with_status=False).subquery()
    return {"page": page.limit(20),
            "total": select(func.count()).select_from(page.order_by(None).subquery()),
            "status counts": select(base.c.status, func.count()).group_by(base.c.status)}


@pytest.mark.parametrize("q", ["大班", "教", "教师编制"])
def test_search_page_total_and_counts_use_the_search_index(db, make, q):
    """The page, its total and the per-status counts all start from the index's candidates."""
    admin = make.user(Role.ADMIN)
    for name, stmt in _search_statements(admin, q).items():
        # On a few rows PostgreSQL may as well walk the search table's primary key and filter: with
        # plain and index-only scans off too, only a bitmap scan of the search index can find the
        # candidates (an index-only walk of the key was chosen once the table's pages were all-visible).
        plan = query_plan(db, stmt, "SET enable_indexscan = off", "SET enable_indexonlyscan = off")
        if db.engine.dialect.name == "sqlite":
            assert "item_search VIRTUAL TABLE INDEX" in plan, (name, plan)
        else:
            assert "ix_item_search_terms" in plan, (name, plan)
        assert not scans_every_item(plan, db.engine.dialect.name), (name, plan)


# -- what a search's pages show ----------------------------------------------------------------

def _titles(page) -> list[str]:
    import re
    return re.findall(r'<td class="title-cell"><a href="/items/\d+">([^<]+)</a>', page.text)


def test_a_repeated_search_sees_every_change(db, make, login_as):
    admin = login_as(make.user(Role.ADMIN))
    item = make.item(status=Status.IN_PROGRESS, title="消除大班额")
    make.item(status=Status.IN_PROGRESS, title="大班额化解")
    assert sorted(_titles(admin.get("/items?q=大班额"))) == ["大班额化解", "消除大班额"]
    item.status = Status.SUBMITTED          # counts and lists follow every change
    db.session.commit()
    assert _titles(admin.get("/items?q=大班额&status=submitted")) == ["消除大班额"]
    item.title = "新建校舍"
    db.session.commit()
    page = admin.get("/items?q=大班额")
    assert _titles(page) == ["大班额化解"]
    assert "1 项" in page.text or "1 item<" in page.text


def test_search_pages_hold_every_hit_once_in_order(db, make, login_as, app):
    admin = login_as(make.user(Role.ADMIN))
    per_page = app.config["ITEMS_PER_PAGE"]
    for n in range(per_page + 3):
        make.item(title=f"大班额{n:03d}")
    first = _titles(admin.get("/items?q=大班额&sort=title"))
    second = _titles(admin.get("/items?q=大班额&sort=title&page=2"))
    assert first + second == [f"大班额{n:03d}" for n in range(per_page + 3)]
    assert _titles(admin.get("/items?q=大班额&sort=-title&page=2")) == [f"大班额{n:03d}" for n in (2, 1, 0)]
    far = admin.get("/items?q=大班额&page=999")
    assert far.status_code == 200 and _titles(far) == []


def test_a_search_page_reads_the_index_in_a_fixed_number_of_statements(db, make, login_as, app):
    """The counts, the page's ids (SQLite: after a count up to a share of the items chooses how to
    read it) and nothing else read the search index, however many items match, each time alike."""
    from sqlalchemy import event
    admin = login_as(make.user(Role.ADMIN))
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    searched, per_page = [], app.config["ITEMS_PER_PAGE"]
    for total in (1, 2 * per_page):
        while db.session.scalar(select(func.count(Item.id))) < total:
            make.item(title="教师编制")
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            page = admin.get("/items?q=教师编制")
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert len(_titles(page)) == min(per_page, total)
        searched.append([s for s in statements if "item_search" in s])
        statements.clear()
    assert len(searched[0]) == len(searched[1]) <= 3, searched
    assert len([s for s in searched[1] if "ORDER BY" in s]) == 1, searched


# -- the first search after a change: read afresh, by either plan, and exactly right ------------------

@pytest.fixture(params=["looked up by id", "walked in order, asking the index item by item",
                        "walked in order through the set of matches"])
def plan(request, monkeypatch):
    """Every way of reading a search's page (SQLite walks the order's index for broad searches)."""
    walk = request.param != "looked up by id"
    monkeypatch.setattr(ledger, "_walks_in_order", lambda flt, user: walk and ledger.db.engine.dialect.name == "sqlite")
    monkeypatch.setattr(ledger, "PROBES", 0 if "set" in request.param else 10**9)
    return request.param


def _expected_hits(db, q: str, statuses=None, descending=False) -> list[tuple[int, Status]]:
    """Every item whose title, measures or finding text holds `q`, by (deadline, id)."""
    items = db.session.scalars(select(Item)).all()
    found = [(item.deadline, item.id, item.status) for item in items
             if any(q.lower() in text.lower() for text in (item.title, item.measures, item.finding.text))
             and (statuses is None or item.status in statuses)]
    return [(item_id, status) for _, item_id, status in sorted(found, reverse=descending)]


def _found(flt, user, per_page=4) -> list[tuple[int, Status]]:
    """Every page of the search (and of each status), joined, as the ledger shows them; the
    counts per status and each page's total agree with them."""
    today = dt.date(2026, 3, 16)
    counts = ledger.status_counts(flt, user, today)

    def pages(status=None) -> list[int]:
        ids, number = [], 1
        while True:
            page = ledger.page_of_items(ledger.replace(flt, status=status, page=number), user, today, per_page,
                                        load=list)
            assert page.total == (counts[status] if status else sum(counts.values()))
            if not page.items:
                return ids
            ids, number = ids + page.items, number + 1

    by_status = {item_id: status for status in Status for item_id in pages(status)}
    assert {s: n for s, n in counts.items() if n} == {
        s: n for s in Status if (n := sum(1 for v in by_status.values() if v == s))}
    return [(item_id, by_status[item_id]) for item_id in pages()]


def _each_change(db, make, check):
    """Items holding 教师编制 or not, then each kind of change of what a search finds (titles,
    statuses, deadlines, deleted and new items, finding texts) with `check(q, open_only)` after each.
    Returns the item added on the way."""
    day = dt.date(2026, 5, 1)
    items = [make.item(title=f"教师编制{n}" if n % 3 else f"校舍{n}", status=Status.IN_PROGRESS,
                       deadline=day + dt.timedelta(days=n % 4)) for n in range(12)]
    make.item(title="已办结的教师编制", status=Status.CLOSED, deadline=day)
    make.item(title="撤销的教师编制", status=Status.CANCELLED, deadline=day + dt.timedelta(days=2))
    check()
    items[0].title = "新增教师编制"                       # now matches
    items[1].title = "旧的标题"                           # no longer matches
    db.session.commit()
    check()
    items[2].status = Status.SUBMITTED                    # counted under its new status
    items[4].deadline = day - dt.timedelta(days=30)       # moves to the front (or the back)
    db.session.commit()
    check()
    check(open_only=True)
    db.session.delete(items[5])
    added = make.item(title="补充教师编制", deadline=day + dt.timedelta(days=1))
    db.session.commit()
    check()
    finding = db.session.get(Finding, items[3].finding_id)
    finding.text = "其他问题"     # the finding's text held 教师 for every item of the factory
    db.session.commit()
    check("教师")
    check("教")                   # one character: a prefix query
    check("没有的词")
    return added


@pytest.mark.parametrize("sort", ["deadline", "-deadline"])
def test_the_first_search_after_each_change_is_exactly_right(db, make, plan, sort):
    """Titles, statuses, deadlines, finding texts, new and deleted items: the search right after
    each change lists exactly the items holding the text, in order, with their statuses."""
    admin = make.user(Role.ADMIN)
    descending = sort.startswith("-")

    def check(q="教师编制", open_only=False):
        statuses = set(Status) - {Status.CLOSED, Status.CANCELLED} if open_only else None
        flt = ledger.LedgerFilter(q=q, sort=sort, open=open_only)
        assert _found(flt, admin) == _expected_hits(db, q, statuses, descending)

    added = _each_change(db, make, check)
    assert added.id in [item_id for item_id, _ in _found(ledger.LedgerFilter(q="教师编制", sort=sort), admin)]


def test_only_the_text_matches_never_its_pieces(db, make, plan):
    """Bigram index alone would find 编制教师 for 教师编制's pieces; the hits are substrings only."""
    admin = make.user(Role.ADMIN)
    make.item(title="教师编制")
    make.item(title="编制教师")
    make.item(title="教师的编制")
    assert [t for t, in db.session.execute(select(Item.title).where(
        Item.id.in_([i for i, _ in _found(ledger.LedgerFilter(q="教师编制"), admin)])))] == ["教师编制"]


def test_broad_searches_walk_the_deadline_index_narrow_ones_look_up_by_id(db, make):
    """The walk is chosen for a search matching at least 1 item in BROAD_SHARE, in deadline order,
    for a reader of every item; a unit's head or a narrow search keeps the lookup by id."""
    admin, head = make.user(Role.ADMIN), make.user(Role.HEAD)
    make.item(title="大班额")
    for _ in range(3):
        make.item(title="校舍")
    broad, narrow = ledger.LedgerFilter(q="校舍"), ledger.LedgerFilter(q="大班额")
    if db.engine.dialect.name != "sqlite":
        assert not ledger._walks_in_order(broad, admin)
        return
    max_id = db.session.scalar(select(func.max(Item.id)))
    share = max(1, max_id // 2)       # more than 1 item in `share`: 3 items here
    assert search.matches_at_least("校舍", share) and not search.matches_at_least("大班额", share)
    assert ledger._walks_in_order(broad, admin) and ledger._walks_in_order(ledger.LedgerFilter(q="校", open=True), admin)
    assert not ledger._walks_in_order(ledger.LedgerFilter(q="校舍", sort="title"), admin)
    assert not ledger._walks_in_order(broad, head)
    assert not ledger._walks_in_order(ledger.LedgerFilter(q="校舍", unit=1), admin)
    if max_id >= ledger.BROAD_SHARE * 2:    # a narrow search: fewer than 1 item in BROAD_SHARE
        assert not ledger._walks_in_order(narrow, admin)


@pytest.mark.parametrize("sort", ["deadline", "-deadline"])
def test_the_walk_reads_only_the_order_index(db, make, sort):
    """SQLite: the walk reads ix_items_deadline_id_status in order (no sort, no item row), asking
    the search index item by item or testing each entry against the set of matches."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plan")
    admin = make.user(Role.ADMIN)
    make.item(title="教师编制")
    for open_only, probed in ((False, False), (True, False), (False, True), (True, True)):
        flt = ledger.LedgerFilter(q="教师编制", sort=sort, open=open_only)
        # the page's 1 row of 1 match: each entry asked of the index; no total: the set collected
        plan = query_plan(db, ledger._page_statement(flt, admin, dt.date(2026, 3, 16), *((1, 1) if probed else ())))
        assert "SCAN items USING COVERING INDEX ix_items_deadline_id_status" in plan, plan
        assert "TEMP B-TREE" not in plan and "item_search VIRTUAL TABLE" in plan, plan
        assert ("CORRELATED" in plan) == probed, plan


# -- PostgreSQL's re-check: none for one term, no lower() for text without case --------------------

def test_caseless_text_is_lower_cased_to_by_itself_only(db):
    """A query `caseless` says has no case is re-checked without lower(): the database's lower()
    must map no other character to one of its characters, and leave its own unchanged."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's lower()")
    changed = db.session.execute(text(
        "SELECT x, lower(chr(x)) FROM generate_series(1, 1114111) AS x "
        "WHERE x NOT BETWEEN 55296 AND 57343 AND lower(chr(x)) <> chr(x)")).all()
    assert len(changed) > 1000                                  # the letters with case are there
    assert [x for x, _ in changed if search.caseless(chr(x))] == []
    assert [x for x, lowered in changed if any(search.caseless(c) for c in lowered)] == []
    assert search.caseless("教师编制 100%（试点）") and not search.caseless("Teacher")


@pytest.mark.parametrize("q, rechecked, lowered", [
    ("教", False, False), ("教师", False, False), ("Te", False, False),
    ("教师编制", True, False), ("Teacher", True, True), ("教师A", True, True)])
def test_only_queries_of_more_than_one_term_are_rechecked(db, make, q, rechecked, lowered):
    """PostgreSQL: one or two characters are one term of the index, exact without a re-check (the
    planner drops it); a re-check of text without case compares the texts as they are."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's re-check")
    admin = make.user(Role.ADMIN)
    flt = ledger.LedgerFilter(q=q)
    plan = query_plan(db, ledger._page_statement(flt, admin, dt.date(2026, 3, 16)))
    assert ("strpos" in plan) == rechecked, plan
    assert ("lower((items.title" in plan or "lower((title" in plan) == lowered, plan


def test_one_or_two_characters_in_any_case_are_found_without_a_recheck(db, make):
    """The index's terms are lower-cased like the query: upper- and mixed-case texts are found."""
    admin = make.user(Role.ADMIN)
    found = make.item(title="TEACHER 校舍")
    make.item(title="学生")
    for q in ("te", "TE", "Te", "t", "T", "校", "校舍", "r ", " 校"):
        assert _ids(q.strip() or q, admin) == {found.id}, q


def test_a_broad_searchs_counts_read_statuses_from_an_index(db, make):
    """SQLite: the counts of a broad search test each entry of an index holding the status against
    the matches, never looking each match up in the wide item rows."""
    from tests.helpers import counted
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plan")
    make.item(title="教师编制")
    admin = make.user(Role.ADMIN)
    with counted(db.engine) as statements:
        counts = ledger.status_counts(ledger.LedgerFilter(q="教师编制"), admin, dt.date(2026, 3, 16))
    assert sum(counts.values()) == 1
    (counting,) = [s for s in statements if "GROUP BY" in s]
    with db.engine.connect() as conn:
        plan = "\n".join(row[-1] for row in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + counting, (search.fts_query("教师编制"),)))
    assert re.search(r"SCAN items USING COVERING INDEX ix_items_status", plan), plan
    assert "PRIMARY KEY" not in plan and "TEMP B-TREE" not in plan, plan
