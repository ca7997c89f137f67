"""What a person typed into a form that could not be taken because their sign-in had ended (it
expired, or they signed out in another tab): kept on the server, shown again after signing in, and
sent again with one click. Nothing is lost to "请求无效 (400)".

Only posts from this site's own pages are kept (their Origin or Referer is this site): a form on
another site cannot plant text to be sent later in someone's name. Files and passwords are not
kept; a progress post keeps its submission key, so sending it twice posts it once.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import Integer, String, Text, delete
from sqlalchemy.orm import Mapped, mapped_column

from tracker import clock
from tracker.columns import UTCDateTime
from tracker.extensions import db

COOKIE = "kept_post"
KEPT_FOR = dt.timedelta(days=1)
MAX_CHARS = 100_000
SKIPPED = ("csrf_token",)

bp = Blueprint("kept", __name__)


class KeptPost(db.Model):
    __tablename__ = "kept_posts"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))        # where the form posted
    back_to: Mapped[str] = mapped_column(String(500))    # the page the form was on
    fields: Mapped[str] = mapped_column(Text)            # [[name, value], ...] as JSON
    user_id: Mapped[int | None] = mapped_column(Integer)  # who was signed in, when known
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)


def _own_page(value: str | None) -> str | None:
    """The path of `value` when it is a page of this site, else None."""
    if not value:
        return None
    parts, ours = urlsplit(value), urlsplit(request.host_url)
    if (parts.scheme, parts.netloc) != (ours.scheme, ours.netloc):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def from_this_site() -> bool:
    origin = request.headers.get("Origin")
    if origin:
        return _own_page(origin + "/") is not None
    return _own_page(request.referrer) is not None


def keep(response):
    """Keep the form being refused (a POST of this site's own page) and mark the browser with it;
    returns `response`. Anything else is left as it was."""
    if request.method != "POST" or request.path.startswith("/api/") or not from_this_site():
        return response
    fields = [[name, value] for name, value in request.form.items(multi=True)
              if name not in SKIPPED and "password" not in name]
    if not fields or sum(len(v) for _n, v in fields) > MAX_CHARS:
        return response
    db.session.execute(delete(KeptPost).where(KeptPost.created_at < clock.now() - KEPT_FOR))
    token = secrets.token_urlsafe(24)
    back_to = _own_page(request.referrer) or request.path
    db.session.add(KeptPost(token=token, url=request.path, back_to=back_to[:500],
                            fields=json.dumps(fields, ensure_ascii=False),
                            user_id=current_user.get_id() if current_user.is_authenticated else None))
    db.session.commit()
    response.set_cookie(COOKIE, token, max_age=int(KEPT_FOR.total_seconds()), httponly=True, samesite="Lax",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


def back_to() -> str | None:
    """The page whose form was kept, for the sign-in to return to."""
    post = _kept()
    return post.back_to if post is not None else None


def _kept() -> KeptPost | None:
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 64:
        return None
    post = db.session.get(KeptPost, token)
    if post is None or clock.now() - post.created_at > KEPT_FOR:
        return None
    if post.user_id is not None and str(post.user_id) != current_user.get_id():
        return None  # kept for someone else who used this browser
    return post


def shown() -> dict | None:
    """What the page shows of a kept form for the signed-in user: where it went and what was typed."""
    if not current_user.is_authenticated:
        return None
    post = _kept()
    if post is None:
        return None
    fields = json.loads(post.fields)
    return {"token": post.token, "url": post.url, "fields": fields,
            "texts": [value for name, value in fields if value.strip() and name != "submission_key"]}


@bp.post("/kept/<token>/send")
@login_required
def send(token: str):
    """Send the kept form again: 307 repeats this POST (its fields and a fresh CSRF token) to the
    form's own address; the kept copy is dropped."""
    post = _kept()
    if post is None or post.token != token:
        abort(404)
    target = post.url
    db.session.delete(post)
    db.session.commit()
    response = redirect(target, code=307)
    response.delete_cookie(COOKIE)
    return response


@bp.post("/kept/<token>/discard")
@login_required
def discard(token: str):
    post = _kept()
    if post is not None and post.token == token:
        db.session.delete(post)
        db.session.commit()
    response = redirect(_own_page(request.referrer) or url_for("items.home"))
    response.delete_cookie(COOKIE)
    return response



def refused_form(signed_out: bool):
    """The answer to a form refused because the sign-in (or the form's CSRF token) ran out: the
    text is kept, and the person signs in again, or goes back to the form, to send it."""
    from flask import flash
    from flask_babel import gettext as _
    from flask_login import login_url
    place = _own_page(request.referrer) or url_for("items.home")
    if signed_out:
        flash(_("Your sign-in has ended. Sign in again: what you typed is kept and can be sent with one click."),
              "info")
        return keep(redirect(login_url("auth.login", next_url=place)))
    flash(_("This form had expired. What you typed is kept: check it and send it again."), "info")
    return keep(redirect(place))
