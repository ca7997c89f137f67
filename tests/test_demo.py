"""seed-demo loads the 新源县 ledger into an empty database and refuses a non-empty one."""
import datetime as dt

from tracker.auth.models import User
from tracker.evaluations.models import Indicator, Rating
from tracker.items.lights import Light, light_of
from tracker.items.models import Item, Status


def test_seed_demo_loads_realistic_data(app, db, browser, today):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--today", today.isoformat()])
    assert result.exit_code == 0, result.output
    items = db.session.query(Item).all()
    lights = {light_of(i, today) for i in items}
    assert {Light.RED, Light.YELLOW, Light.GREEN} <= lights
    statuses = {i.status for i in items}
    assert {Status.DRAFT, Status.ASSIGNED, Status.IN_PROGRESS, Status.SUBMITTED, Status.RETURNED,
            Status.CLOSED} <= statuses
    assert any("特殊教育学校" in i.title and i.listed_supervision for i in items)
    ratings = [i.self_rating for i in db.session.query(Indicator).filter_by(level=3)]
    assert (len(ratings), ratings.count(Rating.FULLY), ratings.count(Rating.BASICALLY),
            ratings.count(Rating.NOT_YET)) == (30, 27, 2, 1)
    for username in ("admin", "inspector", "leader", "head-edu-personnel", "head-disabled"):
        assert db.session.query(User).filter_by(username=username).one()
    assert browser.login("head-edu-personnel", "rectify-demo").status_code == 302
    assert "补充音乐、美术、体育等紧缺学科专业教师" in browser.get("/my").text


def test_seed_demo_refuses_a_non_empty_database(app, db, make):
    make.user()
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "--force" in result.output
    assert db.session.query(Item).count() == 0


def test_seed_demo_if_empty_is_a_quiet_no_op(app, db, make):
    make.user()
    result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0 and db.session.query(Item).count() == 0


def test_seed_demo_force_replaces_the_data(app, db, make, today):
    make.user(username="someone")
    result = app.test_cli_runner().invoke(args=["seed-demo", "--force", "--today", today.isoformat()])
    assert result.exit_code == 0, result.output
    assert db.session.query(User).filter_by(username="someone").count() == 0
    assert db.session.query(Item).count() > 5
