"""The dashboard's numbers are cached, yet a reload after any change shows the change."""
import datetime as dt

import pytest
from sqlalchemy import event, update

from tests.reports.test_dashboard import table, tile
from tracker.auth.models import Role
from tracker.inspection import services as inspection
from tracker.items import services
from tracker.items.models import Item, Status
from tracker.reports import freshness

D = dt.timedelta


@pytest.fixture
def edu(make):
    return make.unit("县教育局")


@pytest.fixture
def leader(login_as, make):
    return login_as(make.user(Role.LEADER))


def numbers(browser) -> tuple:
    """Total, open, overdue, closed, and the education bureau's unit row."""
    page = browser.get("/reports/?lang=en")
    assert page.status_code == 200
    return (tuple(int(tile(page, t)) for t in ("tile-total", "tile-open", "tile-overdue", "tile-closed")),
            table(page, "by-unit"))


def test_a_reload_after_create_close_cancel_and_a_moved_deadline_is_right(leader, make, edu, today):
    admin, inspector, head = make.user(Role.ADMIN), make.user(Role.INSPECTOR), make.user(Role.HEAD, unit=edu)
    late = make.item(lead_unit=edu, deadline=today - D(days=2))
    assert numbers(leader) == ((1, 1, 1, 0), [["县教育局", "1", "1", "0", "1", "0%"]])
    assert numbers(leader) == ((1, 1, 1, 0), [["县教育局", "1", "1", "0", "1", "0%"]])  # from the cache

    submitted = make.item(lead_unit=edu, status=Status.SUBMITTED, with_evidence=True)
    assert numbers(leader) == ((2, 2, 1, 0), [["县教育局", "2", "2", "0", "1", "0%"]])
    services.perform(inspector, submitted, "close_item", result="rectified")
    assert numbers(leader) == ((2, 1, 1, 1), [["县教育局", "2", "1", "1", "1", "50%"]])
    request = inspection.request_extension(head, late, today + D(days=30), "用地手续延误")
    inspection.decide_extension(inspector, late, request.id, True, "")
    assert numbers(leader) == ((2, 1, 0, 1), [["县教育局", "2", "1", "1", "0", "50%"]])
    services.perform(admin, late, "cancel", reason="与另一事项重复")
    assert numbers(leader) == ((2, 0, 0, 1), [["县教育局", "2", "0", "1", "0", "100%"]])


def test_a_statement_run_through_the_session_also_renews_the_numbers(leader, make, db, edu, today):
    item = make.item(lead_unit=edu)
    assert numbers(leader)[0] == (1, 1, 0, 0)
    db.session.execute(update(Item).where(Item.id == item.id).values(deadline=today - D(days=1)))
    db.session.commit()
    assert numbers(leader)[0] == (1, 1, 1, 0)


def test_a_rolled_back_change_leaves_the_marker(make, db, edu):
    make.item(lead_unit=edu)
    before = freshness.marker()
    edu.name = "县教育局（改）"
    db.session.flush()
    db.session.rollback()
    assert freshness.marker() == before
    edu.name = "县教育和体育局"
    db.session.commit()
    assert freshness.marker() not in (before, None)


def test_each_scope_has_its_own_numbers(leader, login_as, make, edu):
    fin = make.unit("县财政局")
    make.item(lead_unit=edu)
    make.item(lead_unit=fin)
    make.item(lead_unit=edu, cooperating=[fin])
    assert numbers(leader)[0][0] == 3
    head = login_as(make.user(Role.HEAD, unit=fin))
    assert numbers(head)[0][0] == 2
    assert [row[0] for row in numbers(head)[1]] == ["县教育局", "县财政局"]
    assert numbers(leader)[0][0] == 3


def test_an_unchanged_dashboard_is_served_from_the_cache(leader, make, db, edu):
    make.item(lead_unit=edu)

    def statements() -> list[str]:
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            numbers(leader)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return seen

    first, again = statements(), statements()
    assert any("GROUP BY items.lead_unit_id" in s for s in first)
    assert not any("GROUP BY items.lead_unit_id" in s for s in again)
