"""Several real processes over one database: two schedulers and two outbox senders send every
message exactly once; a scheduler stopped with SIGTERM while sending loses nothing.

The processes are `flask --app wsgi scheduler` and `flask --app wsgi outbox flush`, started with
DATABASE_URL pointing at this run's database (on PostgreSQL its own schema) and the real SMTP
server of the fixture. They run on the real clock, so the test data is dated from the real today.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections import Counter

import pytest
from sqlalchemy import select

from tests.helpers import queue_for
from tests.processes import Process, app_environment
from tracker import clock
from tracker.notifications import outbox
from tracker.notifications.models import OutboxMessage, OutboxStatus


@pytest.fixture
def real_clock():
    """The child processes read the real clock; the test's data must agree with them."""
    clock.freeze(None)
    return clock.today()


def _environment(app, today, **extra):
    # The scan and the digest are due at once: the schedulers' start-up catch-up runs both.
    return app_environment(app, SCAN_HOUR=0, DIGEST_HOUR=0, MAIL_TIMEOUT=30,
                           DIGEST_DAY=today.strftime("%a").lower(), **extra)


def _rows(db):
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage)).all()


def test_two_schedulers_and_two_senders_send_every_message_exactly_once(
        app, db, make, people, smtp_server, real_clock):
    today = real_clock
    users = [make.user() for _ in range(5)]
    for round_ in range(8):
        queue_for(users, prefix=f"queued{round_}")
    for days in (-8, -1, 1, 3, 7):   # overdue, escalated and due-soon items: the scan's reminders
        make.item(lead_unit=people["unit"], owner=people["owner"], deadline=today + dt.timedelta(days=days))
    env = _environment(app, today)

    processes = [Process.flask(env, "scheduler"), Process.flask(env, "scheduler"),
                 Process.flask(env, "outbox", "flush"), Process.flask(env, "outbox", "flush")]
    try:
        for sender in processes[2:]:
            assert sender.wait() == 0, sender.output
        for scheduler in processes[:2]:
            scheduler.wait_for("started")  # its catch-up (scan, digest, outbox) is done
        if any(row.status != OutboxStatus.SENT for row in _rows(db)):
            # Queued by a scheduler after every sender's last claim (its own outbox run found the
            # other's lease): the next minute's run would send it; a third sender does it now.
            processes.append(Process.flask(env, "outbox", "flush"))
            assert processes[-1].wait() == 0, processes[-1].output
        for scheduler in processes[:2]:
            scheduler.terminate()
        for scheduler in processes[:2]:
            assert scheduler.wait() == 0, scheduler.output
            assert "stopped" in scheduler.output
    finally:
        for process in processes:
            process.close()

    rows = _rows(db)
    kinds = Counter(row.kind for row in rows)
    assert kinds["reminder"] > 40 and kinds.get("digest", 0) > 0, kinds  # the scan and digest ran
    assert {row.status for row in rows} == {OutboxStatus.SENT}
    received = Counter(smtp_server.keys())
    assert set(received.values()) == {1}, "a message was sent twice"
    assert set(received) == {row.dedup_key for row in rows}


def test_a_scheduler_stopped_while_sending_finishes_the_message_and_hands_back_the_rest(
        app, db, make, smtp_server, real_clock):
    users = [make.user() for _ in range(6)]
    queue_for(users)
    arrived, go_on = threading.Event(), threading.Event()
    accept = smtp_server.handle_DATA

    async def held(server, session, envelope):
        """The first message is in the SMTP server's hands until the test lets it go."""
        arrived.set()
        await asyncio.get_running_loop().run_in_executor(None, go_on.wait, 30)
        return await accept(server, session, envelope)

    smtp_server.handle_DATA = held
    env = _environment(app, real_clock)
    scheduler = Process.flask(env, "scheduler")
    try:
        assert arrived.wait(30), scheduler.output
        scheduler.terminate()
        scheduler.wait_for("finishing the job in progress")
        go_on.set()
        assert scheduler.wait() == 0, scheduler.output
        assert "stopped" in scheduler.output
    finally:
        go_on.set()
        scheduler.close()

    rows = _rows(db)
    assert Counter(row.status for row in rows) == {OutboxStatus.SENT: 1, OutboxStatus.PENDING: 5}
    assert all(row.claimed_by is None for row in rows if row.status == OutboxStatus.PENDING)
    assert len(smtp_server.messages) == 1

    assert outbox.flush() == {"sent": 5, "failed": 0}  # the next sender takes the rest at once
    assert {row.status for row in _rows(db)} == {OutboxStatus.SENT}
    assert sorted(smtp_server.keys()) == sorted(row.dedup_key for row in rows)


def test_a_scheduler_killed_while_sending_is_replaced_and_its_mail_goes_out(app, db, make, smtp_server, real_clock):
    """kill -9 of the scheduler holding the outbox lease and a claimed message: the next scheduler
    (started as if 20 minutes had passed, past the lease and the claim) sends it."""
    users = [make.user()]
    queue_for(users)
    arrived = threading.Event()
    accept = smtp_server.handle_DATA

    async def never(server, session, envelope):
        """The relay takes the first scheduler's message and never answers."""
        arrived.set()
        await asyncio.sleep(3600)

    smtp_server.handle_DATA = never
    first = Process.flask(_environment(app, real_clock), "scheduler")
    try:
        assert arrived.wait(30), first.output
        first.popen.kill()                     # SIGKILL: no clean-up, the lease and the claim stay
        first.popen.wait(30)
    finally:
        first.close()
    assert [row.status for row in _rows(db)] == [OutboxStatus.SENDING]
    smtp_server.handle_DATA = accept
    second = Process.flask(_environment(app, real_clock, CLOCK_OFFSET_SECONDS=20 * 60), "scheduler")
    try:
        second.wait_for("outbox", timeout=60)
        deadline = threading.Event()
        for _ in range(300):                   # until the second scheduler's start-up run is done
            if [row.status for row in _rows(db)] == [OutboxStatus.SENT]:
                break
            deadline.wait(0.1)
        second.terminate()
        second.wait(60)
    finally:
        second.close()
    assert [row.status for row in _rows(db)] == [OutboxStatus.SENT]
    assert smtp_server.keys() == [_rows(db)[0].dedup_key]


def test_two_sender_processes_share_a_robots_limit_and_send_each_robot_and_sms_message_once(
        app, db, make, robot, sms_gateway, real_clock, monkeypatch):
    """Two `outbox flush` processes at once: the group robot takes its 20 a minute from both together
    (the rest waits, queued), and every SMS reaches the gateway exactly once."""
    # On the real clock the default quiet hours (21:00-08:00) would date the rows for the morning.
    monkeypatch.setitem(app.config, "QUIET_HOURS", "")
    from tracker.notifications import channels
    from tracker.units.models import RobotKind
    unit = make.unit()
    unit.robot_kind, unit.robot_webhook, unit.robot_secret = RobotKind.DINGTALK, robot.url(), robot.secret
    unit.robot_topics = "reminders"
    for n in range(30):
        channels.queue_robot(unit, "reminders", f"robot-proc:{n}", f"Title {n}", f"text {n}")
    texts = [make.user(mobile=f"1390013{n:04d}") for n in range(10)]
    outbox.queue_rows([channels.sms_row(person, "reminder", f"sms-proc:{n}", f"短信 {n}")
                       for n, person in enumerate(texts)])
    db.session.commit()
    env = _environment(app, real_clock, QUIET_HOURS="", ROBOT_MAX_PER_MINUTE=20,
                       SMS_GATEWAY_URL=sms_gateway.url("/sms/send"))
    senders = [Process.flask(env, "outbox", "flush"), Process.flask(env, "outbox", "flush")]
    try:
        for sender in senders:
            assert sender.wait() == 0, sender.output
    finally:
        for sender in senders:
            sender.close()
    titles = Counter(body["markdown"]["title"] for body in robot.delivered)
    assert len(titles) == 20 and set(titles.values()) == {1} and robot.bad_signatures == 0
    assert sorted(body["content"] for body in sms_gateway.delivered) == sorted(f"短信 {n}" for n in range(10))
    waiting = [row for row in _rows(db) if row.status == OutboxStatus.PENDING]
    assert len(waiting) == 10 and {row.attempts for row in waiting} == {0}
