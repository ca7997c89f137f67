"""The ledger's long filter lists (evaluations, units, owners) as plain (id, label) rows.

A province has thousands of units and people. Loading them as ORM objects took most of the ledger
page's time, so plain rows are read, and the unit list is cached per process under the units
catalogue's token (tracker/catalogue.py).
A 5,000-name owner list helps nobody: above OWNER_LIST_MAX people the owner list shows the chosen
unit's people (or, with no unit chosen, only the owner already filtered on).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from tracker import catalogue
from tracker.auth.models import UNIT_ROLES, User
from tracker.evaluations.models import Evaluation
from tracker.extensions import db
from tracker.units.models import Unit

OWNER_LIST_MAX = 300


Rows = list[tuple[int, str]]


@dataclass(frozen=True)
class FilterOptions:
    evaluations: Rows
    units: Rows
    owners: Rows
    owners_shortened: bool  # more people than OWNER_LIST_MAX: only the chosen unit's are listed


def filter_options(evaluation: int | None, unit: int | None, owner: int | None) -> FilterOptions:
    """The evaluation, unit and owner <option>s with the chosen ones marked.

    Evaluations: newest year first. Units: all, by name. Owners: everyone who can own an item
    while that is short, else the people of the chosen unit (or, with no unit chosen, only the
    owner already filtered on)."""
    current = catalogue.tokens()
    evaluations = catalogue.cached(catalogue.EVALUATIONS, ("options",), lambda: [
        (row_id, f"{year} · {title}") for row_id, year, title in db.session.execute(
            select(Evaluation.id, Evaluation.year, Evaluation.title).order_by(Evaluation.year.desc(), Evaluation.id))],
        current)
    units = catalogue.cached(catalogue.UNITS, ("options",), lambda: _rows(
        select(Unit.id, Unit.name).order_by(Unit.name)), current)
    count = catalogue.cached(catalogue.PEOPLE, ("owners",), lambda: db.session.scalar(
        select(db.func.count()).select_from(_owners().subquery())), current)
    if count <= OWNER_LIST_MAX:
        owners = catalogue.cached(catalogue.PEOPLE, ("owners", None), lambda: _rows(_owners()), current)
    elif unit is not None:
        owners = catalogue.cached(catalogue.PEOPLE, ("owners", unit), lambda: _rows(
            _owners().where(User.unit_id == unit)), current)
    else:
        owners = []
    if owner and owner not in {row_id for row_id, _name in owners}:
        owners = owners + _rows(_owners().where(User.id == owner))
    return FilterOptions(evaluations, units, owners, count > OWNER_LIST_MAX and unit is None)


def _rows(statement) -> Rows:
    return [tuple(row) for row in db.session.execute(statement)]


def _owners():
    return select(User.id, User.name).where(User.role.in_(UNIT_ROLES)).order_by(User.name, User.id)
