"""The one cache: Flask-Caching, with keys that hold the generations of the rows they were built from.

SimpleCache (per process) by default; RedisCache, shared by every worker and host, when
CACHE_REDIS_URL is set. What is kept: the dashboard's numbers and the ledger's filter lists, the
two things that cost more to rebuild than to look up (bench/README.md). Each kind of rows has a
generation: a random token in `catalogue_versions`, renewed in the same transaction as any change
of those rows. The engine sees every statement, whether an ORM flush, an UPDATE/INSERT/DELETE
through the session, or a Core statement on a connection (bulk loads, the CLI, jobs), so no write
path can forget it. Whoever reads a generation also sees the change that made it, so an entry
keyed by it is never served for another state. Tokens are random, never counters, so a wiped
table cannot bring an old one back. A store that is down only means building again.

The dashboard is kept per unit instead: each unit has a token of its own in `unit_generations`,
renewed by the database's triggers (UNIT_TRIGGERS) whenever an item it leads, holds a part of or
cooperates on changes what the dashboard counts. A county reader's numbers are added up from each
unit's piece (`kept_per_unit`), so a write makes the next read count the units it touched again,
not the county; a unit's reader's numbers are kept under that unit's token (`kept_for_unit`).
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app
from flask_caching import Cache
from redis.exceptions import RedisError
from sqlalchemy import Connection, Engine, String, event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracker.extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

ITEMS = "items"              # items, their findings and cooperating units, units, evaluations, indicators
UNITS = "units"              # the unit filter list: names, active
PEOPLE = "people"            # the owner filter list: names, roles, units, active
EVALUATIONS = "evaluations"  # the evaluation filter list: titles, years
SEARCH = "search"            # what a text search finds and counts: texts, statuses, units, owners
FRAMEWORK = "framework"      # which items the dashboard's indicator framework lists first
# A search's counts depend on none of what progress updates and uploads change (percent, dates of
# activity, version), so those writes leave them kept: most writes are progress.
_SEARCHED = {"title", "measures", "status", "lead_unit_id", "owner_id", "finding_id"}
# Per table the generations it renews and the columns that matter to each (None: any change).
# A sign-in or a password change is no change of the people lists.
# The framework lists each indicator's first items by deadline among those a reader sees (drafts
# and other units' items are not everyone's); their titles and badges are read on every view.
_LISTED = {"deadline", "status", "lead_unit_id", "finding_id"}
WATCHED = {
    "items": {ITEMS: None, SEARCH: _SEARCHED, FRAMEWORK: _LISTED},
    "item_cooperating_units": {ITEMS: None, SEARCH: None, FRAMEWORK: None},
    "findings": {ITEMS: None, SEARCH: {"text", "evaluation_id"}, FRAMEWORK: {"indicator_id", "evaluation_id"}},
    "indicators": {ITEMS: None, FRAMEWORK: None},
    "units": {ITEMS: None, UNITS: {"name", "active"}},
    "evaluations": {ITEMS: None, EVALUATIONS: {"title", "year"}},
    "users": {PEOPLE: {"name", "role", "unit_id", "active"}},
    # A cooperating unit's part counts on the dashboard (its progress posts change none of these).
    "parts": {ITEMS: {"status", "deadline", "unit_id", "item_id"}},
}
EVERYONE = "everyone"  # the scope of what every user sees alike (the filter lists)
DOWN_PAUSE = 30        # seconds a store that failed is left alone before it is asked again

cache = Cache()
_NOTED = "generations_changed"  # on a connection: the generations its transaction will renew
_READ = "generations"           # on a session: the generations read in its transaction
_DOWN = "cache_down_until"      # on the app: when its store, having failed, is asked again


class CatalogueVersion(db.Model):
    """One row per generation."""
    __tablename__ = "catalogue_versions"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


class UnitGeneration(db.Model):
    """One row per unit that has led, held a part of or cooperated on an item, written by the
    triggers only. No foreign key: a unit's token may outlive it harmlessly (nothing is kept under
    a token never seen again)."""
    __tablename__ = "unit_generations"

    unit_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(String(32))


def init_app(app: Flask) -> None:
    url = app.config.get("CACHE_REDIS_URL")
    config = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url} if url else {"CACHE_TYPE": "SimpleCache"}
    cache.init_app(app, config={**config, "CACHE_KEY_PREFIX": "rectify:", "CACHE_DEFAULT_TIMEOUT": 3600})


def generations() -> dict[str, str]:
    """Every generation's current token, read once per transaction; one never renewed has none."""
    info = db.session.info
    if _READ not in info:
        info[_READ] = dict(db.session.execute(select(CatalogueVersion.name, CatalogueVersion.token)).all())
    return info[_READ]


def kept(generation: str, scope: str | int, name: str, build: Callable[[], T]) -> T:
    """`build()`, kept under `name`, the user's `scope` (EVERYONE, "all" or a unit id) and the
    current token of `generation`. Built afresh and not kept when there is no token yet, when this
    transaction itself changed rows (what it would build is not committed) or when the store fails."""
    token = generations().get(generation)
    if token is None or db.session.connection().info.get(_NOTED):
        return build()
    return _kept(f"{generation}:{token}:{scope}:{name}", build)


def kept_per_unit(scope: str, name: str, build: Callable[[list[int] | None], dict[int, T]],
                  combine: Callable[[list[T]], R]) -> R:
    """`combine` of what `build(units)` gives per unit for those units (None: every unit), kept
    under the user's `scope` and `name`. Each unit's part is kept with the token the unit had when
    it was built, and only the units whose token moved since are built again; the combined whole is
    kept under the items generation. Everything is built again when the units themselves
    changed (their generation is part of the key); nothing is kept while this transaction writes."""
    era, items = generations().get(UNITS), generations().get(ITEMS)
    keep = None not in (era, items) and not db.session.connection().info.get(_NOTED)
    key = f"{UNITS}:{era}:{scope}:{name}"
    # Whatever renews a unit's token also renews the items generation: while that stands, so does
    # the whole (a reload costs one lookup, not the units' tokens).
    whole = _ask(cache.get, key + ":whole") if keep else None
    if whole is not None and whole[0] == items:
        return whole[1]
    tokens = dict(db.session.execute(select(UnitGeneration.unit_id, UnitGeneration.token)).all())
    entries: dict[int, tuple[str | None, T | None]] = (_ask(cache.get, key) if keep else None) or {}
    if entries:
        changed = [unit for unit, token in tokens.items() if entries.get(unit, (None,))[0] != token]
        fresh = build(changed) if changed else {}
    else:
        fresh = build(None)
        changed = set(tokens) | set(fresh)
    if changed:
        entries = {unit: entry for unit, entry in entries.items() if unit in tokens}
        entries.update((unit, (tokens.get(unit), fresh.get(unit))) for unit in changed)
    result = combine([value for _, value in entries.values() if value is not None])
    if keep:
        _ask(cache.set_many, {key: entries, key + ":whole": (items, result)})
    return result


def kept_for_unit(unit_id: int, scope: str, name: str, build: Callable[[], T]) -> T:
    """`build()` of what a reader of unit `unit_id` sees, kept under that unit's token (any change of
    an item the unit leads or cooperates on, or of a part of one, renews it) and the units' generation."""
    era = generations().get(UNITS)
    token = db.session.execute(select(UnitGeneration.token).where(UnitGeneration.unit_id == unit_id)).scalar()
    if None in (era, token) or db.session.connection().info.get(_NOTED):
        return build()
    return _kept(f"{UNITS}:{era}:unit:{unit_id}:{token}:{scope}:{name}", build)


def _kept(key: str, build: Callable[[], T]) -> T:
    value = _ask(cache.get, key)
    if value is None:
        value = build()
        _ask(cache.set, key, value)
    return value


def _ask(call: Callable, *args):
    """`call(*args)` on the store, None when it fails; a store that failed is left alone for
    DOWN_PAUSE seconds (a Redis at a closed port costs a few ms a call)."""
    if time.monotonic() < current_app.extensions.get(_DOWN, 0.0):
        return None
    try:
        return call(*args)
    except (RedisError, OSError) as exc:
        current_app.extensions[_DOWN] = time.monotonic() + DOWN_PAUSE
        log.warning("cache store failed (%s); building without it for %s s", exc, DOWN_PAUSE)
        return None


def etag(*parts) -> str:
    """An entity tag for a whole response that shows `parts` (who, language, day, URL...) of the
    data: it changes with every generation, so a page answered 304 is never older than the data."""
    tokens = sorted(generations().items())
    return hashlib.sha256(repr((tokens, parts)).encode()).hexdigest()[:32]


def renew(executor: Session | Connection, name: str) -> None:
    """Give generation `name` a new token in the current transaction: one upsert, no read first."""
    connection = executor if isinstance(executor, Connection) else executor.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    token = secrets.token_hex(16)
    executor.execute(insert(CatalogueVersion.__table__).values(name=name, token=token)
                     .on_conflict_do_update(index_elements=["name"], set_={"token": token}))


def _set_columns(connection, statement, multiparams, params) -> set[str]:
    """The columns an UPDATE sets: those given as parameters (an ORM flush names only the changed
    ones) or in its VALUES, read from the statement compiled for exactly those (public API)."""
    rows = multiparams if isinstance(multiparams, (list, tuple)) and multiparams else [params or {}]
    keys = set().union(*(row for row in rows if isinstance(row, dict)))
    return keys | set(statement.compile(dialect=connection.dialect, column_keys=sorted(keys) or None).params)


@event.listens_for(Engine, "after_execute")
def _note_changed_rows(connection, statement, multiparams, params, _options, _result) -> None:
    if not getattr(statement, "is_dml", False) or getattr(statement, "table", None) is None:
        return
    watched = WATCHED.get(getattr(statement.table, "name", None))
    if not watched:
        return
    needs_columns = statement.is_update and any(watched.values())
    columns = _set_columns(connection, statement, multiparams, params) if needs_columns else None
    names = {name for name, fields in watched.items() if fields is None or columns is None or columns & fields}
    if names:
        connection.info.setdefault(_NOTED, set()).update(names)


@event.listens_for(Engine, "commit")
def _renew_noted(connection) -> None:
    """Last in the transaction: the row lock a renewal takes on PostgreSQL is held only until the
    commit, never while waiting for another lock."""
    for name in sorted(connection.info.pop(_NOTED, ())):
        renew(connection, name)


@event.listens_for(Engine, "begin")
def _forget_noted(connection) -> None:
    """What a rolled-back transaction noted is dropped when the next one begins."""
    connection.info.pop(_NOTED, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_read(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_READ, None)


# -- the units' tokens, renewed by the database ---------------------------------------------------
# Triggers, so that no way of writing can miss them (a Core statement names no unit). What the
# dashboard counts of an item: its lead unit, status, dates, light and evaluation (finding); of a
# part: its unit, status and deadline. An evidence upload or an edited text renews no unit.
ITEM_COLUMNS = "status, lead_unit_id, deadline, closed_at, cancelled_at, behind_on, last_activity_on, finding_id"
PART_COLUMNS = "status, deadline, unit_id, item_id"
# The units of the items {items} selects: the lead unit, the units holding a part of it and those
# cooperating on it (a unit's reader sees the items it leads or cooperates on).
_ITEMS_UNITS = ("SELECT lead_unit_id AS unit_id FROM items WHERE {items} "
                "UNION SELECT unit_id FROM parts WHERE item_id IN (SELECT id FROM items WHERE {items}) "
                "UNION SELECT unit_id FROM item_cooperating_units WHERE item_id IN (SELECT id FROM items WHERE {items})")
_ITEM_UNITS = ("SELECT unit_id FROM parts WHERE item_id = {item} "
               "UNION SELECT unit_id FROM item_cooperating_units WHERE item_id = {item}")


def _sqlite_renew(units: str) -> str:
    """Renew the units `units` selects (a SELECT of `unit_id`s); the WHERE lets SQLite parse the ON CONFLICT."""
    return (f"INSERT INTO unit_generations (unit_id, token) SELECT unit_id, lower(hex(randomblob(16))) "
            f"FROM ({units}) WHERE unit_id IS NOT NULL "
            f"ON CONFLICT (unit_id) DO UPDATE SET token = excluded.token;")


_LEAD_AND_ITEM_UNITS = "SELECT lead_unit_id AS unit_id FROM items WHERE id = {item} UNION " + _ITEM_UNITS
_ROW_AND_ITEM_UNITS = "SELECT {row}.unit_id AS unit_id UNION " + _LEAD_AND_ITEM_UNITS.format(item="{row}.item_id")

SQLITE_UNIT_TRIGGERS = [
    f"""CREATE TRIGGER unit_generations_item_insert AFTER INSERT ON items BEGIN
        {_sqlite_renew('SELECT new.lead_unit_id AS unit_id')} END""",
    f"""CREATE TRIGGER unit_generations_item_update AFTER UPDATE OF {ITEM_COLUMNS} ON items BEGIN
        {_sqlite_renew('SELECT old.lead_unit_id AS unit_id UNION SELECT new.lead_unit_id UNION '
                       + _ITEM_UNITS.format(item='new.id'))} END""",
    f"""CREATE TRIGGER unit_generations_item_delete AFTER DELETE ON items BEGIN
        {_sqlite_renew('SELECT old.lead_unit_id AS unit_id UNION ' + _ITEM_UNITS.format(item='old.id'))} END""",
    *(f"""CREATE TRIGGER unit_generations_{table}_{event.lower()} AFTER {event} ON {on} BEGIN
        {_sqlite_renew(_ROW_AND_ITEM_UNITS.format(row=row))} END"""
      for table, on in (("part", "parts"), ("cooperation", "item_cooperating_units"))
      for event, row in (("INSERT", "new"), ("DELETE", "old"))),
    f"""CREATE TRIGGER unit_generations_part_update AFTER UPDATE OF {PART_COLUMNS} ON parts BEGIN
        {_sqlite_renew('SELECT old.unit_id AS unit_id UNION ' + _ROW_AND_ITEM_UNITS.format(row='new'))} END""",
    f"""CREATE TRIGGER unit_generations_finding_update AFTER UPDATE OF evaluation_id, indicator_id ON findings BEGIN
        {_sqlite_renew(_ITEMS_UNITS.format(items='finding_id = new.id'))} END""",
]
SQLITE_UNIT_TRIGGERS_DROP = [f"DROP TRIGGER IF EXISTS unit_generations_{name}" for name in (
    "item_insert", "item_update", "item_delete", "part_insert", "part_update", "part_delete",
    "cooperation_insert", "cooperation_delete", "finding_update")]

POSTGRES_UNIT_TRIGGERS = [
    # Distinct ids first: one statement may not upsert a row twice. A token this transaction
    # already renewed is left (its row's xmin is this transaction): a bulk load writing 100,000 items
    # makes one new version of each unit's row, not one per item (each stays until the commit).
    """CREATE FUNCTION rectify_renew_units(ids integer[]) RETURNS void LANGUAGE sql AS $$
         INSERT INTO unit_generations (unit_id, token)
         SELECT unit_id, replace(gen_random_uuid()::text, '-', '')
         FROM (SELECT DISTINCT unnest(ids) AS unit_id) AS renewed WHERE unit_id IS NOT NULL
         ON CONFLICT (unit_id) DO UPDATE SET token = excluded.token
         WHERE unit_generations.xmin <> pg_current_xact_id()::xid
       $$""",
    f"""CREATE FUNCTION rectify_item_units() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'INSERT' THEN
           PERFORM rectify_renew_units(ARRAY[NEW.lead_unit_id]);
         ELSIF TG_OP = 'UPDATE' THEN
           PERFORM rectify_renew_units(ARRAY[OLD.lead_unit_id, NEW.lead_unit_id]
                                       || ARRAY({_ITEM_UNITS.format(item='NEW.id')}));
         ELSE
           PERFORM rectify_renew_units(ARRAY[OLD.lead_unit_id] || ARRAY({_ITEM_UNITS.format(item='OLD.id')}));
         END IF;
         RETURN NULL;
       END $$""",
    f"""CREATE TRIGGER unit_generations_item AFTER INSERT OR DELETE OR UPDATE OF {ITEM_COLUMNS} ON items
       FOR EACH ROW EXECUTE FUNCTION rectify_item_units()""",
    # Parts and cooperating units alike: the row's unit (before and after) and the units of its item.
    f"""CREATE FUNCTION rectify_item_row_units() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'INSERT' THEN
           PERFORM rectify_renew_units(ARRAY({_ROW_AND_ITEM_UNITS.format(row='NEW')}));
         ELSIF TG_OP = 'UPDATE' THEN
           PERFORM rectify_renew_units(ARRAY[OLD.unit_id] || ARRAY({_ROW_AND_ITEM_UNITS.format(row='NEW')}));
         ELSE
           PERFORM rectify_renew_units(ARRAY({_ROW_AND_ITEM_UNITS.format(row='OLD')}));
         END IF;
         RETURN NULL;
       END $$""",
    f"""CREATE TRIGGER unit_generations_part AFTER INSERT OR DELETE OR UPDATE OF {PART_COLUMNS} ON parts
       FOR EACH ROW EXECUTE FUNCTION rectify_item_row_units()""",
    """CREATE TRIGGER unit_generations_cooperation AFTER INSERT OR DELETE ON item_cooperating_units
       FOR EACH ROW EXECUTE FUNCTION rectify_item_row_units()""",
    f"""CREATE FUNCTION rectify_finding_units() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         PERFORM rectify_renew_units(ARRAY({_ITEMS_UNITS.format(items='finding_id = NEW.id')}));
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER unit_generations_finding AFTER UPDATE OF evaluation_id, indicator_id ON findings
       FOR EACH ROW EXECUTE FUNCTION rectify_finding_units()""",
]
POSTGRES_UNIT_TRIGGERS_DROP = [
    "DROP TRIGGER IF EXISTS unit_generations_finding ON findings", "DROP TRIGGER IF EXISTS unit_generations_part ON parts",
    "DROP TRIGGER IF EXISTS unit_generations_cooperation ON item_cooperating_units",
    "DROP TRIGGER IF EXISTS unit_generations_item ON items", "DROP FUNCTION IF EXISTS rectify_finding_units()",
    "DROP FUNCTION IF EXISTS rectify_part_units()", "DROP FUNCTION IF EXISTS rectify_item_row_units()",
    "DROP FUNCTION IF EXISTS rectify_item_units()", "DROP FUNCTION IF EXISTS rectify_renew_units(integer[])"]


def create_unit_triggers(bind: Connection) -> None:
    """The triggers that renew the units' tokens, and a token for every unit there is."""
    postgres = bind.dialect.name == "postgresql"
    for statement in POSTGRES_UNIT_TRIGGERS if postgres else SQLITE_UNIT_TRIGGERS:
        bind.exec_driver_sql(statement)
    bind.exec_driver_sql("SELECT rectify_renew_units(ARRAY(SELECT id FROM units))" if postgres
                         else _sqlite_renew("SELECT id AS unit_id FROM units"))


def drop_unit_triggers(bind: Connection) -> None:
    for statement in POSTGRES_UNIT_TRIGGERS_DROP if bind.dialect.name == "postgresql" else SQLITE_UNIT_TRIGGERS_DROP:
        bind.exec_driver_sql(statement)
