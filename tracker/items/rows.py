"""The rows of the ledger's tables (the ledger and "my items"), read as plain values.

A row is a tuple of exactly what it shows, read by one statement; the templates render it
(the `ledger_row` macro of _macros.html).
"""
from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import ARRAY, Integer, Select, any_, bindparam, select

from tracker.auth.models import User
from tracker.evaluations.models import Evaluation, Finding
from tracker.extensions import db
from tracker.items.models import Item, ItemKind, Status, item_cooperating_units
from tracker.units.models import Unit


def among(column, ids: list[int]):
    """`column IN ids` for a page's ids. On PostgreSQL as `= ANY(array)`: one parameter, where an
    IN list of 25 parameters is a new statement text for every page length and psycopg prepares
    each value separately."""
    if db.engine.dialect.name == "postgresql":
        return column == any_(bindparam("ids", list(ids), type_=ARRAY(Integer)))
    return column.in_(ids)


class LedgerRow(NamedTuple):
    """What a row of the ledger's table shows, as plain values (see `plain_rows`)."""

    id: int
    title: str
    listed_supervision: bool
    kind: ItemKind
    status: Status
    deadline: dt.date
    original_deadline: dt.date
    progress_percent: int
    behind_on: dt.date | None  # with status, deadline and last activity: the traffic light
    last_activity_on: dt.date
    year: int
    lead_unit: str
    owner: str | None
    return_reason: str | None  # shown on a returned item: what the unit must do again
    cooperating_units: tuple[str, ...]


def plain_rows(ids: list[int]) -> list[LedgerRow]:
    """The rows of `ids` in that order, read as plain columns: building 25 items with their units,
    owner, finding and evaluation as ORM objects cost more than all of the page's SQL."""
    if not ids:
        return []
    cooperating: dict[int, list[str]] = {}
    for item_id, name in db.session.execute(cooperating_names(ids)):
        cooperating.setdefault(item_id, []).append(name)
    stmt = (select(Item.id, Item.title, Item.listed_supervision, Item.kind, Item.status, Item.deadline,
                   Item.original_deadline, Item.progress_percent, Item.behind_on, Item.last_activity_on,
                   name_of(Evaluation.year, Finding.evaluation_id == Evaluation.id, Finding.id == Item.finding_id),
                   name_of(Unit.name, Unit.id == Item.lead_unit_id), name_of(User.name, User.id == Item.owner_id),
                   Item.return_reason)
            .where(among(Item.id, ids)))
    rows = {row[0]: LedgerRow(*row, tuple(cooperating.get(row[0], ()))) for row in db.session.execute(stmt)}
    return [rows[item_id] for item_id in ids if item_id in rows]


def name_of(column, *conditions):
    """A value looked up by key for each of a page's rows, as a scalar subquery. A join of the
    items with units, users, findings and evaluations costs PostgreSQL more to plan than to run
    and hashes every unit, for 25 rows; 25 index lookups take a fraction of that (SQLite likewise)."""
    return select(column).where(*conditions).scalar_subquery()


def cooperating_names(ids: list[int]) -> Select:
    """(item id, unit name) of the cooperating units of `ids`, by name."""
    name = name_of(Unit.name, Unit.id == item_cooperating_units.c.unit_id)
    return select(item_cooperating_units.c.item_id, name).where(
        among(item_cooperating_units.c.item_id, ids)).order_by(name)
