"""The ledger's rows are rendered once per content and kept: whatever a row shows, a change shows at once."""
import datetime as dt
import re

import pytest

from tracker import clock
from tracker.auth.models import Role, User
from tracker.evaluations.models import Evaluation
from tracker.items.models import Item
from tracker.units.models import Unit


@pytest.fixture
def admin(login_as, make):
    return login_as(make.user(Role.ADMIN))


def row_of(page, item_id: int) -> str:
    # (an admin's row starts with the checkbox that chooses it for the bulk form)
    match = re.search(rf'<tr>\s*<td data-label="[^"]*">(?:<input [^>]*> )?{item_id}</td>.*?</tr>', page.text, re.S)
    assert match, page.text
    return match.group(0)


def test_a_change_of_anything_a_row_shows_is_seen_on_the_next_page(admin, make, db):
    unit, partner = make.unit("县教育局"), make.unit("县财政局")
    owner = make.user(Role.HEAD, unit=unit, name="张三")
    item = make.item(title="补充音体美教师", lead_unit=unit, cooperating=[partner], owner=owner)
    before = row_of(admin.get("/items"), item.id)
    assert "补充音体美教师" in before and "县教育局" in before and "县财政局" in before and "张三" in before

    # Changes made outside the page's own forms (another worker, a job): only the values count.
    db.session.get(Unit, unit.id).name = "县教育体育局"
    db.session.get(Unit, partner.id).name = "县财政局（改）"
    db.session.get(User, owner.id).name = "李四"
    stored = db.session.get(Item, item.id)
    stored.title, stored.progress_percent = "补充音体美教师（调整）", 40
    db.session.commit()
    after = row_of(admin.get("/items"), item.id)
    for shown in ("补充音体美教师（调整）", "县教育体育局", "县财政局（改）", "李四", "40%"):
        assert shown in after, shown


def test_the_light_follows_the_day_and_the_labels_the_language(admin, make, login_as, today):
    item = make.item(deadline=today + dt.timedelta(days=30), progress=50)
    assert "light-green" in row_of(admin.get("/items"), item.id)
    clock.freeze(today + dt.timedelta(days=31))
    admin = login_as(make.user(Role.ADMIN))  # a day later the sign-in has expired
    assert "light-red" in row_of(admin.get("/items"), item.id)
    assert "逾期" in row_of(admin.get("/items"), item.id)
    english = row_of(admin.get("/items?lang=en"), item.id)
    assert "Overdue" in english and "逾期" not in english


def test_rows_are_escaped(admin, make):
    item = make.item(title="<script>alert(1)</script>")
    row = row_of(admin.get("/items"), item.id)
    assert "<script>" not in row and "&lt;script&gt;" in row


def test_a_new_or_renamed_evaluation_shows_in_the_filter_at_once(admin, make, db):
    make.item()  # the factory's evaluation: 2019年度自评
    assert "2019 · 2019年度自评" in admin.get("/items").text            # cached now
    db.session.add(Evaluation(title="2020年度督导反馈", year=2020, issuing_body="市政府",
                              issued_on=dt.date(2020, 10, 1)))
    db.session.commit()
    page = admin.get("/items").text
    assert page.index("2020 · 2020年度督导反馈") < page.index("2019 · 2019年度自评")   # newest first
    evaluation = db.session.query(Evaluation).filter_by(year=2019).one()
    evaluation.title = "2019年度自评（修订）"
    db.session.commit()
    page = admin.get(f"/items?evaluation={evaluation.id}").text
    assert f'<option value="{evaluation.id}" selected>2019 · 2019年度自评（修订）</option>' in page
