"""The ledger's long filter lists (evaluations, units, owners) as ready-made <option> markup.

A province has thousands of units and people. Loading them as ORM objects and looping over them in
Jinja took most of the ledger page's time, so plain (id, name) rows are escaped and joined here,
and kept in the cache under their generations (tracker/cache.py).
A 5,000-name owner list helps nobody: above OWNER_LIST_MAX people the owner list shows the chosen
unit's people (or, with no unit chosen, only the owner already filtered on).
"""
from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import select

from tracker.cache import EVALUATIONS, EVERYONE, PEOPLE, UNITS, kept
from tracker.auth.models import UNIT_ROLES, User
from tracker.evaluations.models import Evaluation
from tracker.extensions import db
from tracker.units.models import Unit

OWNER_LIST_MAX = 300


def _options(rows) -> str:
    return "".join(f'<option value="{row_id}">{escape(name)}</option>' for row_id, name in rows)


def _selecting(options: str, selected: int | None) -> Markup:
    if selected is not None:
        options = options.replace(f'<option value="{selected}">', f'<option value="{selected}" selected>', 1)
    return Markup(options)


@dataclass(frozen=True)
class FilterOptions:
    evaluations: Markup
    units: Markup
    owners: Markup
    owners_shortened: bool  # more people than OWNER_LIST_MAX: only the chosen unit's are listed


def filter_options(evaluation: int | None, unit: int | None, owner: int | None) -> FilterOptions:
    """The evaluation, unit and owner <option>s with the chosen ones marked.

    Evaluations: newest year first. Units: all, by name. Owners: everyone who can own an item
    while that is short, else the people of the chosen unit (or, with no unit chosen, only the
    owner already filtered on)."""
    evaluations = _kept(EVALUATIONS, "evaluations", lambda: "".join(
        f'<option value="{row_id}">{year} · {escape(title)}</option>' for row_id, year, title in db.session.execute(
            select(Evaluation.id, Evaluation.year, Evaluation.title).order_by(Evaluation.year.desc(), Evaluation.id))))
    units = _kept(UNITS, "units", lambda: _options(db.session.execute(select(Unit.id, Unit.name).order_by(Unit.name))))
    count = _kept(PEOPLE, "owners-count", lambda: db.session.scalar(
        select(db.func.count()).select_from(_owners().subquery())))
    if count <= OWNER_LIST_MAX:
        owners = _kept(PEOPLE, "owners", lambda: _options(db.session.execute(_owners())))
    elif unit is not None:
        owners = _kept(PEOPLE, f"owners-of-{unit}", lambda: _options(
            db.session.execute(_owners().where(User.unit_id == unit))))
    else:
        owners = _options(db.session.execute(_owners().where(User.id == owner))) if owner else ""
    if owner and f'value="{owner}"' not in owners:
        owners += _options(db.session.execute(_owners().where(User.id == owner)))
    return FilterOptions(_selecting(evaluations, evaluation), _selecting(units, unit), _selecting(owners, owner),
                         count > OWNER_LIST_MAX and unit is None)


def _kept(generation: str, name: str, build):
    """`build()` kept under `generation`. The <option>s are kept as markup: they show nothing but
    the rows (no words of any language), the same for everyone, and joining 2,000 of them on every
    page costs more than the rest of the list."""
    return kept(generation, EVERYONE, name, build)


def _owners():
    return select(User.id, User.name).where(User.role.in_(UNIT_ROLES)).order_by(User.name, User.id)
