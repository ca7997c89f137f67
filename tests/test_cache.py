"""The one cache (tracker/cache.py): shared through Redis when configured, never stale, and a store
that is down only costs time: pages answer with the right numbers and say nothing of it."""
import datetime as dt
import re

import pytest
import redis
from sqlalchemy import update

from config import TestConfig
from tests.helpers import Browser, counted, table, tile
from tracker import create_app
from tracker.auth.models import Role, User
from tracker.extensions import db as _db
from tracker.items import choices
from tracker.items.models import Item
from tracker.units.models import Unit

REDIS_URL = "redis://127.0.0.1:6379/11"   # a db number of the suite's own
CLOSED_PORT_URL = "redis://127.0.0.1:6399/0"


@pytest.fixture
def app_with_store(app):
    """app_with_store(url) -> another app (another worker) on the same database, its cache in `url`."""
    made = []

    def _make(url: str):
        class Config(TestConfig):
            SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
            UPLOAD_DIR = app.config["UPLOAD_DIR"]
            CACHE_REDIS_URL = url
        made.append(create_app(Config))
        return made[-1]
    yield _make
    for application in made:
        with application.app_context():
            _db.engine.dispose()


@pytest.fixture
def shared_store():
    store = redis.Redis.from_url(REDIS_URL)
    try:
        store.ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}; refusing to skip the shared-cache tests")
    store.flushdb()
    yield store
    store.flushdb()
    store.close()


def signed_in(application, user) -> Browser:
    browser = Browser(application)
    assert browser.login(user.username).status_code == 302
    return browser


def unit_options(page) -> list[str]:
    block = re.search(r'<select id="unit" name="unit"[^>]*>(.*?)</select>', page.text, re.S).group(1)
    return re.findall(r"<option [^>]*>([^<]*)</option>", block)[1:]


def dashboard_statements(browser) -> list[str]:
    """The grouped statements of the dashboard's numbers sent while `browser` loads it."""
    with browser.client.application.app_context():
        engine = _db.engine
    with counted(engine) as seen:
        page = browser.get("/reports/?lang=en")
    assert page.status_code == 200
    return [s for s in seen if "GROUP BY items.lead_unit_id" in s]


def test_workers_share_the_numbers_through_redis_and_see_changes_at_once(app_with_store, shared_store, make, db):
    """Two processes (two apps) with one Redis: what one computed the other reads; a change made
    by a Core UPDATE or through the ORM shows on both at once."""
    edu = make.unit("县教育局")
    item = make.item(lead_unit=edu)
    leader = make.user(Role.LEADER)
    first, second = signed_in(app_with_store(REDIS_URL), leader), signed_in(app_with_store(REDIS_URL), leader)
    assert dashboard_statements(first)             # computed, and kept in Redis
    assert not dashboard_statements(second)        # the other worker's numbers
    assert shared_store.keys("rectify:units:*")

    with db.engine.begin() as connection:                    # a Core UPDATE, as the CLI writes
        connection.execute(update(Item.__table__).where(Item.__table__.c.id == item.id)
                           .values(deadline=dt.date(2026, 3, 1)))
    assert tile(second.get("/reports/?lang=en"), "tile-overdue") == "1"
    assert tile(first.get("/reports/?lang=en"), "tile-overdue") == "1"

    assert unit_options(first.get("/items")) == ["县教育局"]
    db.session.get(Unit, edu.id).name = "县教育体育局"        # through the ORM
    db.session.commit()
    assert unit_options(second.get("/items")) == ["县教育体育局"]
    assert table(first.get("/reports/?lang=en"), "by-unit")[0][0] == "县教育体育局"


def test_a_store_that_is_down_costs_nothing_but_time(app_with_store, make, db, caplog):
    edu = make.unit("县教育局")
    item = make.item(lead_unit=edu)
    make.user(Role.HEAD, unit=edu, name="王主任")
    browser = signed_in(app_with_store(CLOSED_PORT_URL), make.user(Role.ADMIN))
    for _ in range(2):
        page = browser.get("/reports/?lang=en")
        assert page.status_code == 200
        assert (tile(page, "tile-total"), tile(page, "tile-overdue")) == ("1", "0")
        ledger = browser.get("/items?lang=en")
        assert ledger.status_code == 200 and unit_options(ledger) == ["县教育局"]
        assert "王主任" in ledger.text
        assert not re.search("redis|cache", page.text + ledger.text, re.I)
    assert caplog.text.count("cache store failed") == 1   # then left alone: no wait per request
    db.session.execute(update(Item).where(Item.id == item.id).values(deadline=dt.date(2026, 3, 1)))
    db.session.execute(update(User).where(User.name == "王主任").values(name="王局长"))
    db.session.commit()
    assert tile(browser.get("/reports/?lang=en"), "tile-overdue") == "1"
    assert "王局长" in browser.get("/items?lang=en").text


def test_what_a_transaction_builds_from_its_own_uncommitted_change_is_not_kept(login_as, make, db):
    unit = make.unit("县教育局")
    admin = login_as(make.user(Role.ADMIN))
    db.session.get(Unit, unit.id).name = "县教育体育局"
    db.session.flush()
    assert f'<option value="{unit.id}">县教育体育局</option>' in choices.filter_options(None, None, None).units
    db.session.rollback()
    assert unit_options(admin.get("/items")) == ["县教育局"]


def test_a_searchs_counts_are_kept_through_progress_and_follow_every_searched_change(login_as, make, db):
    lead = make.unit("县教育局")
    head = make.user(Role.HEAD, unit=lead)
    item = make.item(title="补充教师编制", lead_unit=lead, owner=head)
    make.item(title="教师编制核定", lead_unit=lead)
    admin = login_as(make.user(Role.ADMIN))

    def counts_and_statements():
        with counted(_db.engine) as seen:
            page = admin.get("/items?q=教师编制&lang=en")
        block = re.search(r'<nav class="counts".*?</nav>', page.text, re.S).group(0)
        shown = re.findall(r">([^<>]+?) <b>(\d+)</b>", block)
        return shown, [s for s in seen if "GROUP BY" in s and "status" in s]  # the counts per status

    first, counted_first = counts_and_statements()
    assert counted_first  # counted once ...
    login_as(head).post(f"/items/{item.id}/progress", {"body": "招聘 20 人", "percent": "40", "submission_key": "p1"})
    again, counted_again = counts_and_statements()
    assert again == first and counted_again == []  # ... and kept: a progress post changes no count
    db.session.execute(update(Item).where(Item.id == item.id).values(title="新建校舍"))  # a Core statement
    db.session.commit()
    page = admin.get("/items?q=教师编制&lang=en")
    assert "补充教师编制" not in page.text and "教师编制核定" in page.text
    assert ("All", "1") in re.findall(r">([^<>]+?) <b>(\d+)</b>", page.text)
