"""The traffic light on its boundaries, the same in Python and in the ledger's SQL filter."""
import datetime as dt

import pytest

from tracker.auth.models import Role
from tracker.items.lights import Light, light_of
from tracker.items.models import Status

D = dt.timedelta


@pytest.mark.parametrize("deadline_offset,progress,expected", [
    (-1, 50, Light.RED),      # one day overdue
    (0, 50, Light.YELLOW),    # due today: not yet overdue
    (7, 90, Light.YELLOW),    # due in exactly the warning window
    (8, 90, Light.GREEN),     # just outside it
    (60, 90, Light.GREEN),
])
def test_light_boundaries(app, db, make, today, deadline_offset, progress, expected):
    item = make.item(deadline=today + D(days=deadline_offset), progress=progress, start_on=today - D(days=10))
    assert light_of(item, today) == expected


def test_progress_behind_elapsed_time_is_yellow(app, db, make, today):
    # 100-day span, 50 days gone: 35% lags by 15 points (tolerance 10) -> yellow; 45% is fine.
    start = today - D(days=50)
    behind = make.item(deadline=start + D(days=100), start_on=start, progress=35)
    fine = make.item(deadline=start + D(days=100), start_on=start, progress=45)
    assert light_of(behind, today) == Light.YELLOW
    assert light_of(fine, today) == Light.GREEN


def test_no_activity_for_stale_days_is_yellow(app, db, make, today):
    stale = make.item(deadline=today + D(days=90), progress=90, last_activity_on=today - D(days=30))
    fresh = make.item(deadline=today + D(days=90), progress=90, last_activity_on=today - D(days=29))
    assert light_of(stale, today) == Light.YELLOW
    assert light_of(fresh, today) == Light.GREEN


@pytest.mark.parametrize("status", [Status.CLOSED, Status.CANCELLED])
def test_closed_and_cancelled_items_are_never_overdue(app, db, make, today, status):
    item = make.item(status=status, deadline=today - D(days=30))
    assert light_of(item, today) == Light.NONE


def test_ledger_light_filter_agrees_with_the_badge(login_as, make, today):
    items = {
        "red": make.item(deadline=today - D(days=1), title="逾期事项", progress=90),
        "yellow": make.item(deadline=today + D(days=7), title="临期事项", progress=90),
        "green": make.item(deadline=today + D(days=8), title="正常事项", progress=90),
        "closed": make.item(status=Status.CLOSED, deadline=today - D(days=9), title="已销号事项"),
    }
    browser = login_as(make.user(Role.ADMIN))
    for light in ("red", "yellow", "green"):
        page = browser.get(f"/items?light={light}").text
        shown = {k for k, item in items.items() if f">{item.title}</a>" in page}
        assert shown == {light}
    overdue = browser.get("/items?overdue=1").text
    assert ">逾期事项</a>" in overdue and ">已销号事项</a>" not in overdue


def test_light_is_conveyed_by_text_not_only_colour(login_as, make, today):
    make.item(deadline=today - D(days=3))
    page = login_as(make.user(Role.ADMIN)).get("/items").text
    assert 'class="light light-red"' in page and "已逾期" in page
