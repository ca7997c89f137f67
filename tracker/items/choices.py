"""The ledger's long filter lists (units, owners) as ready-made <option> markup.

A province has thousands of units and people. Loading them as ORM objects and looping over them
in Jinja took most of the ledger page's time, so plain (id, name) rows are escaped and joined here;
the markup is the same the template loop wrote.
"""
from __future__ import annotations

from markupsafe import Markup, escape
from sqlalchemy import select

from tracker.auth.models import UNIT_ROLES, User
from tracker.extensions import db
from tracker.units.models import Unit


def _options(rows, selected: int | None) -> Markup:
    return Markup("".join(f'<option value="{row_id}" {"selected" if row_id == selected else ""}>{escape(name)}</option>'
                          for row_id, name in rows))


def unit_options(selected: int | None) -> Markup:
    """Every unit by name, `selected` marked."""
    return _options(db.session.execute(select(Unit.id, Unit.name).order_by(Unit.name)), selected)


def owner_options(selected: int | None) -> Markup:
    """Everyone who can own an item (heads and staff) by name, `selected` marked."""
    return _options(db.session.execute(select(User.id, User.name).where(User.role.in_(UNIT_ROLES))
                                       .order_by(User.name)), selected)
