"""Two people at once on one item: no lost update, exactly one decision, and the other is told.

Every browser runs its requests in threads of their own, with their own database sessions and
connections. On PostgreSQL the races are forced for real: a third connection holds the item's row
lock while both requests queue behind it, then lets go. SQLite (one writer at a time) runs the
same scenarios in sequence: the second request comes with the version the first one replaced.
"""
import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import postgres_url
from tests.locks import RowLock
from tracker.auth.models import Role
from tracker.items.models import Item, Status
from tracker.journal import JournalEntry

needs_postgres = pytest.mark.skipif(postgres_url() is None, reason="a real row-lock race needs PostgreSQL; "
                                    "the SQLite run has the sequential tests above")
STALE = "Someone else changed this item"


def hidden(page, name: str) -> str:
    return re.search(rf'name="{name}"[^>]*value="([^"]*)"', page.text).group(1)


@pytest.fixture
def desk(make, login_as, today):
    """A draft item and two coordinators with its edit form open."""
    lead = make.unit("县教育局人事股")
    owner = make.user(Role.HEAD, unit=lead, name="李股长")
    item = make.item(status=Status.DRAFT, lead_unit=lead, owner=owner, title="原标题",
                     deadline=today + dt.timedelta(days=30))
    first = login_as(make.user(Role.ADMIN, name="张主任", language="en"))
    second = login_as(make.user(Role.ADMIN, name="刘科长", language="en"))
    forms = [b.get(f"/items/{item.id}/edit") for b in (first, second)]
    ids = {"finding_id": item.finding_id, "lead_unit_id": lead.id, "owner_id": owner.id}

    def values(page, **typed):
        data = {**ids, "title": "原标题", "measures": "措施", "target": "目标", "kind": "deadline",
                "responsible_leader": "", "deadline": (today + dt.timedelta(days=30)).isoformat(),
                "version": hidden(page, "version"), "seen_entry": hidden(page, "seen_entry")}
        data.update(typed)
        return data

    return {"item": item, "first": first, "second": second, "forms": forms, "values": values}


def test_second_save_is_refused_showing_what_changed_and_keeps_what_was_typed(desk, db):
    """The second editor sees who changed which field (old → new); nothing of theirs is saved
    until they save again, knowingly, with their typed values still in the form."""
    item, values = desk["item"], desk["values"]
    first = desk["first"].post(f"/items/{item.id}/edit",
                               values(desk["forms"][0], title="第一人的标题", target="新目标"))
    assert first.status_code == 302

    second = desk["second"].post(f"/items/{item.id}/edit",
                                 values(desk["forms"][1], title="第二人的标题", measures="第二人的措施"))
    assert second.status_code == 409
    assert STALE in second.text and "张主任" in second.text
    box = second.text.split('class="card wide conflict"')[1].split("</section>")[0]
    assert "<del>原标题</del> → <ins>第一人的标题</ins>" in box
    assert "<del>目标</del> → <ins>新目标</ins>" in box
    assert 'value="第二人的标题"' in second.text and "第二人的措施" in second.text
    db.session.expire_all()
    assert db.session.get(Item, item.id).title == "第一人的标题"

    again = desk["second"].post(f"/items/{item.id}/edit", values(second, title="第二人的标题"))
    assert again.status_code == 302
    db.session.expire_all()
    assert db.session.get(Item, item.id).title == "第二人的标题"
    titles = [e.changes["title"] for e in db.session.query(JournalEntry).filter_by(
        item_id=item.id, action="update").order_by(JournalEntry.id)]
    assert titles == [["原标题", "第一人的标题"], ["第一人的标题", "第二人的标题"]]


def _race(lock_url, item_id, *requests):
    """Start the requests while another connection holds the item's row lock; release it once all
    of them wait behind it; return their responses."""
    with ThreadPoolExecutor(len(requests)) as pool:
        with RowLock(lock_url).hold("items", item_id) as lock:
            futures = [pool.submit(request) for request in requests]
            lock.wait_for_waiters(len(requests))
        # the long transaction has ended; the requests go on
        return [f.result(timeout=30) for f in futures]


@needs_postgres
def test_two_saves_at_the_same_moment_one_wins_and_the_other_sees_its_change(desk, db, app):
    item, values = desk["item"], desk["values"]
    url = f"/items/{item.id}/edit"
    responses = _race(app.config["SQLALCHEMY_DATABASE_URI"], item.id,
                      lambda: desk["first"].post(url, values(desk["forms"][0], title="甲的标题")),
                      lambda: desk["second"].post(url, values(desk["forms"][1], title="乙的标题")))
    assert sorted(r.status_code for r in responses) == [302, 409]
    loser = next(r for r in responses if r.status_code == 409)
    db.session.expire_all()
    saved = db.session.get(Item, item.id).title
    assert saved in ("甲的标题", "乙的标题")
    assert f"<ins>{saved}</ins>" in loser.text  # the loser is shown the winner's change
    assert db.session.query(JournalEntry).filter_by(item_id=item.id, action="update").count() == 1


@pytest.fixture
def decision(make, login_as):
    """An item submitted for closure, and two inspectors looking at it."""
    item = make.item(status=Status.SUBMITTED, with_evidence=True)
    inspectors = [login_as(make.user(Role.INSPECTOR, name=name, language="en")) for name in ("赵督学", "孙督学")]
    return item, inspectors


def _close(browser, item):
    return browser.post(f"/items/{item.id}/actions/close_item", {"result": "rectified"}, follow_redirects=True)


def _return(browser, item):
    return browser.post(f"/items/{item.id}/actions/return_item", {"reason": "佐证不足"}, follow_redirects=True)


def _decisions(db, item):
    return [e.action for e in db.session.query(JournalEntry).filter_by(item_id=item.id)
            if e.action in ("close_item", "return_item")]


def test_the_second_inspector_to_decide_is_told_and_changes_nothing(decision, db):
    item, (zhao, sun) = decision
    assert "Done" in _close(zhao, item).text
    late = _return(sun, item)
    assert 'class="flash flash-error"' in late.text
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == Status.CLOSED
    assert _decisions(db, item) == ["close_item"]


@needs_postgres
def test_two_inspectors_deciding_at_the_same_moment_exactly_one_decision_wins(decision, db, app):
    item, (zhao, sun) = decision
    responses = _race(app.config["SQLALCHEMY_DATABASE_URI"], item.id,
                      lambda: _close(zhao, item), lambda: _return(sun, item))
    told = [r for r in responses if STALE in r.text]
    assert len(told) == 1 and sorted(r.status_code for r in responses) == [200, 409]
    assert told[0].status_code == 409  # the conflict page, with what the other inspector decided
    db.session.expire_all()
    decided = _decisions(db, item)
    assert len(decided) == 1
    expected = {"close_item": Status.CLOSED, "return_item": Status.RETURNED}[decided[0]]
    assert db.session.get(Item, item.id).status == expected
