"""The durable outbox: queue a message in the caller's transaction, send it after the commit.

A message goes on its channel (OutboxChannel): e-mail through SMTP (or the log file), a unit's
group robot or SMS over HTTP (channels.py decides who gets what; gateways.py talks to the
services and keeps the quiet hours and the robots' limits). All channels share the claiming,
marking, retries with backoff and the admin page; robot and SMS messages may also be *deferred*
(back to pending, later, no attempt counted): in the quiet hours, and when the robot had its
ROBOT_MAX_PER_MINUTE messages in the last minute: queued, never dropped.

Sending is at-least-once made exactly-once in practice: a sender first *claims* rows (pending ->
sending, committed), then talks SMTP, then marks each row sent in its own commit. Two senders never
claim the same row (PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED; SQLite: an UPDATE that only
succeeds while the row is still pending). If the process dies after the SMTP server accepted a
message but before the row was marked sent, the row stays `sending`; after CLAIM_TIMEOUT it is
claimed again and sent once more: at most one duplicate, never a loss. The Message-ID is derived
from the row, so mail clients fold such a duplicate into the original.

Stopping (SIGTERM to the scheduler, see commands.py) sets `stopping`: the sender finishes the
message it is handing to the SMTP server, marks it, and hands the rest of its claimed rows back
(pending, unclaimed) for the next sender, so a graceful stop loses nothing and sends nothing twice.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import smtplib
import socket
import threading
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import DBAPIError

from tracker import bulk, clock, journal
from tracker.auth.models import User
from tracker.extensions import db
from tracker.notifications import gateways
from tracker.notifications.gateways import DeliveryError
from tracker.notifications.models import OutboxChannel, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

CLAIM_TIMEOUT = dt.timedelta(minutes=15)
BATCH = 50
stopping = threading.Event()  # set when the process is asked to stop
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def one_line(text: str | None, limit: int = 200) -> str:
    """Text safe for a mail header: control characters (CR, LF, ...) become one space."""
    return _CONTROL.sub(" ", text or "").strip()[:limit]


def usable_address(address: str | None) -> str | None:
    """The normalised address, or None when it cannot receive mail."""
    if not address or _CONTROL.search(address):
        return None
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


@dataclass(frozen=True)
class Mail:
    """A message to queue: `recipient` needs id, name and email (a User or a plain row)."""
    recipient: object
    kind: str
    dedup_key: str
    subject: str
    body_text: str
    body_html: str


def row(channel: OutboxChannel, kind: str, key: str, subject: str, text: str, html: str = "", *,
        recipient=None, unit=None, address: str = "", name: str = "") -> dict:
    """An outbox row's columns, for queue_rows(). An e-mail is due at once; a robot or SMS message
    queued in the quiet hours is due when they end."""
    now = clock.now()
    wait = gateways.quiet_wait(now) if channel != OutboxChannel.EMAIL else None
    return {"dedup_key": key, "kind": kind, "channel": channel, "unit_id": unit.id if unit is not None else None,
            "recipient_id": recipient.id if recipient is not None else None, "to_address": address[:254],
            "to_name": one_line(name, 100), "subject": one_line(subject, 300), "body_text": text, "body_html": html,
            "status": OutboxStatus.PENDING, "attempts": 0, "created_at": now,
            "next_attempt_at": now + wait if wait is not None else now}


def _values(mail: Mail) -> dict:
    """The e-mail's row. A user without a usable address still gets a row, marked failed, so an
    administrator sees it on the outbox page, fixes the address and retries it."""
    user = mail.recipient
    values = row(OutboxChannel.EMAIL, mail.kind, mail.dedup_key, mail.subject, mail.body_text, mail.body_html,
                 recipient=user, address=user.email or "", name=user.name)
    if usable_address(user.email) is None:
        values.update(status=OutboxStatus.FAILED, last_error="no valid e-mail address")
    return values


def wants_mail(user) -> bool:
    """The user reads e-mail (not switched off on the profile; plain rows without the column do)."""
    return getattr(user, "email_enabled", True) is not False


def queue(user: User, kind: str, dedup_key: str, subject: str, body_text: str,
          body_html: str) -> OutboxMessage | None:
    """Add a message for `user` to the session (the caller commits); None when the key exists
    or the user switched e-mail off."""
    if not wants_mail(user):
        return None
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedup_key == dedup_key)):
        return None
    message = OutboxMessage(**_values(Mail(user, kind, dedup_key, subject, body_text, body_html)))
    db.session.add(message)
    db.session.flush()
    return message


def queue_many(mails: list[Mail]) -> dict[str, int]:
    """queue() for many messages in a few statements, whatever their number: the new rows' ids by
    key. A key that exists already (or repeats in `mails`) is skipped, as queue() skips it."""
    return queue_rows([_values(mail) for mail in mails if wants_mail(mail.recipient)])


def queue_rows(rows: list[dict]) -> dict[str, int]:
    """Insert outbox rows (column values, any channel) whose key is new: the new ids by key."""
    taken: set[str] = set()
    for chunk in bulk.in_chunks([values["dedup_key"] for values in rows]):
        taken.update(db.session.scalars(select(OutboxMessage.dedup_key).where(
            bulk.one_of([OutboxMessage.dedup_key], [(key,) for key in chunk]))))
    new = []
    for values in rows:
        if values["dedup_key"] not in taken:
            taken.add(values["dedup_key"])
            new.append(values)
    if not new:
        return {}
    return dict(bulk.insert_many(OutboxMessage.__table__, new, OutboxMessage.dedup_key, OutboxMessage.id))


def compose(message: OutboxMessage) -> EmailMessage:
    """The MIME message: plain text with an HTML alternative; headers stripped of line breaks."""
    cfg = current_app.config
    mail = EmailMessage()
    mail["Subject"] = one_line(message.subject, 300)
    mail["From"] = one_line(cfg["MAIL_DEFAULT_SENDER"])
    mail["To"] = formataddr((one_line(message.to_name, 100), one_line(message.to_address, 254)))
    mail["Date"] = formatdate(clock.now().timestamp(), usegmt=True)
    domain = one_line(cfg["MAIL_DEFAULT_SENDER"]).rpartition("@")[2] or "rectify.local"
    digest = hashlib.sha1(message.dedup_key.encode()).hexdigest()[:12]
    mail["Message-ID"] = f"<outbox-{message.id}.{digest}@{domain}>"
    mail["X-Rectify-Key"] = one_line(message.dedup_key)
    mail.set_content(message.body_text)
    mail.add_alternative(message.body_html, subtype="html")
    return mail


# -- claiming -------------------------------------------------------------------------

def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:100]


def _due_clause(now: dt.datetime):
    return or_((OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.next_attempt_at <= now),
               (OutboxMessage.status == OutboxStatus.SENDING) & (OutboxMessage.claimed_at < now - CLAIM_TIMEOUT))


def claim(worker: str, limit: int = BATCH) -> list[int]:
    """Claim up to `limit` due rows for `worker` and commit; no other sender gets them."""
    now = clock.now()
    candidates = select(OutboxMessage.id).where(_due_clause(now)).order_by(OutboxMessage.id).limit(limit)
    if db.engine.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    claimed = []
    for message_id in db.session.scalars(candidates).all():
        # The WHERE repeats the due test: on SQLite a concurrent sender may have claimed it since.
        result = db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id, _due_clause(now))
            .values(status=OutboxStatus.SENDING, claimed_by=worker, claimed_at=now)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            claimed.append(message_id)
    db.session.commit()  # the job's own: a claim is visible to other senders before any mail goes out
    return claimed


# -- sending ----------------------------------------------------------------------------

def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=min(2 ** (attempts - 1), 60))


MARK_TRIES = 3


def _still_claimed(worker: str, *conditions):
    """An UPDATE of the rows `worker` still holds (another sender may have taken one over)."""
    return (update(OutboxMessage).execution_options(synchronize_session=False)
            .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_by == worker, *conditions))


def _mark_sent(message: OutboxMessage, worker: str) -> None:
    """Mark the row sent (unless another sender took it over after a timeout: it owns it now).
    The relay has the message: when the database connection drops now, reconnect and mark again
    rather than give up (which would send it once more after CLAIM_TIMEOUT)."""
    message_id = message.id
    for attempt in range(1, MARK_TRIES + 1):
        try:
            db.session.execute(_still_claimed(worker, OutboxMessage.id == message_id).values(
                status=OutboxStatus.SENT, sent_at=clock.now(), last_error=None, attempts=OutboxMessage.attempts + 1))
            db.session.commit()
            return
        except DBAPIError as exc:
            db.session.rollback()   # a dropped connection is discarded; the next one is checked first
            if not exc.connection_invalidated or attempt == MARK_TRIES:
                raise
            log.warning("outbox %s: database connection lost while marking it sent; reconnecting", message_id)


def _release(messages: list[OutboxMessage], worker: str) -> None:
    """Hand claimed but unsent rows back to the queue, for another sender to take at once."""
    ids = [m.id for m in messages]
    if not ids:
        return
    db.session.execute(_still_claimed(worker, OutboxMessage.id.in_(ids)).values(
        status=OutboxStatus.PENDING, claimed_by=None, claimed_at=None))
    db.session.commit()
    # (committed at once, as a job step: another sender may take them in the same minute)
    log.info("outbox: stopping or out of time; %s claimed messages handed back unsent", len(ids))


def _mark_failed(message: OutboxMessage, error: str) -> None:
    message.attempts += 1
    message.last_error = one_line(error, 1000)
    message.claimed_by = message.claimed_at = None
    if message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        message.status = OutboxStatus.FAILED
    else:
        message.status = OutboxStatus.PENDING
        message.next_attempt_at = clock.now() + _backoff(message.attempts)
    db.session.commit()  # the job's own, per message: a failure is counted even if the next one crashes
    log.warning("outbox %s not sent (attempt %s): %s", message.id, message.attempts, error)


def _defer(message: OutboxMessage, wait: dt.timedelta, why: str) -> None:
    """Put the message back for later without counting an attempt (quiet hours, a robot's limit)."""
    message.status = OutboxStatus.PENDING
    message.next_attempt_at = clock.now() + wait
    message.claimed_by = message.claimed_at = None
    db.session.commit()  # the job's own, per message, like a failure
    log.info("outbox %s deferred by %s: %s", message.id, wait, why)


def _deliver_by_http(message: OutboxMessage) -> str:
    """Send a robot or SMS message now: "sent", "failed" or "deferred" (the row is marked)."""
    quiet = gateways.quiet_wait(clock.now())
    if quiet is not None:
        _defer(message, quiet, "quiet hours")
        return "deferred"
    try:
        if message.channel == OutboxChannel.ROBOT:
            unit = message.unit
            if unit is None or not unit.has_robot:
                raise DeliveryError("the unit has no group robot any more")
            wait = gateways.take_robot_slot(unit.robot_webhook)
            if wait is not None:
                _defer(message, wait, f"robot limit of {current_app.config['ROBOT_MAX_PER_MINUTE']} a minute")
                return "deferred"
            gateways.post_robot(unit.robot_kind, unit.robot_webhook, unit.robot_secret, message.subject,
                                message.body_text)
        else:
            gateways.send_sms(message.to_address, message.body_text)
    except DeliveryError as exc:
        _mark_failed(message, str(exc))
        return "failed"
    return "sent"


class _LogTransport:
    """No MAIL_SERVER: append each message's text to a log file (the single-machine default), and
    keep it whole (HTML and text) as one .eml file in MAIL_DIR, named by its outbox row, to open."""

    def __enter__(self):
        self.file = open(current_app.config["MAIL_LOG"], "a", encoding="utf-8")
        self.folder = Path(current_app.config["MAIL_DIR"])
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def send(self, mail: EmailMessage) -> None:
        headers = "".join(f"{name}: {value}\n" for name, value in mail.items())
        text = mail.get_body(("plain",)).get_content()
        self.file.write(f"{'=' * 72}\n{headers}\n{text}\n")
        self.file.flush()
        # outbox-<id>: a message sent again after a crash overwrites its own file.
        name = mail["Message-ID"].strip("<>").partition("@")[0].partition(".")[0]
        staged = self.folder / f".{name}.eml.tmp"
        staged.write_bytes(mail.as_bytes())
        os.replace(staged, self.folder / f"{name}.eml")

    def __exit__(self, *exc):
        self.file.close()


class _SMTPTransport:
    def __enter__(self):
        cfg = current_app.config
        self.smtp = smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"])
        try:
            if cfg["MAIL_USE_TLS"]:
                self.smtp.starttls()
            if cfg["MAIL_USERNAME"]:
                self.smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        except Exception:
            self.smtp.close()
            raise
        return self

    def send(self, mail: EmailMessage) -> None:
        self.smtp.send_message(mail)

    def __exit__(self, *exc):
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()


def _transport():
    return _SMTPTransport() if current_app.config["MAIL_SERVER"] else _LogTransport()


def flush(limit: int = BATCH, beat=None, until: dt.datetime | None = None) -> dict[str, int]:
    """Send one batch of what is due; returns counts of sent and failed messages. Safe to run
    concurrently. `beat` (the job's lease heartbeat) is called after each message; past `until`
    (real clock) the rows not sent yet are handed back, as when stopping."""
    worker = _worker_name()
    ids = claim(worker, limit)
    counts = {"sent": 0, "failed": 0}
    if not ids:
        return counts
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                  .order_by(OutboxMessage.id)).all()
    with ExitStack() as connection:
        mail = _MailConnection(connection)
        for index, message in enumerate(messages):
            if stopping.is_set() or (until is not None and clock.real_now() >= until):
                _release(messages[index:], worker)
                break
            if message.channel == OutboxChannel.EMAIL:
                outcome = mail.send(message)
            else:
                outcome = _deliver_by_http(message)
            if outcome == "sent":
                _mark_sent(message, worker)
            if outcome in counts:
                counts[outcome] += 1
            if beat is not None:
                beat()
    return counts


class _MailConnection:
    """The batch's SMTP connection, opened at its first e-mail: a batch of robot and SMS messages
    needs no mail server, and a mail server that is down fails only the batch's e-mails."""

    def __init__(self, stack: ExitStack):
        self.stack = stack   # closes the connection at the end of the batch
        self.transport = None
        self.down: str | None = None

    def send(self, message: OutboxMessage) -> str:
        if self.down is None and self.transport is None:
            try:
                self.transport = self.stack.enter_context(_transport())
            except (OSError, smtplib.SMTPException) as exc:  # server down: everyone waits for the next try
                self.down = f"cannot reach the mail server: {exc}"
        if self.down is not None:
            _mark_failed(message, self.down)
            return "failed"
        try:
            self.transport.send(compose(message))
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            _mark_failed(message, str(exc))
            return "failed"
        return "sent"


def drain(beat=None) -> dict[str, int]:
    """The scheduler's sender: batch after batch until nothing is due, the time budget
    (OUTBOX_TIME_BUDGET seconds, real clock) is up or MAIL_MAX_PER_MINUTE messages were handed to
    the relay (0: no limit; the job runs each minute, so this is the rate per scheduler). A batch
    that sends nothing (the relay is down) ends the run: the rest waits for the next minute."""
    cfg = current_app.config
    until = clock.real_now() + dt.timedelta(seconds=max(cfg["OUTBOX_TIME_BUDGET"], 1))
    cap = max(cfg["MAIL_MAX_PER_MINUTE"], 0)
    total = {"sent": 0, "failed": 0}
    while not stopping.is_set() and clock.real_now() < until:
        limit = min(BATCH, cap - total["sent"] - total["failed"]) if cap else BATCH
        if limit <= 0:
            break
        result = flush(limit, beat=beat, until=until)
        total = {k: total[k] + result[k] for k in total}
        if not result["sent"]:
            break
    return total


def send_all(wait: Callable[[float], object] | None = None) -> dict[str, int]:
    """Everything due now, for `outbox flush`: drain after drain, each at most MAIL_MAX_PER_MINUTE
    messages, waiting out the rest of the minute between them (`wait(seconds)`, SIGTERM ends it)."""
    wait = wait or stopping.wait
    cap = max(current_app.config["MAIL_MAX_PER_MINUTE"], 0)
    total = {"sent": 0, "failed": 0}
    while not stopping.is_set():
        started = clock.real_now()
        result = drain()
        total = {k: total[k] + result[k] for k in total}
        if cap and sum(result.values()) >= cap:
            wait(max(0.0, 60 - (clock.real_now() - started).total_seconds()))
        elif not result["sent"]:
            break  # nothing was due any more, or the relay is down: the scheduler goes on later
    return total


def retry(actor: User | None, message_id: int) -> OutboxMessage | None:
    """Put a failed (or stuck) message back in the queue, with the recipient's current address."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status == OutboxStatus.SENT:
        return None
    before = (message.status.value, message.to_address)
    problem = None
    if message.channel == OutboxChannel.EMAIL:
        if message.recipient is not None:
            message.to_address = (message.recipient.email or "")[:254]
        if usable_address(message.to_address) is None:
            problem = "no valid e-mail address"
    elif message.channel == OutboxChannel.SMS:
        if message.recipient is not None:
            message.to_address = message.recipient.mobile or ""
        if not message.to_address:
            problem = "no mobile number"
    elif message.unit is None or not message.unit.has_robot:
        problem = "the unit has no group robot any more"
    if problem is not None:
        message.status, message.last_error = OutboxStatus.FAILED, problem
    else:
        message.status, message.attempts, message.next_attempt_at = OutboxStatus.PENDING, 0, clock.now()
        message.claimed_by = message.claimed_at = None
    journal.record(actor, "retry", message, {"status": [before[0], message.status.value],
                                             "to_address": [before[1], message.to_address]})
    db.session.flush()  # the page commits
    return message

