"""The traffic light (红黄绿灯) and overdue rule, computed in one place for Python and SQL.

red    = handed out, open and the deadline has passed (overdue);
yellow = open and due within the warning window, or progress lagging the elapsed
         time by more than the tolerance, or no activity for STALE_DAYS;
green  = any other open item; drafts (not handed out yet), closed and cancelled items have no light.
"""
from __future__ import annotations

import datetime as dt
import enum
import math

from flask import current_app
from tracker.i18n import lazy_gettext as _l
from sqlalchemy import and_, case, literal, or_

from tracker.items.models import LIVE_STATUSES, Item


class Light(enum.StrEnum):
    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"
    NONE = "none"


LIGHT_LABELS = {Light.RED: _l("Overdue"), Light.YELLOW: _l("Attention"),
                Light.GREEN: _l("On track"), Light.NONE: _l("No light")}


def light_settings() -> tuple[int, int, int]:
    cfg = current_app.config
    return cfg["WARNING_DAYS"], cfg["PROGRESS_TOLERANCE"], cfg["STALE_DAYS"]


def behind_on(start_on: dt.date | None, deadline: dt.date, percent: int) -> dt.date | None:
    """First day on which `percent` lags the elapsed share of [start_on, deadline] beyond tolerance."""
    if start_on is None or percent >= 100:
        return None
    span = (deadline - start_on).days
    if span <= 0:
        return None
    tolerance = light_settings()[1]
    allowed_days = math.floor((percent + tolerance) * span / 100)
    return start_on + dt.timedelta(days=allowed_days + 1)


def refresh_schedule(item: Item) -> None:
    """Recompute the stored schedule columns after a change of progress, start or deadline."""
    item.behind_on = behind_on(item.start_on, item.deadline, item.progress_percent)


def is_overdue(item: Item, today: dt.date) -> bool:
    return item.status in LIVE_STATUSES and item.deadline < today


def light_of(item: Item, today: dt.date) -> Light:
    if item.status not in LIVE_STATUSES:
        return Light.NONE
    if item.deadline < today:
        return Light.RED
    warning, _tolerance, stale = light_settings()
    if (item.deadline <= today + dt.timedelta(days=warning)
            or (item.behind_on is not None and item.behind_on <= today)
            or item.last_activity_on <= today - dt.timedelta(days=stale)):
        return Light.YELLOW
    return Light.GREEN


def _yellow_clause(today: dt.date):
    warning, _tolerance, stale = light_settings()
    return or_(Item.deadline <= today + dt.timedelta(days=warning),
               and_(Item.behind_on.is_not(None), Item.behind_on <= today),
               Item.last_activity_on <= today - dt.timedelta(days=stale))


def overdue_clause(today: dt.date):
    return and_(Item.status.in_(LIVE_STATUSES), Item.deadline < today)


def light_clause(light: Light, today: dt.date):
    """SQL condition selecting the items that show `light` today (same rule as light_of)."""
    is_open = Item.status.in_(LIVE_STATUSES)
    if light == Light.RED:
        return overdue_clause(today)
    if light == Light.YELLOW:
        return and_(is_open, Item.deadline >= today, _yellow_clause(today))
    if light == Light.GREEN:
        return and_(is_open, Item.deadline >= today, ~_yellow_clause(today))
    return ~is_open


def light_order(today: dt.date):
    """A sortable SQL expression: red 0, yellow 1, green 2, none 3."""
    return case((overdue_clause(today), literal(0)),
                (light_clause(Light.YELLOW, today), literal(1)),
                (light_clause(Light.GREEN, today), literal(2)), else_=literal(3))
