"""gettext for pages and mails, with the translations looked up once per request or mail.

Flask-Babel's own gettext resolves the locale, the domain and its translations cache on every
call; a ledger page makes a few hundred calls and a digest run a million. So the translations in
use are kept in a context variable: found at a request's first call (the locale the request
selects; a request that translates nothing, such as a static file, selects none) and set inside
`in_language` (a mail in its recipient's language); elsewhere (the CLI, a bare test context) each
call asks Flask-Babel. Within a request, switch languages with `in_language`, not
with Flask-Babel's `force_locale` alone, which these would not see.
"""
from __future__ import annotations

import datetime as dt
import functools
from contextlib import contextmanager
from contextvars import ContextVar

import flask_babel
from babel import Locale
from flask_babel.speaklater import LazyString

_active: ContextVar = ContextVar("rectify_translations", default=None)
_NOT_YET = object()  # in a request that has not translated anything yet


@functools.lru_cache(maxsize=32)
def parsed(code: str) -> Locale:
    """The Locale for a code, parsed once per process: Babel scans its whole locale list per parse."""
    return Locale.parse(code)


def translations():
    found = _active.get()
    if found is None:
        return flask_babel.get_translations()
    if found is _NOT_YET:
        found = flask_babel.get_translations()
        _active.set(found)
    return found


@contextmanager
def in_language(code: str):
    """Words, dates and numbers in `code` inside the block (Flask-Babel's force_locale, seen here too)."""
    with flask_babel.force_locale(code):
        token = _active.set(flask_babel.get_translations())
        try:
            yield
        finally:
            _active.reset(token)


def _request_started() -> None:
    _active.set(_NOT_YET)


def _request_ended(_exc) -> None:
    _active.set(None)


def gettext(string: str, **variables) -> str:
    text = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def lazy_gettext(string: str, **variables) -> LazyString:
    return LazyString(gettext, string, **variables)


# Numeric patterns read the same in every locale: strftime gives them without Babel's pattern parser
# (a page of progress updates, files and journal entries formats a few hundred moments).
_NUMERIC = {"yyyy-MM-dd HH:mm": "%Y-%m-%d %H:%M", "yyyy-MM-dd HH:mm:ss": "%Y-%m-%d %H:%M:%S",
            "yyyy-MM-dd": "%Y-%m-%d"}


def format_moment(value: dt.datetime | None, format: str | None = None) -> str:
    """Flask-Babel's `datetimeformat` filter, in the tracker's time zone; numeric patterns fast."""
    from tracker import clock
    pattern = _NUMERIC.get(format)
    if value is None or pattern is None:
        return flask_babel.format_datetime(value, format)
    if value.tzinfo is None:  # SQLite hands back naive values; they are UTC
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(clock.tz()).strftime(pattern)


def format_size(size: int | None) -> str:
    """A file size for people: "820 字节" / "820 bytes" below a kilobyte, else "1.5 KB", "12.3 MB"
    (Jinja's filesizeformat says "Bytes" in every language)."""
    if size is None:
        return ""
    if size < 1000:
        return ngettext("%(num)d byte", "%(num)d bytes", size)
    for unit in ("KB", "MB", "GB"):
        size /= 1000
        if size < 1000 or unit == "GB":
            return f"{size:.1f} {unit}"
    return ""  # not reached


def install(app) -> None:
    """Use these in templates instead of Flask-Babel's per-call lookups."""
    app.before_request(_request_started)
    app.teardown_request(_request_ended)
    app.jinja_env.filters["datetimeformat"] = format_moment
    app.jinja_env.filters["filesizeformat"] = format_size
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n))
