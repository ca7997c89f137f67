"""The outbox sends every message exactly once: server down, recipient refused, two senders, a crash."""
from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import create_engine, select, text

from tests.helpers import free_port, move_clock, postgres_url, queue_for
from tracker.extensions import db as _db
from tracker.notifications import jobs, outbox
from tracker.notifications.models import OutboxMessage, OutboxStatus


def statuses():
    return Counter(_db.session.scalars(select(OutboxMessage.status)))


def test_mail_server_down_then_up_sends_each_message_once(db, make, smtp_server, monkeypatch, app):
    users = [make.user() for _ in range(3)]
    queue_for(users)
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())   # nobody listens there
    assert outbox.flush() == {"sent": 0, "failed": 3}
    row = db.session.scalar(select(OutboxMessage))
    assert row.status == OutboxStatus.PENDING and row.attempts == 1 and "mail server" in row.last_error
    assert outbox.flush() == {"sent": 0, "failed": 0}              # backing off: not due yet
    monkeypatch.setitem(app.config, "MAIL_PORT", smtp_server.controller.port)
    move_clock(minutes=2)
    assert outbox.flush() == {"sent": 3, "failed": 0}
    assert outbox.flush() == {"sent": 0, "failed": 0}
    assert sorted(smtp_server.keys()) == sorted(f"test:{u.id}:{n}" for n, u in enumerate(users))
    assert statuses() == {OutboxStatus.SENT: 3}


def test_a_refused_recipient_waits_while_the_others_go_out(db, make, smtp_server):
    refused, fine = make.user(), make.user()
    queue_for([refused, fine])
    smtp_server.refuse.add(refused.email)
    assert outbox.flush() == {"sent": 1, "failed": 1}
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient_id == refused.id))
    assert row.status == OutboxStatus.PENDING and "550" in row.last_error
    smtp_server.refuse.clear()
    move_clock(minutes=2)
    assert outbox.flush() == {"sent": 1, "failed": 0}
    assert Counter(m["To"].addresses[0].addr_spec for m in smtp_server.messages) == {refused.email: 1, fine.email: 1}


def test_a_message_gives_up_after_the_attempt_limit_and_can_be_retried(db, make, smtp_server, monkeypatch, app):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 2)
    user = make.user()
    queue_for([user])
    smtp_server.refuse.add(user.email)
    outbox.flush()
    move_clock(minutes=5)
    outbox.flush()
    row = db.session.scalar(select(OutboxMessage))
    assert row.status == OutboxStatus.FAILED and row.attempts == 2
    move_clock(hours=5)
    assert outbox.flush() == {"sent": 0, "failed": 0}
    smtp_server.refuse.clear()
    outbox.retry(None, row.id)
    assert outbox.flush() == {"sent": 1, "failed": 0}


def test_two_senders_at_once_deliver_each_message_exactly_once(db, make, smtp_server, app):
    users = [make.user() for _ in range(4)]
    for round_ in range(10):
        queue_for(users, prefix=f"r{round_}")
    barrier = threading.Barrier(2)
    errors = []

    def sender():
        try:
            with app.app_context():
                barrier.wait()
                while any(outbox.flush(limit=5).values()):
                    pass
                _db.session.remove()
        except Exception as exc:  # reported below: a thread's exception would otherwise vanish
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    keys = Counter(smtp_server.keys())
    assert len(keys) == 40 and set(keys.values()) == {1}
    assert statuses() == {OutboxStatus.SENT: 40}


def test_a_sender_killed_after_claiming_loses_nothing(db, make, smtp_server):
    """The claimed rows wait CLAIM_TIMEOUT, then another sender takes them over."""
    queue_for([make.user()])
    assert outbox.claim("dead-process") != []
    assert outbox.flush() == {"sent": 0, "failed": 0}
    move_clock(minutes=16)
    assert outbox.flush() == {"sent": 1, "failed": 0}
    assert len(smtp_server.messages) == 1


def test_a_sender_killed_between_sending_and_marking_sends_one_duplicate_with_the_same_id(db, make, smtp_server):
    """Documented limit: at most one duplicate, never a loss; the Message-ID lets clients fold it."""
    queue_for([make.user()])
    [message_id] = outbox.claim("dying-process")
    with outbox._transport() as transport:                       # it sent, then died
        transport.send(outbox.compose(db.session.get(OutboxMessage, message_id)))
    move_clock(minutes=16)
    assert outbox.flush() == {"sent": 1, "failed": 0}
    first, second = smtp_server.messages
    assert first["Message-ID"] == second["Message-ID"]


def test_header_injection_in_names_and_titles_is_neutralised(db, make, smtp_server):
    user = make.user(name="Mallory\r\nBcc: victim@evil.example")
    outbox.queue(user, "reminder", "inject", "Overdue: 整改\r\nBcc: victim@evil.example\nX-Evil: 1",
                 "text", "<p>html</p>")
    db.session.commit()
    assert outbox.flush() == {"sent": 1, "failed": 0}
    [mail] = smtp_server.messages
    [(_sender, recipients)] = smtp_server.envelopes
    assert recipients == [user.email]
    assert mail["Bcc"] is None and mail["X-Evil"] is None
    assert "\n" not in mail["Subject"] and "victim@evil.example" in mail["Subject"]
    assert mail["To"].addresses[0].addr_spec == user.email


def test_without_a_mail_server_messages_go_to_the_log_file(db, make, mail_log):
    user = make.user(name="王五")
    outbox.queue(user, "reminder", "log", "Subject line", "第1次催办 body", "<p>html</p>")
    db.session.commit()
    assert outbox.flush() == {"sent": 1, "failed": 0}
    text = mail_log.read_text(encoding="utf-8")
    assert "第1次催办 body" in text and user.email in text
    assert db.session.scalar(select(OutboxMessage)).status == OutboxStatus.SENT


def test_queueing_the_same_key_twice_adds_one_row(db, make):
    user = make.user()
    assert outbox.queue(user, "digest", "same", "s", "t", "h") is not None
    assert outbox.queue(user, "digest", "same", "s", "t", "h") is None
    db.session.commit()
    assert statuses() == {OutboxStatus.PENDING: 1}


def test_outbox_flush_sends_everything_at_the_relays_rate(db, make, smtp_server, app, monkeypatch, wall):
    queue_for([make.user() for _ in range(5)])
    monkeypatch.setitem(app.config, "MAIL_MAX_PER_MINUTE", 2)
    waits = []

    def wait(seconds):  # the minute passes without the test sleeping through it
        waits.append(round(seconds))
        wall.move(seconds=seconds)
    assert outbox.send_all(wait) == {"sent": 5, "failed": 0}
    assert len(smtp_server.messages) == 5 and statuses() == {OutboxStatus.SENT: 5}
    assert waits == [60, 60]  # two mails, a minute, two mails, a minute, the last one


def test_one_run_of_the_sender_drains_everything_due(db, make, smtp_server):
    users = [make.user() for _ in range(120)]
    queue_for(users)
    assert jobs.outbox_job() == {"sent": 120, "failed": 0}
    assert sorted(smtp_server.keys()) == sorted(f"test:{u.id}:{n}" for n, u in enumerate(users))
    assert statuses() == {OutboxStatus.SENT: 120}


def test_the_sender_respects_the_relays_rate_limit_and_its_time_budget(db, make, smtp_server, app, monkeypatch, wall):
    queue_for([make.user() for _ in range(70)])
    monkeypatch.setitem(app.config, "MAIL_MAX_PER_MINUTE", 30)
    assert jobs.outbox_job() == {"sent": 30, "failed": 0}
    assert len(smtp_server.messages) == 30 and statuses() == {OutboxStatus.SENT: 30, OutboxStatus.PENDING: 40}
    monkeypatch.setitem(app.config, "MAIL_MAX_PER_MINUTE", 0)
    monkeypatch.setitem(app.config, "OUTBOX_TIME_BUDGET", 50)
    accept = smtp_server.handle_DATA

    async def slow(server, session, envelope):   # the relay takes 10 seconds a message
        wall.move(seconds=10)
        return await accept(server, session, envelope)

    smtp_server.handle_DATA = slow
    assert jobs.outbox_job() == {"sent": 5, "failed": 0}       # then the budget is up
    assert statuses() == {OutboxStatus.SENT: 35, OutboxStatus.PENDING: 35}
    assert all(m.claimed_by is None for m in db.session.scalars(select(OutboxMessage))
               if m.status == OutboxStatus.PENDING)            # the rest is handed back, not held


@pytest.mark.skipif(postgres_url() is None, reason="kills PostgreSQL connections")
def test_a_sender_whose_connection_drops_while_marking_reconnects_and_marks(db, make, smtp_server):
    users = [make.user() for _ in range(3)]
    queue_for(users)
    accept, killed = smtp_server.handle_DATA, []

    async def drop_connections(server, session, envelope):
        """While the first message is with the relay, the database drops the sender's connection."""
        if not killed:
            engine = create_engine(postgres_url())
            with engine.connect() as admin:
                killed.append(admin.execute(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND state = 'idle in transaction'")).scalar())
            engine.dispose()
        return await accept(server, session, envelope)

    smtp_server.handle_DATA = drop_connections
    assert jobs.outbox_job() == {"sent": 3, "failed": 0}
    assert killed[0] >= 1
    db.session.expire_all()
    assert statuses() == {OutboxStatus.SENT: 3}
    assert Counter(smtp_server.keys()) == Counter(f"test:{u.id}:{n}" for n, u in enumerate(users))
