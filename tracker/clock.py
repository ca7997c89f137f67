"""The one clock of the application: tests and commands (--today) can set it.

`now()` is the pretend clock (--today pins it): it decides which reminders are due, mail dates,
ages. `real_now()` is always the wall clock, whatever --today says: scheduler leases compare with
it, because other processes (a running scheduler) live on the real clock. Tests may replace the
wall clock's source (set_real_source) to move it without sleeping.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

_frozen_now: dt.datetime | None = None
_real_source: Callable[[], dt.datetime] | None = None
# A whole process ahead of the system clock (CLOCK_OFFSET_SECONDS): lets a test start a second
# scheduler as if minutes had passed since the first one died, without waiting for them.
_offset = dt.timedelta(0)


def shift(seconds: int) -> None:
    global _offset
    _offset = dt.timedelta(seconds=seconds)


def tz() -> ZoneInfo:
    name = current_app.config["TRACKER_TIMEZONE"] if has_app_context() else "Asia/Shanghai"
    return ZoneInfo(name)


def now() -> dt.datetime:
    """Current time, timezone-aware UTC."""
    if _frozen_now is not None:
        return _frozen_now
    return dt.datetime.now(dt.timezone.utc) + _offset


def real_now() -> dt.datetime:
    """The wall clock, timezone-aware UTC, never pinned by --today (leases use it)."""
    if _real_source is not None:
        return _real_source()
    return dt.datetime.now(dt.timezone.utc) + _offset


def set_real_source(source: Callable[[], dt.datetime] | None) -> None:
    """Replace the wall clock's source (tests); None restores the system clock."""
    global _real_source
    _real_source = source


def today() -> dt.date:
    """Today's date in the deployment's time zone (deadlines are local dates)."""
    return now().astimezone(tz()).date()


def real_today() -> dt.date:
    """Today's local date on the wall clock, whatever --today says."""
    return real_now().astimezone(tz()).date()


def local_midnight(day: dt.date) -> dt.datetime:
    """The UTC moment at which local `day` begins (timestamps are stored in UTC)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=tz()).astimezone(dt.timezone.utc)


def freeze(moment: dt.datetime | dt.date | None) -> None:
    """Pin the clock (a date means local noon of that day); None releases it."""
    global _frozen_now
    if isinstance(moment, dt.date) and not isinstance(moment, dt.datetime):
        local = dt.datetime.combine(moment, dt.time(12, 0), tzinfo=tz())
        moment = local.astimezone(dt.timezone.utc)
    _frozen_now = moment


def local_date(moment: dt.datetime | None, zone: ZoneInfo | None = None) -> dt.date | None:
    """The local calendar date of a stored UTC timestamp (in `zone`, tz() when None: a loop over
    thousands of timestamps passes tz() once)."""
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back naive values; they are UTC
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(zone or tz()).date()
