"""Who is calling the API: a personal token in `Authorization: Bearer`, never a session cookie."""
from __future__ import annotations

import hashlib

from flask import g, request
from flask_limiter.util import get_remote_address

from tracker.api import tokens
from tracker.auth.models import User


class Unauthenticated(Exception):
    """No token, or one that is unknown, revoked, expired or belongs to a deactivated user."""


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def authenticate() -> User:
    """The token's user for this request (cached on g), else raise Unauthenticated."""
    if "api_user" not in g:
        secret = bearer_secret()
        g.api_user = tokens.user_for_secret(secret) if secret else None
    if g.api_user is None:
        raise Unauthenticated()
    return g.api_user


def token_key() -> str:
    """Rate-limit key: the token (hashed) when one is sent, else the caller's address."""
    secret = bearer_secret()
    if secret:
        return "api-token:" + hashlib.sha256(secret.encode()).hexdigest()[:32]
    return "api-addr:" + (get_remote_address() or "")


def address_key() -> str:
    return "api-addr-all:" + (get_remote_address() or "")
