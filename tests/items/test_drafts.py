"""Drafts (待交办) are the coordinator's until handed out: units and leaders do not see them, and
they are in no count, digest, report, API answer or export (only admins and inspectors see them)."""
import datetime as dt

from tests.helpers import ApiClient, tile
from tracker.auth.models import Role
from tracker.items.models import Status
from tracker.notifications import digests

DRAFT, LIVE = "尚未交办的草稿", "已交办的事项"


def test_a_draft_is_nowhere_for_units_and_leaders(app, db, make, login_as, today):
    unit = make.unit(name="县住建局")
    head = make.user(Role.HEAD, unit=unit)
    leader = make.user(Role.LEADER)
    late = today - dt.timedelta(days=5)  # overdue if it counted
    draft = make.item(status=Status.DRAFT, lead_unit=unit, owner=head, title=DRAFT, deadline=late)
    make.item(status=Status.IN_PROGRESS, lead_unit=unit, owner=head, title=LIVE, deadline=late)

    for user in (head, leader):
        browser = login_as(user)
        for url in ("/items", "/my" if user is head else "/reports/overdue", "/reports/ledger.csv",
                    f"/reports/units/{unit.id}"):
            page = browser.get(url)
            text = page.get_data(as_text=True)
            assert page.status_code == 200 and DRAFT not in text, (user.role, url)
        assert browser.get(f"/items/{draft.id}").status_code == 404
        assert LIVE in browser.get("/reports/ledger.csv").get_data(as_text=True)
        api = ApiClient(app, make.token(user, f"t{user.id}"))
        titles = [i["title"] for i in api.get("/api/v1/items").get_json()["items"]]
        assert titles == [LIVE]
        assert api.get(f"/api/v1/items/{draft.id}").status_code == 404
    dashboard = login_as(leader).get("/reports/")
    assert tile(dashboard, "tile-total") == "1"

    for user in (head, leader):
        digest = digests.digest_for(user, today)
        everything = [i.title for rows in digest.by_light.values() for i in rows] + \
            [i.title for i in digest.due_soon + digest.overdue]
        assert DRAFT not in everything
        assert sum(c.total for c in digest.completion) in (0, 1)

    # The coordinator and the inspectors do see it.
    for role in (Role.ADMIN, Role.INSPECTOR):
        assert DRAFT in login_as(make.user(role)).get("/items?status=draft").text
