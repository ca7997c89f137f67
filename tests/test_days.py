"""tracker/days.py: the day numbers the statistics count with, on the database the suite runs on
(SQLite by default, PostgreSQL in CI's second pass), and SQLite's local-day function in every
kind of zone."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Date, literal, select

from tracker import days
from tracker.columns import UTCDateTime

UTC = dt.timezone.utc


def _stored(moment: dt.datetime) -> str:
    """A moment as SQLite holds a UTC timestamp."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


@pytest.mark.parametrize("moment, local", [
    (dt.datetime(2026, 3, 15, 15, 59, 59, tzinfo=UTC), dt.date(2026, 3, 15)),   # 23:59:59 in 北京
    (dt.datetime(2026, 3, 15, 16, 0, 0, tzinfo=UTC), dt.date(2026, 3, 16)),     # midnight in 北京
    (dt.datetime(2026, 12, 31, 23, 30, tzinfo=UTC), dt.date(2027, 1, 1)),
    (dt.datetime(2024, 2, 28, 16, 0, 1, tzinfo=UTC), dt.date(2024, 2, 29)),
])
def test_a_stored_moment_counts_on_its_local_date_in_the_database(app, db, moment, local):
    shown = db.session.scalar(select(days.local_day(literal(moment, UTCDateTime))))
    assert dt.date.fromordinal(int(shown)) == local


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "Asia/Shanghai"])
def test_in_any_zone_the_database_counts_a_moment_on_its_local_date(app, db, monkeypatch, zone):
    """New York changes its clocks (SQLite converts each moment with zoneinfo), Kolkata and 北京 keep
    one offset (SQLite adds it): a second before and at local midnight, on both sides of a change."""
    monkeypatch.setitem(app.config, "TRACKER_TIMEZONE", zone)
    tz = ZoneInfo(zone)
    for day in (dt.date(2026, 3, 8), dt.date(2026, 3, 9), dt.date(2026, 11, 1), dt.date(2026, 11, 2)):
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=tz)
        for moment, local in ((midnight - dt.timedelta(seconds=1), day - dt.timedelta(days=1)), (midnight, day)):
            shown = db.session.scalar(select(days.local_day(literal(moment.astimezone(UTC), UTCDateTime))))
            assert dt.date.fromordinal(int(shown)) == local, (zone, moment)


def test_a_moment_of_nothing_is_no_day(app, db):
    assert db.session.scalar(select(days.local_day(literal(None, UTCDateTime)))) is None


@pytest.mark.parametrize("day", [dt.date(1, 1, 1), dt.date(2026, 3, 1), dt.date(2024, 2, 29), dt.date(2099, 12, 31)])
def test_a_date_has_the_number_python_gives_it(app, db, day):
    assert int(db.session.scalar(select(days.day_number(literal(day, Date))))) == day.toordinal()


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Asia/Kolkata", "America/New_York", "Australia/Lord_Howe",
                                  "Asia/Kathmandu", "UTC"])
def test_sqlite_s_local_day_agrees_with_zoneinfo_through_clock_changes(zone):
    """Every 7 minutes over days with a clock change, a half-hour offset or a 45-minute one: the
    hour kept per UTC hour never gives another day than converting the moment itself."""
    tz = ZoneInfo(zone)
    for start in (dt.datetime(2026, 3, 7, tzinfo=UTC), dt.datetime(2026, 4, 3, tzinfo=UTC),
                  dt.datetime(2026, 10, 2, tzinfo=UTC), dt.datetime(2026, 10, 31, tzinfo=UTC)):
        for step in range(0, 3 * 24 * 60, 7):
            moment = start + dt.timedelta(minutes=step, seconds=13)
            assert days.local_day_of(_stored(moment), zone) == moment.astimezone(tz).date().toordinal(), moment


def test_sqlite_s_local_day_reads_a_moment_without_microseconds():
    assert days.local_day_of("2026-03-15 16:00:00", "Asia/Shanghai") == dt.date(2026, 3, 16).toordinal()
    assert days.local_day_of(None, "Asia/Shanghai") is None
