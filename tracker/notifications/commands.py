"""Operator commands: reminders scan, digest send, outbox flush/list/retry, and the scheduler."""
from __future__ import annotations

import datetime as dt
import logging
import signal

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from tracker import clock
from tracker.extensions import db
from tracker.notifications import jobs, outbox
from tracker.notifications.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

TODAY = click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
                     help="Pretend today is this date (YYYY-MM-DD); another day than today needs --commit.")
COMMIT = click.option("--commit", is_flag=True,
                      help="With --today on another day: keep what the run records and send its mail.")


def _pin(today: dt.datetime | None, commit: bool) -> dt.date | None:
    """--today pins the clock for the whole command (mail dates, de-duplication keys, ages). What a
    run records stays in the live database, dated that day (a 督办单 would say "last reminded" on a
    day still to come), and its mail goes to real people: another day than today needs --commit."""
    if today is None:
        return None
    day = today.date()
    if day != clock.real_today() and not commit:
        raise click.UsageError(
            f"--today {day} is not today ({clock.real_today()}): the reminders, journal entries, "
            "notifications and mail of this run would be dated that day and stay in the database. "
            "Add --commit to do it anyway.")
    clock.freeze(day)
    return day


def _report(name: str, result: dict | None) -> None:
    if result is None:
        raise click.ClickException(f"{name}: another process is running this job now; try again later.")
    click.echo(f"{name}: " + ", ".join(f"{k} {v}" for k, v in result.items()))


def _run_then_send(name: str, job, today, commit: bool) -> None:
    _report(name, job(_pin(today, commit)))
    _report("outbox", jobs.outbox_job() or {"sent": 0, "failed": 0})


@click.group("reminders")
def reminders_group():
    """Deadline reminders and escalations."""


@reminders_group.command("scan")
@TODAY
@COMMIT
@with_appcontext
def scan_command(today, commit):
    """Record today's reminders and queue their mails (safe to run twice), then send them."""
    _run_then_send("reminders", jobs.scan_job, today, commit)


@click.group("digest")
def digest_group():
    """The weekly digest."""


@digest_group.command("send")
@TODAY
@COMMIT
@with_appcontext
def digest_command(today, commit):
    """Queue this week's digests (safe to run twice), then send them."""
    _run_then_send("digest", jobs.digest_job, today, commit)


@click.group("outbox")
def outbox_group():
    """The mail outbox."""


@outbox_group.command("flush")
@with_appcontext
def flush_command():
    """Gather the event notices whose window is over, then send every message that is due now, at
    the relay's rate (MAIL_MAX_PER_MINUTE); SIGTERM: stop after the message being sent."""
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: outbox.stopping.set())
    try:
        _report("notices", jobs.notices_job() or {"notice_mails": 0})
        total = outbox.send_all()
    finally:
        signal.signal(signal.SIGTERM, previous)
    _report("outbox", total)


@outbox_group.command("list")
@click.option("--status", type=click.Choice([s.value for s in OutboxStatus]), default=None)
@click.option("--limit", default=50, show_default=True)
@with_appcontext
def list_command(status, limit):
    """Show the newest messages, optionally of one status."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == OutboxStatus(status))
    for m in db.session.scalars(query):
        sent = m.sent_at.isoformat(timespec="seconds") if m.sent_at else "-"
        to = m.to_address or (m.unit.name if m.unit is not None else "")   # a robot message: its unit
        click.echo(f"{m.id:>6}  {m.status.value:<8} {m.channel.value:<5} {m.attempts:>2}  {sent:<25} {to:<30} "
                   f"{m.subject[:60]}" + (f"\n        error: {m.last_error}" if m.last_error else ""))


@outbox_group.command("retry")
@click.argument("message_id", type=int)
@with_appcontext
def retry_command(message_id):
    """Queue a failed message again (with the recipient's current address)."""
    message = outbox.retry(None, message_id)
    if message is None:
        raise click.ClickException(f"No unsent message {message_id}.")
    click.echo(f"Message {message.id} is {message.status.value}"
               + (f": {message.last_error}" if message.status == OutboxStatus.FAILED else "."))


def _stop_gracefully(scheduler) -> None:
    """SIGTERM/SIGINT: let the job in progress finish (the outbox hands back what it has not sent
    yet), then stop. A second signal changes nothing; systemd's SIGKILL after its timeout would
    leave claimed rows, which are taken over after outbox.CLAIM_TIMEOUT."""
    def stop(signum, _frame):
        log.info("scheduler %s: signal %s, finishing the job in progress", jobs.HOLDER, signum)
        outbox.stopping.set()
        if scheduler.running:
            scheduler.shutdown(wait=True)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run the scheduler in the foreground: daily scan, weekly digest, outbox every minute."""
    from tracker.database import check_connection
    app = current_app._get_current_object()
    problem = check_connection(app.config["SQLALCHEMY_DATABASE_URI"])
    if problem:
        raise click.ClickException(problem)
    scheduler = jobs.build_scheduler(app)
    _stop_gracefully(scheduler)
    jobs.catch_up()
    db.session.remove()
    if not outbox.stopping.is_set():
        log.info("scheduler %s started (time zone %s)", jobs.HOLDER, app.config["TRACKER_TIMEZONE"])
        scheduler.start()
    log.info("scheduler %s stopped", jobs.HOLDER)


def register_commands(app) -> None:
    for command in (reminders_group, digest_group, outbox_group, scheduler_command):
        app.cli.add_command(command)
