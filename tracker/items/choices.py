"""The ledger's long filter lists (evaluations, units, owners) as plain (id, label) rows.

A province has thousands of units and people. Loading them as ORM objects took most of the ledger
page's time, so plain rows are read, and kept in the cache under their generations (tracker/cache.py).
A 5,000-name owner list helps nobody: above OWNER_LIST_MAX people the owner list shows the chosen
unit's people (or, with no unit chosen, only the owner already filtered on).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from markupsafe import Markup
from sqlalchemy import select

from tracker.cache import EVALUATIONS, EVERYONE, PEOPLE, UNITS, kept
from tracker.auth.models import UNIT_ROLES, User
from tracker.evaluations.models import Evaluation
from tracker.extensions import db
from tracker.units.models import Unit

OWNER_LIST_MAX = 300


Rows = list[tuple[int, str]]


@dataclass(frozen=True)
class FilterOptions:
    evaluations: Markup
    units: Markup
    owners: Markup
    owners_shortened: bool  # more people than OWNER_LIST_MAX: only the chosen unit's are listed


def filter_options(evaluation: int | None, unit: int | None, owner: int | None) -> FilterOptions:
    """The evaluation, unit and owner lists (the template marks the chosen ones).

    Evaluations: newest year first. Units: all, by name. Owners: everyone who can own an item
    while that is short, else the people of the chosen unit (or, with no unit chosen, only the
    owner already filtered on)."""
    evaluations = _kept(EVALUATIONS, "evaluations", lambda: [
        (row_id, f"{year} · {title}") for row_id, year, title in db.session.execute(
            select(Evaluation.id, Evaluation.year, Evaluation.title).order_by(Evaluation.year.desc(), Evaluation.id))])
    units = _kept(UNITS, "units", lambda: _rows(select(Unit.id, Unit.name).order_by(Unit.name)))
    count = _kept(PEOPLE, "owners-count", lambda: db.session.scalar(
        select(db.func.count()).select_from(_owners().subquery())))
    if count <= OWNER_LIST_MAX:
        owners = _kept(PEOPLE, "owners", lambda: _rows(_owners()))
    elif unit is not None:
        owners = _kept(PEOPLE, f"owners-of-{unit}", lambda: _rows(_owners().where(User.unit_id == unit)))
    else:
        owners = []
    if owner and owner not in {row_id for row_id, _name in owners}:
        owners = owners + _rows(_owners().where(User.id == owner))
    return FilterOptions(_tags(EVALUATIONS, "evaluations", evaluations, evaluation),
                         _tags(UNITS, "units", units, unit),
                         _tags(PEOPLE, f"owners-{unit if count > OWNER_LIST_MAX else ''}", owners, owner),
                         count > OWNER_LIST_MAX and unit is None)


def _tags(generation: str, name: str, rows: Rows, selected: int | None) -> Markup:
    """The <option>s of a list as the `select_options` macro renders them, kept with the rows' own
    generation and the choice: rendering a province's 2,000 units on every ledger page cost more
    than the rest of the page (bench/README.md)."""
    macro = current_app.jinja_env.get_template("_macros.html").module.select_options
    return kept(generation, EVERYONE, f"{name}-options:{selected}", lambda: Markup(macro(rows, selected)))


def _rows(statement) -> Rows:
    return [tuple(row) for row in db.session.execute(statement)]


def _kept(generation: str, name: str, build):
    """`build()` kept under `generation`: the rows show no words of any language and are the same
    for everyone."""
    return kept(generation, EVERYONE, name, build)


def _owners():
    return select(User.id, User.name).where(User.role.in_(UNIT_ROLES)).order_by(User.name, User.id)
