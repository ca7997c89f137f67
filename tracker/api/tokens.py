"""Creating, listing, revoking and checking personal API tokens."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from tracker import clock, journal, uow
from tracker.api.models import NAME_MAX, ApiToken
from tracker.auth.models import User
from tracker.errors import Invalid, Refused
from tracker.extensions import db

PREFIX = "rct_"
MAX_TOKENS = 20  # active tokens per user


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked ones included, for the record)."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def create_token(user: User, name: str, expires_on: dt.date | None) -> tuple[ApiToken, str]:
    """A new token for `user`; returns it with the secret, which is shown once and never stored."""
    name = (name or "").strip()
    errors = {}
    if not name or len(name) > NAME_MAX:
        errors["name"] = _("Enter a name of at most %(n)d characters.", n=NAME_MAX)
    if expires_on is not None and expires_on <= clock.today():
        errors["expires_on"] = _("Choose a date after today, or leave it empty.")
    if errors:
        raise Invalid(errors)
    now = clock.now()
    active = [t for t in tokens_of(user) if t.is_usable(now)]
    if len(active) >= MAX_TOKENS:
        raise Refused(_("You already have %(n)d active tokens. Revoke one first.", n=MAX_TOKENS))
    secret = PREFIX + secrets.token_urlsafe(32)
    expires_at = None
    if expires_on is not None:  # valid through the chosen local day
        end = dt.datetime.combine(expires_on + dt.timedelta(days=1), dt.time(0, 0), tzinfo=clock.tz())
        expires_at = end.astimezone(dt.timezone.utc)
    token = ApiToken(user_id=user.id, name=name, token_hash=digest(secret), hint=secret[:8],
                     created_at=now, expires_at=expires_at)
    db.session.add(token)
    db.session.flush()
    journal.record(user, "create_token", token, {"name": [None, name], "expires_at": [
        None, journal.plain(expires_at)]})
    uow.flush()
    return token, secret


def revoke_token(user: User, token_id: int) -> ApiToken | None:
    """Revoke one of the user's own tokens; None when it is not theirs (the page answers 404)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        return None
    # Conditional, so that of two revocations at once (two tabs) exactly one is journaled.
    revoked = db.session.execute(update(ApiToken).where(ApiToken.id == token.id, ApiToken.revoked_at.is_(None))
                                 .values(revoked_at=clock.now()).execution_options(synchronize_session=False))
    db.session.refresh(token)
    if revoked.rowcount == 1:
        journal.record(user, "revoke_token", token, {"revoked": [False, True]}, note=token.name)
        uow.flush()
    return token


def revoke_all(actor: User | None, user: User) -> int:
    """Revoke every usable token of `user` (the caller commits): a password reset by someone else
    means the account may be in the wrong hands, and a token outlives any sign-in."""
    live = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))).all()
    for token in live:
        token.revoked_at = clock.now()
        journal.record(actor, "revoke_token", token, {"revoked": [False, True]}, note=token.name)
    return len(live)


def user_for_secret(secret: str) -> User | None:
    """The active user owning this usable token, else None. Marks the token as used."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    # The owner comes in the same statement: this runs before every API request.
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret))
                              .options(joinedload(ApiToken.user, innerjoin=True)))
    now = clock.now()
    if token is None or not token.is_usable(now):
        return None
    # Written at most once a minute per token, so that reads do not each cost a write.
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        token.last_used_at = now
        uow.commit()  # at once, before the request's own unit of work: a refused request still counts
    return token.user
