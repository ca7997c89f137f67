"""Scheduled work: each job is a plain function, safe to run twice, guarded by a database lease.

The lease (one row per job in `scheduler_leases`) is taken with a conditional UPDATE, so when
several scheduler processes run (or an operator runs a command while the scheduler is busy), only
one runs a job at a time and the others skip it. The jobs are idempotent anyway (de-duplication
keys, claimed outbox rows); the lease keeps two scans from racing for the same keys.

Leases are short (LEASE_SECONDS, on the real clock) and renewed while the job runs: the job calls
heartbeat() at its safe points (between outbox messages, between the scan's steps). A holder that
dies (kill -9) stops renewing, and another scheduler takes the job over once the lease ran out.
The daily scan records the day it completed for; every scheduler checks each minute and runs
today's scan when it is past SCAN_HOUR and no scan completed for today (scan_if_due).
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from tracker import clock
from tracker.extensions import db
from tracker.notifications import digests, notices, outbox, reminders
from tracker.notifications.models import JobRun, SchedulerLease

log = logging.getLogger(__name__)

HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"[:100]
_held = threading.local()   # the lease this thread's job holds: (name, holder, last renewal)


def lease_ttl() -> dt.timedelta:
    return dt.timedelta(seconds=max(current_app.config["LEASE_SECONDS"], 1))


def acquire(name: str, holder: str | None = None) -> bool:
    """Take the lease on `name` unless another live holder has it; commits. Leases live on the
    real clock (clock.real_now), never on a --today pretend date: other processes compare them."""
    holder = holder or HOLDER
    now, ttl = clock.real_now(), lease_ttl()
    taken = db.session.execute(
        update(SchedulerLease).where(SchedulerLease.name == name,
                                     (SchedulerLease.expires_at <= now) | (SchedulerLease.holder == holder))
        .values(holder=holder, expires_at=now + ttl).execution_options(synchronize_session=False))
    if taken.rowcount == 1:
        db.session.commit()  # a lease is the job's own transaction: other schedulers must see it now
        return True
    db.session.rollback()
    if db.session.get(SchedulerLease, name) is not None:
        return False
    try:
        db.session.add(SchedulerLease(name=name, holder=holder, expires_at=now + ttl))
        db.session.commit()
    except IntegrityError:  # another process created it a moment ago
        db.session.rollback()
        return False
    return True


def _extend(name: str, holder: str, until: dt.datetime) -> bool:
    """Move the end of `holder`'s lease on `name` (False: the lease is another's now)."""
    return db.session.execute(
        update(SchedulerLease).where(SchedulerLease.name == name, SchedulerLease.holder == holder)
        .values(expires_at=until).execution_options(synchronize_session=False)).rowcount == 1


def release(name: str, holder: str | None = None) -> None:
    _extend(name, holder or HOLDER, clock.real_now())
    db.session.commit()


def heartbeat() -> None:
    """Renew the lease this thread's job holds, when a third of it has passed; commits, so call it
    only where the job has nothing uncommitted (between messages, between the scan's steps)."""
    held = getattr(_held, "lease", None)
    if held is None:
        return
    name, holder, renewed = held
    now, ttl = clock.real_now(), lease_ttl()
    if now - renewed < ttl / 3:
        return
    kept = _extend(name, holder, now + ttl)
    db.session.commit()
    _held.lease = (name, holder, now)
    if not kept:
        log.warning("job %s: the lease was taken over by another process (this one was too slow)", name)


def run_job(name: str, work: Callable[[], dict], record_idle: bool = True,
            day: dt.date | None = None) -> dict | None:
    """Run `work` under the lease `name` and log the run (with `day`, the day a daily job completed
    for); None when another process holds the lease."""
    if not acquire(name):
        log.info("job %s skipped: another process holds the lease", name)
        return None
    _held.lease = (name, HOLDER, clock.real_now())
    started = clock.now()
    try:
        result = work()
    except Exception as exc:
        db.session.rollback()
        log.exception("job %s failed", name)
        _log_run(name, started, False, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        _held.lease = None
        release(name)
    if record_idle or any(result.values()):
        _log_run(name, started, True, ", ".join(f"{k}={v}" for k, v in result.items()), day)
    return result


def _log_run(name: str, started: dt.datetime, ok: bool, summary: str, day: dt.date | None = None) -> None:
    db.session.add(JobRun(job=name, holder=HOLDER, started_at=started, finished_at=clock.now(), ok=ok,
                          summary=summary[:2000], day=day))
    db.session.commit()


def last_runs(limit: int = 20) -> list[JobRun]:
    return db.session.scalars(select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc())
                              .limit(limit)).all()


# -- the jobs --------------------------------------------------------------------------

def scan_job(today: dt.date | None = None) -> dict | None:
    """The daily deadline scan (reminders and escalations, and re-checks falling due)."""
    from tracker.inspection.jobs import remind_due_rechecks
    day = today or clock.today()

    def work() -> dict:
        found = reminders.scan(day)
        heartbeat()
        return {**found, **remind_due_rechecks(day)}
    return run_job("reminders", work, day=day)


def scan_completed(day: dt.date) -> bool:
    return db.session.scalar(select(JobRun.id).where(JobRun.job == "reminders", JobRun.ok.is_(True),
                                                     JobRun.day == day).limit(1)) is not None


def scan_if_due() -> dict | None:
    """Today's scan, when it is past SCAN_HOUR and no scan completed for today (every scheduler asks
    each minute: a scan whose holder died is retried by whichever scheduler is alive)."""
    local = clock.now().astimezone(clock.tz())
    if local.hour < current_app.config["SCAN_HOUR"] or scan_completed(local.date()):
        return None
    return scan_job(local.date())


def digest_job(today: dt.date | None = None) -> dict | None:
    """The weekly digest."""
    return run_job("digest", lambda: digests.send_digests(today))


def outbox_job() -> dict | None:
    """Send what the outbox holds (every minute, in batches, see outbox.drain); idle runs are not logged."""
    return run_job("outbox", lambda: outbox.drain(beat=heartbeat), record_idle=False)


def notices_job() -> dict | None:
    """Gather each person's event notices whose window is over into one queued message (every minute,
    before the outbox job); idle runs are not logged."""
    return run_job("notices", notices.gather, record_idle=False)


def evidence_sweep_job() -> dict | None:
    """Daily: delete stored bytes that failed uploads left and no evidence references."""
    from tracker.evidence.services import sweep

    def work() -> dict:
        removed = sweep()
        db.session.commit()
        return {"deleted": removed}
    return run_job("evidence-sweep", work, record_idle=False)


# -- the scheduler process -------------------------------------------------------------

def _in_app(app: Flask, job: Callable) -> Callable[[], None]:
    def run() -> None:
        with app.app_context():
            try:
                job()
            except Exception:  # logged by run_job; the scheduler keeps going
                pass
            finally:
                db.session.remove()
    return run


def build_scheduler(app: Flask, scheduler_class=None):
    """An APScheduler with its jobs, in TRACKER_TIMEZONE: every minute the notices' gathering, the outbox and the check for
    today's scan (run once past SCAN_HOUR), the weekly digest at its hour, the evidence sweep at night."""
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    cfg = app.config
    zone = cfg["TRACKER_TIMEZONE"]
    scheduler = (scheduler_class or BlockingScheduler)(timezone=zone)
    for name, job, trigger in (
            ("reminders", scan_if_due, IntervalTrigger(minutes=1, timezone=zone)),
            ("digest", digest_job, CronTrigger(day_of_week=cfg["DIGEST_DAY"], hour=cfg["DIGEST_HOUR"], minute=0,
                                               timezone=zone)),
            ("notices", notices_job, IntervalTrigger(minutes=1, timezone=zone)),
            ("outbox", outbox_job, IntervalTrigger(minutes=1, timezone=zone)),
            ("evidence-sweep", evidence_sweep_job, CronTrigger(hour=3, minute=30, timezone=zone))):
        scheduler.add_job(_in_app(app, job), trigger, id=name, name=name, coalesce=True, max_instances=1,
                          misfire_grace_time=3600)
    return scheduler


def catch_up() -> None:
    """At start-up: run today's scan and this week's digest if their time has passed (both idempotent),
    so a scheduler that was down at 07:00 or on Monday morning does not skip a day or a week."""
    cfg = current_app.config
    local = clock.now().astimezone(clock.tz())
    scan_if_due()
    weekday = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].index(cfg["DIGEST_DAY"][:3].lower())
    slot = (local - dt.timedelta(days=(local.weekday() - weekday) % 7)).replace(
        hour=cfg["DIGEST_HOUR"], minute=0, second=0, microsecond=0)
    if local >= slot and slot.isocalendar()[:2] == local.isocalendar()[:2]:
        digest_job(slot.date())
    notices_job()
    outbox_job()
