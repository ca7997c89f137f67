"""Server-side sign-in sessions: the cookie holds a random token whose hash is a LoginSession row.

Signing out deletes the row, so a cookie copied before sign-out is worthless afterwards
(Flask's signed-cookie session alone cannot revoke anything).
"""
from __future__ import annotations

import hashlib
import secrets

from flask import current_app, session
from flask_login import login_user, logout_user
from sqlalchemy import delete
from sqlalchemy.orm import joinedload

from tracker import clock
from tracker.auth.models import LoginSession, User
from tracker.extensions import db, login_manager

SESSION_KEY = "sid"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User) -> None:
    """Sign `user` in with a fresh server-side session (the caller commits)."""
    session.clear()  # a new session id on sign-in: no session fixation
    purge_expired()
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(id=_digest(token), user_id=user.id, created_at=clock.now()))
    login_user(user)
    session.permanent = True  # the cookie expires after PERMANENT_SESSION_LIFETIME, as the row does
    session[SESSION_KEY] = token


def purge_expired() -> None:
    """Delete every session past its lifetime. Run at each sign-in, it keeps the table as small as
    the number of people signed in during one lifetime."""
    cutoff = clock.now() - current_app.permanent_session_lifetime
    db.session.execute(delete(LoginSession).where(LoginSession.created_at < cutoff))


def end_session() -> None:
    """Sign out: delete the server-side row, then the client's cookie contents (the caller commits)."""
    token = session.get(SESSION_KEY)
    if token:
        db.session.query(LoginSession).filter_by(id=_digest(token)).delete()
    logout_user()
    session.clear()


def end_all_sessions(user: User) -> None:
    db.session.query(LoginSession).filter_by(user_id=user.id).delete()


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    token = session.get(SESSION_KEY)
    if not token or not user_id.isdigit():
        return None
    # The user comes in the same statement: this runs before every signed-in request.
    row = db.session.get(LoginSession, _digest(token), options=[joinedload(LoginSession.user, innerjoin=True)])
    if row is None or row.user_id != int(user_id):
        return None
    if clock.now() - row.created_at > current_app.permanent_session_lifetime:
        return None  # expired: the row goes at the next sign-in of anyone (purge_expired)
    user = row.user
    return user if user.active else None
