"""gettext for pages and mails, with the translations looked up once per locale and context.

Flask-Babel resolves the locale, the domain and its translations cache on every call (about 20 µs);
a ledger page makes a few hundred calls and a digest run a million. The translations are kept on
Flask-Babel's own per-context namespace next to the locale they belong to, so `force_locale` (mails
in the recipient's language) and `refresh` (a language switch) are seen: both replace the locale
object, and a different object means a new lookup.
"""
from __future__ import annotations

import datetime as dt
import functools

import flask_babel
from flask.globals import _cv_app
from babel import Locale
from flask_babel.speaklater import LazyString


@functools.lru_cache(maxsize=32)
def parsed(code: str) -> Locale:
    """The Locale for a code, parsed once per process: Babel scans its whole locale list per parse."""
    return Locale.parse(code)


def _babel_namespace():
    """Flask-Babel's per-context namespace (g._flask_babel), reached without three proxy lookups:
    a page asks for its translations a hundred times."""
    app_context = _cv_app.get(None)
    if app_context is None:
        return None
    found = app_context.g.__dict__.get("_flask_babel")
    return found if found is not None else flask_babel._get_current_context()  # noqa: SLF001


def translations():
    ctx = _babel_namespace()
    if ctx is None:
        return flask_babel.get_translations()
    locale = getattr(ctx, "babel_locale", None)
    hit = getattr(ctx, "rectify_translations", None)
    if locale is not None and hit is not None and hit[0] is locale:
        return hit[1]
    found = flask_babel.get_translations()
    ctx.rectify_translations = (getattr(ctx, "babel_locale", None), found)
    return found


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
    app.jinja_env.filters["datetimeformat"] = format_moment
    app.jinja_env.filters["filesizeformat"] = format_size
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n))
