"""The dashboard's numbers are cached, yet a reload after any change shows the change."""
import datetime as dt

import pytest
from sqlalchemy import select, update

from tests.helpers import counted, postgres_url, table, tile
from tracker import cache, clock
from tracker.auth.models import Role
from tracker.evaluations.models import Evaluation, Finding, Indicator, Rating
from tracker.inspection import services as inspection
from tracker.items import services
from tracker.items.models import Item, Status
from tracker.parts import services as parts

D = dt.timedelta


@pytest.fixture
def edu(make):
    return make.unit("县教育局")


@pytest.fixture
def leader(login_as, make):
    return login_as(make.user(Role.LEADER))


def numbers(browser) -> tuple:
    """Total, open, overdue, closed, and the education bureau's unit row (without its parts' columns)."""
    page = browser.get("/reports/?lang=en")
    assert page.status_code == 200
    return (tuple(int(tile(page, t)) for t in ("tile-total", "tile-open", "tile-overdue", "tile-closed")),
            [row[:6] for row in table(page, "by-unit")])


def test_a_reload_after_create_close_cancel_and_a_moved_deadline_is_right(leader, make, db, edu, today):
    admin, inspector, head = make.user(Role.ADMIN), make.user(Role.INSPECTOR), make.user(Role.HEAD, unit=edu)
    late = make.item(lead_unit=edu, deadline=today - D(days=2))
    assert numbers(leader) == ((1, 1, 1, 0), [["县教育局", "1", "1", "0", "1", "0%"]])
    assert numbers(leader) == ((1, 1, 1, 0), [["县教育局", "1", "1", "0", "1", "0%"]])  # from the cache

    submitted = make.item(lead_unit=edu, status=Status.SUBMITTED, with_evidence=True)
    assert numbers(leader) == ((2, 2, 1, 0), [["县教育局", "2", "2", "0", "1", "0%"]])
    services.perform(inspector, submitted, "close_item", result="rectified")
    db.session.commit()
    assert numbers(leader) == ((2, 1, 1, 1), [["县教育局", "2", "1", "1", "1", "50%"]])
    request = inspection.request_extension(head, late, today + D(days=30), "用地手续延误")
    inspection.decide_extension(inspector, late, request.id, True, "")
    db.session.commit()
    assert numbers(leader) == ((2, 1, 0, 1), [["县教育局", "2", "1", "1", "0", "50%"]])
    services.perform(admin, late, "cancel", reason="与另一事项重复")
    db.session.commit()
    # A cancelled item is no task: the unit row counts the items not cancelled (tracker/reports/stats.py).
    assert numbers(leader) == ((2, 0, 0, 1), [["县教育局", "1", "0", "1", "0", "100%"]])


def test_a_statement_run_through_the_session_also_renews_the_numbers(leader, make, db, edu, today):
    item = make.item(lead_unit=edu)
    assert numbers(leader)[0] == (1, 1, 0, 0)
    db.session.execute(update(Item).where(Item.id == item.id).values(deadline=today - D(days=1)))
    db.session.commit()
    assert numbers(leader)[0] == (1, 1, 1, 0)


def test_a_change_on_a_core_connection_also_renews_the_numbers(leader, make, db, edu, today):
    """As a bulk load, a job or the CLI writes: no session, no flush."""
    item = make.item(lead_unit=edu)
    assert numbers(leader)[0] == (1, 1, 0, 0)
    with db.engine.begin() as connection:
        connection.execute(update(Item.__table__).where(Item.__table__.c.id == item.id)
                           .values(deadline=today - D(days=1)))
    assert numbers(leader)[0] == (1, 1, 1, 0)


def test_a_rolled_back_change_leaves_the_generation(make, db, edu):
    make.item(lead_unit=edu)
    before = cache.generations()[cache.ITEMS]
    edu.name = "县教育局（改）"
    db.session.flush()
    db.session.rollback()
    assert cache.generations()[cache.ITEMS] == before
    edu.name = "县教育和体育局"
    db.session.commit()
    assert cache.generations()[cache.ITEMS] not in (before, None)


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
        with counted(db.engine) as seen:
            numbers(leader)
        return seen

    first, again = statements(), statements()
    assert any("GROUP BY items.lead_unit_id" in s for s in first)
    assert not any("GROUP BY items.lead_unit_id" in s for s in again)


# -- what the page shows beside the kept numbers is read on every request ----------------------------

def test_a_renamed_unit_shows_at_once(leader, login_as, make, db, edu):
    """Unit names are part of the rendered page: a rename is seen on the next reload."""
    head = login_as(make.user(Role.HEAD, unit=edu))
    make.item(lead_unit=edu)
    assert numbers(leader)[1][0][0] == "县教育局"
    assert "Dashboard of 县教育局" in head.get("/reports/?lang=en").text
    edu.name = "县教育和体育局"
    db.session.commit()
    assert numbers(leader)[1][0][0] == "县教育和体育局"
    assert "Dashboard of 县教育和体育局" in head.get("/reports/?lang=en").text


def test_each_language_has_its_own_page(leader, make, edu):
    make.item(lead_unit=edu)
    assert "Items by status" in leader.get("/reports/?lang=en").text
    chinese = leader.get("/reports/?lang=zh_CN").text
    assert "Items by status" not in chinese and 'id="tile-total">1<' in chinese
    assert "Items by status" in leader.get("/reports/?lang=en").text


def test_the_next_day_turns_an_item_due_today_overdue(leader, login_as, make, edu, today):
    """Nothing changed in the database, yet the next day the item is overdue: the day is in the key."""
    make.item(lead_unit=edu, deadline=today)
    assert numbers(leader)[0] == (1, 1, 0, 0)
    clock.freeze(today + D(days=1))
    leader = login_as(make.user(Role.LEADER))  # yesterday's session has expired
    assert numbers(leader)[0] == (1, 1, 1, 0)
    assert [row[1:] for row in table(leader.get("/reports/?lang=en"), "by-week")][-1] == ["0", "1"]


def test_a_rerated_indicator_shows_at_once(leader, make, db, edu):
    inspector = make.user(Role.INSPECTOR)
    finding = make.finding()
    indicator = Indicator(evaluation=finding.evaluation, level=3, code="1.1.1", sort_key="0001.0001.0001",
                          name="生均公用经费", self_rating=Rating.NOT_YET)
    db.session.add(indicator)
    db.session.commit()
    make.item(lead_unit=edu)

    def ratings() -> list[str]:
        return table(leader.get("/reports/?lang=en"), "framework")[0][1:4]

    assert ratings() == ["生均公用经费", "Not yet implemented", ""]
    inspection.rerate_indicator(inspector, indicator, "fully")
    db.session.commit()
    assert ratings() == ["生均公用经费", "Not yet implemented", "Fully implemented"]
    db.session.execute(update(Indicator).where(Indicator.id == indicator.id).values(name="教师配备"))
    db.session.commit()
    assert ratings() == ["教师配备", "Not yet implemented", "Fully implemented"]


def test_sorts_pages_and_evaluations_are_cached_apart(leader, make, db, edu):
    fin = make.unit("县财政局")
    make.item(lead_unit=edu)
    make.item(lead_unit=fin, status=Status.CLOSED)
    other = Evaluation(title="2020年度自评", year=2020, issuing_body="县政府")
    make.item(lead_unit=fin, finding=Finding(evaluation=other, text="校舍不足", category="校舍"))

    def units(query) -> list[str]:
        return [row[0] for row in table(leader.get(f"/reports/?{query}"), "by-unit")]

    assert units("sort=name") == sorted(["县教育局", "县财政局"])
    assert units("sort=-name") == sorted(["县教育局", "县财政局"], reverse=True)
    assert units("sort=name&page=2") == units("sort=name")  # past the end: the last (only) page
    assert tile(leader.get(f"/reports/?evaluation={other.id}"), "tile-total") == "1"
    assert tile(leader.get("/reports/?evaluation=999999"), "tile-total") == "3"  # unknown: every evaluation


def test_readers_with_and_without_a_unit_get_their_own_links(login_as, make, edu):
    make.item(lead_unit=edu)
    with_unit = login_as(make.user(Role.ADMIN, unit=edu)).get("/reports/").text
    without = login_as(make.user(Role.ADMIN)).get("/reports/").text
    assert f'href="/reports/units/{edu.id}"' in with_unit.split('id="units"')[0]
    assert "/reports/units/" not in without.split('id="units"')[0]


def test_a_browser_reuses_an_unchanged_dashboard_and_gets_a_changed_one(leader, make, db, edu):
    """The browser's copy is answered 304 while nothing changed; a change gives the new numbers."""
    item = make.item(lead_unit=edu)
    first = leader.get("/reports/?lang=en")
    assert tile(first, "tile-total") == "1" and first.headers["Cache-Control"] == "private, no-cache"
    with counted(db.engine) as seen:
        again = leader.get("/reports/?lang=en", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.text == ""
    assert not any("GROUP BY" in s or "indicators" in s for s in seen), seen
    assert leader.get("/reports/?lang=zh_CN", headers={"If-None-Match": first.headers["ETag"]}).status_code == 200
    db.session.execute(update(Item).where(Item.id == item.id).values(deadline=clock.today() - D(days=1)))
    db.session.commit()
    changed = leader.get("/reports/?lang=en", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and tile(changed, "tile-overdue") == "1"


def test_another_reader_on_the_same_browser_gets_their_own_page(login_as, make, edu):
    fin = make.unit("县财政局")
    make.item(lead_unit=edu)
    make.item(lead_unit=fin)
    leader = login_as(make.user(Role.LEADER))
    tag = leader.get("/reports/?lang=en").headers["ETag"]
    head = login_as(make.user(Role.HEAD, unit=fin))
    page = head.get("/reports/?lang=en", headers={"If-None-Match": tag})
    assert page.status_code == 200 and tile(page, "tile-total") == "1"


# -- the county's numbers are kept per unit: a write counts its unit again, not the county -----------

def _counted_units(monkeypatch) -> list:
    """The units each count of the county's pieces was asked for (None: every unit)."""
    from tracker.reports import dashboard
    asked, count = [], dashboard.pieces
    monkeypatch.setattr(dashboard, "pieces", lambda stmt, today, units=None: asked.append(units) or count(stmt, today, units))
    return asked


def test_a_write_counts_again_only_the_units_it_touched(leader, make, db, edu, monkeypatch, today):
    fin, housing = make.unit("县财政局"), make.unit("县住建局")
    shared = make.item(lead_unit=edu, cooperating=[fin])
    parts.add_part(make.user(Role.ADMIN), shared, fin, deadline=today + D(days=20))
    make.item(lead_unit=housing)
    db.session.commit()
    asked = _counted_units(monkeypatch)
    assert numbers(leader)[0] == (2, 2, 0, 0)
    assert numbers(leader)[0] == (2, 2, 0, 0)
    assert asked == [None]  # the first read counts every unit, the second none
    db.session.execute(update(Item).where(Item.id == shared.id).values(deadline=today - D(days=1)))
    db.session.commit()
    page = leader.get("/reports/?lang=en")
    assert tile(page, "tile-overdue") == "1"
    rows = {row[0]: row for row in table(page, "by-unit")}
    assert rows["县教育局"][4] == "1" and rows["县住建局"][4] == "0" and rows["县财政局"][-2:] == ["1", "0"]
    # The item's lead unit and the unit holding a part of it, not 县住建局.
    assert [sorted(units) for units in asked[1:]] == [sorted([edu.id, fin.id])]


def test_a_moved_part_deadline_and_a_moved_finding_renew_their_units(leader, make, db, edu, today):
    """Core statements on parts and findings, as a bulk load or the CLI would run them."""
    from tracker.parts.models import Part
    fin = make.unit("县财政局")
    item = make.item(lead_unit=edu, cooperating=[fin])
    parts.add_part(make.user(Role.ADMIN), item, fin, deadline=today + D(days=20))
    db.session.commit()
    other = Evaluation(title="2020年度自评", year=2020, issuing_body="县政府")
    db.session.add(other)
    db.session.commit()

    def fin_parts() -> list[str]:
        return {row[0]: row for row in table(leader.get("/reports/?lang=en"), "by-unit")}["县财政局"][-2:]

    def in_other() -> str:
        return tile(leader.get(f"/reports/?evaluation={other.id}&lang=en"), "tile-total")

    assert fin_parts() == ["1", "0"] and in_other() == "0"
    with db.engine.begin() as connection:
        connection.execute(update(Part.__table__).values(deadline=today - D(days=3)))
    assert fin_parts() == ["1", "1"]
    with db.engine.begin() as connection:
        connection.execute(update(Finding.__table__).where(Finding.__table__.c.id == item.finding_id)
                           .values(evaluation_id=other.id))
    assert in_other() == "1"


def test_a_county_reader_after_a_rolled_back_write_sees_what_was_committed(leader, make, db, edu, today):
    item = make.item(lead_unit=edu)
    assert numbers(leader)[0] == (1, 1, 0, 0)
    db.session.execute(update(Item).where(Item.id == item.id).values(deadline=today - D(days=1)))
    db.session.rollback()
    assert numbers(leader)[0] == (1, 1, 0, 0)
    item.deadline = today - D(days=1)
    db.session.commit()
    assert numbers(leader)[0] == (1, 1, 1, 0)


def test_a_unit_reader_sees_at_once_what_changes_on_the_items_it_sees(login_as, make, db, edu, monkeypatch, today):
    """A head's numbers are kept under the unit's own token: Core statements on a part another unit
    holds of the unit's item, and on the unit joining another unit's item, show at the next read; a
    write to an item the unit does not see counts nothing again."""
    from tracker.items.models import item_cooperating_units
    from tracker.parts.models import Part
    fin, housing = make.unit("县财政局"), make.unit("县住建局")
    head = login_as(make.user(Role.HEAD, unit=edu))
    own = make.item(lead_unit=edu, cooperating=[fin])
    parts.add_part(make.user(Role.ADMIN), own, fin, deadline=today + D(days=20))
    theirs = make.item(lead_unit=housing, deadline=today - D(days=1))
    db.session.commit()

    def shown() -> tuple[str, dict]:
        page = head.get("/reports/?lang=en")
        return tile(page, "tile-total"), {row[0]: row for row in table(page, "by-unit")}

    total, units = shown()
    assert total == "1" and units["县财政局"][-2:] == ["1", "0"] and "县住建局" not in units
    asked = _counted_units(monkeypatch)
    db.session.execute(update(Item).where(Item.id == theirs.id).values(deadline=today - D(days=2)))
    db.session.commit()
    assert shown()[0] == "1" and asked == []
    with db.engine.begin() as connection:
        connection.execute(update(Part.__table__).values(deadline=today - D(days=3)))
    assert shown()[1]["县财政局"][-2:] == ["1", "1"]
    with db.engine.begin() as connection:
        connection.execute(item_cooperating_units.insert().values(item_id=theirs.id, unit_id=edu.id))
    total, units = shown()
    assert total == "2" and units["县住建局"][1:5] == ["1", "1", "0", "1"]
    with db.engine.begin() as connection:
        connection.execute(item_cooperating_units.delete().where(item_cooperating_units.c.item_id == theirs.id))
    assert shown()[0] == "1"


@pytest.mark.skipif(postgres_url() is None, reason="PostgreSQL keeps a version of a row per update until the commit")
def test_a_transaction_renews_a_units_token_once_however_many_rows_it_writes(make, db, edu, today):
    """A bulk load's one transaction must not leave thousands of versions of a unit's token row."""
    first, second = make.item(lead_unit=edu), make.item(lead_unit=edu)
    db.session.commit()

    def token() -> str:
        return db.session.execute(select(cache.UnitGeneration.token).where(cache.UnitGeneration.unit_id == edu.id)).scalar()

    before = token()
    db.session.execute(update(Item).where(Item.id == first.id).values(deadline=today + D(days=5)))
    renewed = token()
    db.session.execute(update(Item).where(Item.id == second.id).values(deadline=today + D(days=6)))
    assert renewed != before and token() == renewed
    db.session.commit()
    db.session.execute(update(Item).where(Item.id == first.id).values(deadline=today + D(days=7)))
    assert token() != renewed
    db.session.rollback()


def test_the_framework_shows_edits_at_once_and_lists_again_only_after_a_move(leader, make, db, edu, monkeypatch, today):
    """Which items an indicator lists first is kept while only progress and texts change; the
    listed items' titles and lights are read on every view; a moved deadline lists them again."""
    from tracker.reports import dashboard
    finding = make.finding()
    indicator = Indicator(evaluation=finding.evaluation, level=3, code="1.1.1", sort_key="0001.0001.0001",
                          name="教师配备")
    db.session.add(indicator)
    db.session.flush()
    finding.indicator_id = indicator.id
    quiet = make.item(lead_unit=edu, title="轮岗交流", deadline=today + D(days=60), progress=50,
                      last_activity_on=today - D(days=40))
    later = [make.item(lead_unit=edu, title=f"后续{n}", deadline=today + D(days=70 + n), progress=50) for n in range(5)]
    db.session.commit()
    listed, count = [], dashboard._listed
    monkeypatch.setattr(dashboard, "_listed", lambda stmt, ids: listed.append(ids) or count(stmt, ids))

    def cell() -> str:
        return table(leader.get("/reports/?lang=en"), "framework")[0][4]

    shown = cell()
    assert shown.count("Attention") == 1 and shown.count("On track") == 4
    assert "轮岗交流" in shown and "后续3" in shown and "后续4" not in shown
    assert "and 1 more" in shown
    quiet.last_activity_on = today  # what a progress post changes
    db.session.commit()
    assert "Attention" not in cell()
    db.session.execute(update(Item).where(Item.id == quiet.id).values(title="教师轮岗交流"))
    db.session.commit()
    assert "教师轮岗交流" in cell() and len(listed) == 1
    with db.engine.begin() as connection:
        connection.execute(update(Item.__table__).where(Item.__table__.c.id == later[4].id)
                           .values(deadline=today + D(days=1)))
    shown = cell()
    assert "后续4" in shown and "后续3" not in shown and len(listed) == 2
