"""Checking a sign-in and journaling every attempt: success, failure and throttling, with the address."""
from __future__ import annotations

import logging

from flask import request
from flask_limiter.util import get_remote_address
from sqlalchemy import select

from tracker import clock, journal, uow
from tracker.auth.models import User, check_password_of_nobody
from tracker.extensions import db
from tracker.journal import JournalEntry

log = logging.getLogger(__name__)
USERNAME_MAX = 64


def attempted_username() -> str:
    return (request.form.get("username") or "").strip()[:USERNAME_MAX]


def address_and_username() -> str:
    """Rate-limit key: a brute force on one account from one address does not lock out the owner
    signing in from elsewhere."""
    return f"login:{get_remote_address()}:{attempted_username().lower()}"


def _record_attempt(action: str, username: str, user: User | None) -> None:
    """A journal entry about an attempt that signed nobody in (the actor is unknown)."""
    db.session.add(JournalEntry(actor_id=None, object_type="users", object_id=user.id if user else 0,
                                action=action, changes={"address": [None, get_remote_address()]},
                                note=f"username: {username}", at=clock.now()))
    # Committed here, not by the view: the request ends refused (401, 429), and the attempt must stay on record.
    uow.commit()


def check_credentials(username: str, password: str) -> User | None:
    """The active user with this username and password; a failure is journaled (and committed)."""
    username = (username or "").strip()[:USERNAME_MAX]
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_of_nobody(password or "")  # the same work as for a real user: no timing hint
    if user is None or not user.check_password(password or "") or not user.active:
        log.info("failed sign-in for %r from %s", username, get_remote_address())
        _record_attempt("sign_in_failed", username, user)
        return None
    return user


def record_success(user: User) -> None:
    """Journal a sign-in (the caller commits)."""
    journal.record(user, "sign_in", user, {"address": [None, get_remote_address()]})


def record_throttled(_limit) -> None:
    """Flask-Limiter's on_breach: journal the refused attempt; the 429 page follows."""
    username = attempted_username()
    log.warning("sign-in throttled for %r from %s", username, get_remote_address())
    user = db.session.scalar(select(User).where(User.username == username))
    _record_attempt("sign_in_throttled", username, user)
