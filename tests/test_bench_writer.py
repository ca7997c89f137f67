"""The benchmark's writer (bench/writer.py): its schedule, and its writes against a live gunicorn,
which must land in the database, be counted, and report a failure instead of hiding it."""
from __future__ import annotations

import sys

import pytest
from sqlalchemy import select

from bench.writer import KINDS, Pacer, Target, Writer, count_rows, pick_targets
from tests.helpers import free_port
from tests.processes import Process, app_environment
from tracker.auth.models import Role
from tracker.items.models import Item, ProgressUpdate, Status
from tracker.journal import JournalEntry


class FakeClock:
    """A clock that only moves when the pacer sleeps, or when an answer takes time."""

    def __init__(self):
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_the_pacer_sends_at_the_rate_and_does_not_wait_after_a_slow_answer():
    clock = FakeClock()
    pacer = Pacer(4, clock, clock.sleep)
    sent = []
    for answer_takes in (0.05, 0.05, 0.6, 0.05, 0.05, 0.05):
        pacer.wait()
        sent.append(round(clock.now - 100.0, 6))
        clock.now += answer_takes
    # Slots every 0.25 s; the third answer ends at 1.1 s, past the 0.75 and 1.0 s slots: the next two
    # go at once (late), one after the other, and the sixth is back on its slot.
    assert sent == [0.0, 0.25, 0.5, 1.1, 1.15, 1.25]
    assert pacer.late == 2
    with pytest.raises(ValueError):
        Pacer(0)


@pytest.fixture
def server(app):
    port = free_port()
    process = Process([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                      app_environment(app, PORT=port, WEB_CONCURRENCY=1, API_RATE_LIMIT="100000 per minute",
                                      API_ADDRESS_RATE_LIMIT="100000 per minute"))
    try:
        process.wait_for("Booting worker", timeout=60)
        yield port
    finally:
        process.terminate()   # the master stops its worker (killing the master alone would orphan it)
        process.wait(60)
        process.close()


def test_the_writers_progress_transitions_and_files_land_in_the_database(app, db, make, server):
    admin = make.user(Role.ADMIN, language="en")
    units = [make.unit() for _ in range(3)]
    open_items = [make.item(lead_unit=units[n % 3], with_evidence=True) for n in range(6)]
    submitted = make.item(status=Status.SUBMITTED, lead_unit=units[0])
    closed = make.item(status=Status.CLOSED, lead_unit=units[1])
    secret = make.token(admin, "bench")
    url = app.config["SQLALCHEMY_DATABASE_URI"]

    targets = pick_targets(url)
    assert sorted(t.id for t in targets) == sorted([i.id for i in open_items] + [submitted.id])
    assert closed.id not in {t.id for t in targets}
    before = count_rows(url)
    writer = Writer(server, secret, targets, rate=1.0, seed=3)
    for n in range(2 * len(KINDS)):   # the writes its thread would make, without waiting for their slots
        writer.write(KINDS[n % len(KINDS)], n)
    report = writer.report()
    after = count_rows(url)

    assert report["ok"] == {"progress": 6, "transition": 4, "evidence": 2}, report
    assert report["failures"] == {"progress": 0, "transition": 0, "evidence": 0}, report["failure_samples"]
    assert after["progress_updates"] - before["progress_updates"] == 6
    assert after["evidence"] - before["evidence"] == 2
    assert after["journal_entries"] - before["journal_entries"] >= 12
    db.session.expire_all()
    bodies = db.session.scalars(select(ProgressUpdate.body).where(ProgressUpdate.author_id == admin.id)).all()
    assert len(bodies) == 6 and all(body.startswith("基准测试写入") for body in bodies)
    # Its four transitions are in the journal, and what it believes of each item is what the database holds.
    moves = db.session.scalars(select(JournalEntry.action).where(
        JournalEntry.actor_id == admin.id,
        JournalEntry.action.in_(["submit_for_closure", "return_item", "resume"]))).all()
    assert len(moves) == 4
    assert {t.id: db.session.get(Item, t.id).status.value for t in targets} == {t.id: t.status for t in targets}


def test_a_409_is_counted_apart_and_other_refusals_as_failures(app, db, make, server):
    admin = make.user(Role.ADMIN, language="en")
    item = make.item(status=Status.SUBMITTED)
    bare = make.item()   # in progress without a file: it cannot be submitted yet
    secret = make.token(admin, "bench")

    stale = Target(item.id, item.lead_unit_id, "in_progress")   # the writer thinks it is still in progress
    writer = Writer(server, secret, [stale])
    writer.write("transition", 0)
    assert writer.report()["conflicts_409"]["transition"] == 1
    assert writer.report()["failures"]["transition"] == 0
    assert stale.status == "submitted"   # read again after the 409

    target = Target(bare.id, bare.lead_unit_id, "in_progress")
    writer = Writer(server, secret, [target])
    writer.write("transition", 0)
    assert writer.report()["conflicts_409"]["transition"] == 1 and not target.submittable
    assert writer.choose("transition") is None   # not submitted again while it has no file
    writer.write("evidence", 1)
    writer.write("transition", 2)
    assert writer.report()["ok"] == {"progress": 0, "transition": 1, "evidence": 1}
    db.session.expire_all()
    assert db.session.get(Item, bare.id).status == Status.SUBMITTED

    wrong_token = Writer(server, secret + "x", [Target(item.id, item.lead_unit_id, "submitted")])
    wrong_token.write("transition", 0)
    report = wrong_token.report()
    assert report["failures"]["transition"] == 1 and report["writes"] == 0
    assert "401" in report["failure_samples"][0]
