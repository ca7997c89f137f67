"""Performance guards that need no stopwatch: pages cost a fixed number of SQL queries whatever the
number of rows, and the ledger's filters are served by indexes. (The reminder scan's plans are
checked in tests/notifications/test_scale.py; the timed benchmark is bench/run.py.)"""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import text

from tests.helpers import ApiClient, counted, query_plan, scans_every_item
from tracker.auth.models import Role
from tracker.items import ledger
from tracker.items.models import Item, ProgressUpdate, Status


def _grow(make, db, unit, head, rows: int) -> Item:
    """`rows` open items of `unit` and a showcase item with `rows` progress updates and files."""
    from tracker import clock
    for n in range(rows):
        make.item(status=Status.IN_PROGRESS, lead_unit=unit, owner=head,
                  deadline=clock.today() + dt.timedelta(days=n + 1), cooperating=[make.unit()])
    item = make.item(status=Status.IN_PROGRESS, lead_unit=unit, owner=head)
    for n in range(rows):
        db.session.add(ProgressUpdate(item=item, author_id=head.id, body=f"进展{n}", percent=n,
                                      submission_key=f"k{n}", created_at=clock.now()))
        make.evidence(item, uploader=head, name=f"材料{n}.pdf")
    db.session.commit()
    return item


def _pages(unit_id: int, item_id: int) -> dict[str, str]:
    ledger_url = f"/items?unit={unit_id}&status=in_progress&sort=deadline"
    return {"ledger": ledger_url, "ledger page 2": ledger_url + "&page=2", "search": "/items?q=整改",
            "item": f"/items/{item_id}", "my": "/my", "dashboard": "/reports/",
            "api": f"/api/v1/items?unit={unit_id}&status=in_progress&sort=deadline"}


def _query_counts(app, db, make, login_as, rows: int) -> dict[str, int]:
    unit = make.unit()
    head = make.user(Role.HEAD, unit=unit)
    admin = make.user(Role.ADMIN)
    item = _grow(make, db, unit, head, rows)
    browsers = {"admin": login_as(admin), "head": login_as(head)}
    token_client = ApiClient(app, make.token(admin, "perf"))
    counts = {}
    for name, url in _pages(unit.id, item.id).items():
        client = token_client if name == "api" else browsers["head" if name == "my" else "admin"]
        client.get(url)  # warm: first-request work (templates, lookups) is not per-row work
        with counted(db.engine) as statements:
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(statements)
    return counts


def test_queries_per_page_do_not_grow_with_rows(app, db, make, login_as):
    """A unit with three times as many items, updates and files costs the same number of queries."""
    few = _query_counts(app, db, make, login_as, rows=4)
    many = _query_counts(app, db, make, login_as, rows=12)
    assert many == few
    assert max(many.values()) <= 30, many


# -- query plans ----------------------------------------------------------------------------

LEDGER_FILTERS = {
    "unit": {"unit": "1"}, "status": {"status": "in_progress"}, "light": {"light": "red"},
    "overdue": {"overdue": "1"}, "owner": {"owner": "1"}, "evaluation": {"evaluation": "1"},
    "mine": {"mine": "1"}, "unit by deadline": {"unit": "1", "sort": "deadline"},
    "open": {"open": "1"}, "unit's open items by deadline": {"unit": "1", "open": "1", "sort": "deadline"},
}


@pytest.mark.parametrize("name", LEDGER_FILTERS)
def test_each_ledger_filter_uses_an_index(db, make, today, name):
    """Every ledger filter (except free text) is answered without reading every item."""
    admin = make.user(Role.ADMIN)
    flt = ledger.LedgerFilter.from_args(LEDGER_FILTERS[name])
    stmt = ledger._ordered(ledger._filtered(ledger.visible_to(admin), flt, admin, today), flt.sort, today)
    plan = query_plan(db, stmt)
    assert not scans_every_item(plan, db.engine.dialect.name), plan


def test_a_unit_members_ledger_uses_an_index(db, make, today):
    """A head's view (lead or cooperating items of the unit) is served by indexes."""
    head = make.user(Role.HEAD)
    stmt = ledger._filtered(ledger.visible_to(head), ledger.LedgerFilter(), head, today)
    plan = query_plan(db, stmt)
    assert not scans_every_item(plan, db.engine.dialect.name), plan


def test_a_units_ledger_reads_the_items_table_once(db, make, today):
    """A big unit's page of open items reads only those rows: the lead and the cooperating lookups
    are combined on the items themselves (on PostgreSQL as OR-ed bitmaps that the status narrows),
    never every item of the unit collected first and joined back to items by id."""
    admin = make.user(Role.ADMIN)
    flt = ledger.LedgerFilter.from_args({"unit": "1", "status": "in_progress"})
    stmt = ledger._filtered(ledger.visible_to(admin), flt, admin, today).with_only_columns(Item.id)
    plan = query_plan(db, stmt)
    assert not scans_every_item(plan, db.engine.dialect.name), plan
    reads = r"\b(SCAN|SEARCH) items\b" if db.engine.dialect.name == "sqlite" else r"\bon items\b"
    assert len(re.findall(reads, plan)) == 1, plan


def test_a_units_status_counts_read_its_led_items_from_an_index_alone(db, make, today):
    """The status counts of a big unit: on PostgreSQL the items it leads are counted from the index
    on (lead_unit_id, status), not read row by row through an OR of the two lookups."""
    admin = make.user(Role.ADMIN)
    flt = ledger.LedgerFilter.from_args({"unit": "1"})
    parts = ledger._count_parts(flt, admin, today)
    for part in parts:
        plan = query_plan(db, part.with_only_columns(Item.status))
        assert not scans_every_item(plan, db.engine.dialect.name), plan
    assert len(parts) == 2
    if db.engine.dialect.name == "postgresql":
        # An index-only scan needs pages marked all-visible, as autovacuum keeps a real table; after
        # the suite's thousands of deleted rows the planner would rather check the heap.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE items"))
    led = query_plan(db, parts[0].with_only_columns(Item.status))
    assert ("Index Only Scan" if db.engine.dialect.name == "postgresql" else "COVERING INDEX") in led, led


def test_a_heads_reddest_first_page_sorts_ids_from_an_index(db, make, today):
    """"My items" sorts by light: the page's ids are read from the covering index, never by sorting
    whole rows (with their long texts) of a big unit."""
    head = make.user(Role.HEAD)
    flt = ledger.LedgerFilter(sort="light")
    stmt = ledger._ordered(ledger._filtered(ledger.visible_to(head), flt, head, today), flt.sort, today)
    plan = query_plan(db, stmt.with_only_columns(Item.id))
    assert not scans_every_item(plan, db.engine.dialect.name), plan
    if db.engine.dialect.name == "sqlite":
        assert "COVERING INDEX ix_items_dashboard" in plan, plan
    make.item(lead_unit=head.unit)
    with counted(db.engine) as statements:
        page = ledger.page_of_items(flt, head, today, per_page=25)
    assert len(page.items) == 1
    sorted_items = [re.match(r"SELECT (.*?)\s+FROM items\s+(?!AS )", s, re.S) for s in statements if "ORDER BY" in s]
    columns = [m.group(1) for m in sorted_items if m]
    assert columns == ["items.id"], statements
