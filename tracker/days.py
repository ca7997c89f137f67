"""Calendar days in SQL, so that counts by day (closed by the deadline, days overdue, the week of)
are integer sums the database does, on SQLite and PostgreSQL alike.

A day is its number `date.toordinal()`. A stored moment (UTC) is counted on the local date of
`clock.tz()`: PostgreSQL converts it with its own time-zone data. SQLite has none: in a zone that
keeps one offset from 2000 on (China's, UTC) it adds that offset; elsewhere it calls
`rectify_local_day`, a Python function installed on each connection, many times slower.
"""
from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, Select, String, cast, func, literal, select

from tracker import clock, database
from tracker.extensions import db

SQL_FUNCTION = "rectify_local_day"
_JULIAN_DAY_OF_ORDINAL_ZERO = 1721424.5   # SQLite's julianday('0001-01-01') is 1721425.5: ordinal 1
_FIRST_DAY = dt.date(1, 1, 1)


def local_day(moment) -> object:
    """SQL: the day number of the local date of `moment` (a UTC timestamp column or expression)."""
    zone = clock.tz().key
    if db.engine.dialect.name == "postgresql":
        return cast(func.timezone(cast(literal(zone), String), moment), Date) - literal(_FIRST_DAY, Date) + 1
    offset = fixed_offset(zone)
    if offset is not None:
        return cast(func.julianday(moment, f"{offset:+d} seconds") - _JULIAN_DAY_OF_ORDINAL_ZERO, Integer)
    return getattr(func, SQL_FUNCTION)(moment, zone, type_=Integer)


def day_number(day) -> object:
    """SQL: the day number of a date column or expression."""
    if db.engine.dialect.name == "postgresql":
        return day - literal(_FIRST_DAY, Date) + 1
    return cast(func.julianday(day) - _JULIAN_DAY_OF_ORDINAL_ZERO, Integer)


@functools.lru_cache(maxsize=8)
def fixed_offset(zone_name: str) -> int | None:
    """The zone's offset from UTC in seconds when it is the same every four weeks from 2000 to 2100
    (no clock change has lasted less than four weeks, so none falls between two samples)."""
    zone = ZoneInfo(zone_name)
    start = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    offsets = {(start + dt.timedelta(weeks=4 * n)).astimezone(zone).utcoffset() for n in range(100 * 14)}
    return int(offsets.pop().total_seconds()) if len(offsets) == 1 else None


def counted(*columns, where=(), first=()) -> Select:
    """(`first`..., columns..., how many) of the rows `where` holds, grouped by the columns. They
    are labelled in a subquery first: PostgreSQL would not take an expression with parameters in
    SELECT and in GROUP BY as the same one."""
    chosen = select(*(c.label(f"c{n}") for n, c in enumerate(columns))).where(*where).subquery()
    return select(*first, *chosen.c, func.count()).group_by(*chosen.c)


def local_day_of(stored: str | None, zone_name: str) -> int | None:
    """`rectify_local_day` on SQLite: the local day number of a stored UTC moment (text)."""
    if stored is None:
        return None
    whole_hour = _day_of_hour(stored[:13], zone_name)
    if whole_hour is not None:
        return whole_hour
    moment = dt.datetime.fromisoformat(stored).replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(ZoneInfo(zone_name)).date().toordinal()


@functools.lru_cache(maxsize=65536)
def _day_of_hour(hour: str, zone_name: str) -> int | None:
    """The local day of every moment of a UTC hour ("YYYY-MM-DD HH"), or None when the hour is not
    one local day with one offset (a zone whose offset is not whole hours, a clock change)."""
    try:
        start = dt.datetime.fromisoformat(hour + ":00").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return None
    zone = ZoneInfo(zone_name)
    first, last = start.astimezone(zone), (start + dt.timedelta(hours=1, microseconds=-1)).astimezone(zone)
    if first.date() != last.date() or first.utcoffset() != last.utcoffset():
        return None
    return first.date().toordinal()


database.sqlite_function(SQL_FUNCTION, 2, local_day_of)
