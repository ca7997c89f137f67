"""The scheduler's jobs: the lease makes a second process harmless; commands run the jobs."""
from __future__ import annotations

import datetime as dt

import pytest

from sqlalchemy import func, select

from tests.helpers import move_clock, queue_for
from tracker import clock
from tracker.extensions import db as _db
from tracker.notifications import jobs, outbox
from tracker.notifications.models import JobRun, OutboxMessage, Reminder


def test_a_second_process_finds_the_lease_taken_and_skips(db):
    assert jobs.acquire("reminders", holder="process-a")
    assert not jobs.acquire("reminders", holder="process-b")
    assert jobs.acquire("reminders", holder="process-a")          # the holder may renew
    jobs.release("reminders", holder="process-a")
    assert jobs.acquire("reminders", holder="process-b")


def test_a_crashed_holders_lease_expires_on_the_real_clock(db, wall):
    assert jobs.acquire("digest", holder="crashed")
    move_clock(days=3)                           # a pretend date does not expire it
    assert not jobs.acquire("digest", holder="alive")
    wall.move(minutes=31)
    assert jobs.acquire("digest", holder="alive")


def test_a_job_skipped_for_the_lease_does_nothing(db, make, people, today, mail_log):
    make.item(lead_unit=people["unit"], owner=people["owner"], deadline=today - dt.timedelta(days=1))
    assert jobs.acquire("reminders", holder="other-scheduler")
    assert jobs.scan_job() is None
    assert db.session.scalars(select(Reminder)).all() == []
    jobs.release("reminders", holder="other-scheduler")
    assert jobs.scan_job() == {"reminders": 1, "mails": 1, "recheck_mails": 0}
    assert [r.job for r in jobs.last_runs()] == ["reminders"]


def test_the_scheduler_runs_three_jobs_in_the_local_time_zone(app):
    from apscheduler.schedulers.background import BackgroundScheduler
    scheduler = jobs.build_scheduler(app, BackgroundScheduler)
    triggers = {job.id: job.trigger for job in scheduler.get_jobs()}
    assert set(triggers) == {"reminders", "digest", "notices", "outbox", "evidence-sweep"}
    assert str(triggers["digest"].timezone) == "Asia/Shanghai"
    monday = dt.datetime(2026, 3, 16, 7, 0, tzinfo=triggers["digest"].timezone)
    assert triggers["digest"].get_next_fire_time(None, monday).isoformat() == "2026-03-16T08:00:00+08:00"


def test_commands_scan_send_list_and_retry(app, db, make, people, today, mail_log):
    make.item(lead_unit=people["unit"], owner=people["owner"], deadline=today + dt.timedelta(days=3))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reminders", "scan", "--today", today.isoformat(), "--commit"])
    assert result.exit_code == 0, result.output
    assert "reminders: reminders 1, mails 1" in result.output and "outbox: sent 1" in result.output
    again = runner.invoke(args=["reminders", "scan", "--today", today.isoformat(), "--commit"])
    assert "reminders: reminders 0, mails 0" in again.output
    assert "digest: queued" in runner.invoke(args=["digest", "send", "--today", today.isoformat(), "--commit"]).output
    listing = runner.invoke(args=["outbox", "list", "--status", "sent"])
    assert people["owner"].email in listing.output
    message = db.session.scalar(select(OutboxMessage))
    assert "No unsent message" in runner.invoke(args=["outbox", "retry", str(message.id)]).output
    assert runner.invoke(args=["outbox", "flush"]).exit_code == 0
    assert {r.job for r in db.session.scalars(select(JobRun))} >= {"reminders", "digest"}


def test_a_pretend_date_leaves_no_lease_behind_for_the_running_schedulers(
        app, db, make, people, today, smtp_server):
    make.item(lead_unit=people["unit"], owner=people["owner"], deadline=today + dt.timedelta(days=4))
    result = app.test_cli_runner().invoke(
        args=["reminders", "scan", "--today", (today + dt.timedelta(days=3)).isoformat(), "--commit"])
    assert result.exit_code == 0, result.output
    assert len(smtp_server.messages) == 1
    # A scheduler (another process, on today's clock) finds mail waiting: it sends it at once.
    clock.freeze(today)
    queue_for([make.user()], prefix="waiting")
    for job in ("outbox", "reminders"):
        assert jobs.acquire(job, holder="scheduler-on-the-real-clock"), f"the scheduler skips the {job} job"
    assert outbox.flush() == {"sent": 1, "failed": 0}
    assert "waiting" in smtp_server.keys()[-1]


@pytest.mark.parametrize("command", [["reminders", "scan"], ["digest", "send"]])
def test_a_pretend_date_records_nothing_without_commit(app, db, make, people, today, mail_log, wall, command):
    make.item(lead_unit=people["unit"], owner=people["owner"], deadline=today + dt.timedelta(days=3))
    wall.now = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.timezone.utc)
    result = app.test_cli_runner().invoke(args=[*command, "--today", "2026-12-28"])
    assert result.exit_code == 2
    assert "--today 2026-12-28 is not today (2026-12-02)" in result.output and "--commit" in result.output
    assert db.session.scalar(select(func.count()).select_from(Reminder)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    today_run = app.test_cli_runner().invoke(args=[*command, "--today", "2026-12-02"])
    assert today_run.exit_code == 0, today_run.output


def test_a_scan_for_an_earlier_date_runs_right_after_a_scheduler_stopped(app, db, make, people, today, mail_log):
    make.item(lead_unit=people["unit"], owner=people["owner"], deadline=today + dt.timedelta(days=3))
    clock.freeze(None)                 # the scheduler lives on the wall clock
    assert jobs.acquire("reminders", holder="scheduler-b")
    jobs.release("reminders", holder="scheduler-b")   # it finished and stopped
    result = app.test_cli_runner().invoke(args=["reminders", "scan", "--today", today.isoformat(), "--commit"])
    assert result.exit_code == 0, result.output
    assert "another process" not in result.output
    assert "reminders: reminders 1, mails 1" in result.output


def test_a_killed_schedulers_scan_is_taken_over_within_the_lease(
        app, db, make, people, today, smtp_server, wall, monkeypatch):
    monkeypatch.setitem(app.config, "LEASE_SECONDS", 60)
    monkeypatch.setitem(app.config, "SCAN_HOUR", 7)
    make.item(lead_unit=people["unit"], owner=people["owner"], deadline=today - dt.timedelta(days=1))
    clock.freeze(dt.datetime.combine(today, dt.time(7, 1), tzinfo=clock.tz()))
    assert jobs.acquire("reminders", holder="killed-with-sigkill")   # it began the 07:00 scan and died
    assert jobs.scan_if_due() is None and smtp_server.messages == []   # its lease still runs
    wall.move(seconds=61)
    move_clock(minutes=1)
    assert jobs.scan_if_due() == {"reminders": 1, "mails": 1, "recheck_mails": 0}
    jobs.outbox_job()
    assert [m["To"].addresses[0].addr_spec for m in smtp_server.messages] == [people["owner"].email]
    move_clock(minutes=1)
    assert jobs.scan_if_due() is None                 # completed for today: the next minute does nothing


def test_a_running_job_renews_its_lease(app, db, make, smtp_server, wall, monkeypatch):
    monkeypatch.setitem(app.config, "LEASE_SECONDS", 60)
    monkeypatch.setitem(app.config, "OUTBOX_TIME_BUDGET", 600)
    queue_for([make.user() for _ in range(10)])
    others = []
    accept = smtp_server.handle_DATA

    async def slow(server, session, envelope):
        """Each message takes the relay 30 seconds; meanwhile another scheduler tries the job."""
        wall.move(seconds=30)
        with app.app_context():
            others.append(jobs.acquire("outbox", holder="scheduler-b"))
            _db.session.remove()
        return await accept(server, session, envelope)

    smtp_server.handle_DATA = slow
    assert jobs.outbox_job() == {"sent": 10, "failed": 0}
    assert others == [False] * 10            # 300 seconds, five times the lease: never taken over
    assert jobs.acquire("outbox", holder="scheduler-b")   # released at the end
