"""The ledger query: filters, sorting, counts and pagination, all driven by URL parameters."""
from __future__ import annotations

import datetime as dt
from array import array
from dataclasses import dataclass, field, replace

from urllib.parse import quote_plus

from flask import g, url_for
from flask_sqlalchemy.pagination import Pagination, SelectPagination

from sqlalchemy import Index, Select, String, any_, func, literal_column, or_, select, text, union_all
from sqlalchemy.orm import joinedload, selectinload

from tracker.auth.models import User
from tracker.extensions import db
from tracker.items import search
from tracker.items.lights import Light, light_clause, light_order, light_settings, overdue_clause
from tracker.items.models import OPEN_STATUSES, Item, Status, item_cooperating_units
from tracker.items.rows import plain_rows  # noqa: F401 - the pages' loader, used as ledger.plain_rows
from tracker.reports import freshness
from tracker.units.models import Unit
from tracker.evaluations.models import Finding

SORTS = {
    "deadline": Item.deadline, "id": Item.id, "title": Item.title, "status": Item.status,
    "progress": Item.progress_percent, "updated": Item.updated_at,
}
DEFAULT_SORT = "deadline"
Q_MAX = 100


def _int(value: str | None) -> int | None:
    try:
        number = int(value) if value not in (None, "") else None
    except ValueError:
        return None
    return number if number is None or 0 < number < 2**31 else None


@dataclass
class LedgerFilter:
    """What the user asked for; unknown or malformed values are dropped, never an error page."""

    q: str = ""
    evaluation: int | None = None
    unit: int | None = None
    status: Status | None = None
    light: Light | None = None
    overdue: bool = False
    open: bool = False  # only items still open (未办结): neither closed nor cancelled
    owner: int | None = None
    mine: bool = False
    sort: str = DEFAULT_SORT
    page: int = 1
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_args(cls, args) -> LedgerFilter:
        sort = args.get("sort", DEFAULT_SORT)
        if sort.lstrip("-") not in SORTS and sort.lstrip("-") not in ("light", "unit"):
            sort = DEFAULT_SORT
        status = args.get("status")
        light = args.get("light")
        return cls(
            # NUL cannot be stored or compared by PostgreSQL: it is dropped like other malformed input.
            q=(args.get("q") or "").replace("\x00", "").strip()[:Q_MAX],
            evaluation=_int(args.get("evaluation")),
            unit=_int(args.get("unit")),
            status=Status(status) if status in Status._value2member_map_ else None,
            light=Light(light) if light in Light._value2member_map_ else None,
            overdue=args.get("overdue") in ("1", "true", "on"),
            open=args.get("open") in ("1", "true", "on"),
            owner=_int(args.get("owner")),
            mine=args.get("mine") in ("1", "true", "on"),
            sort=sort,
            page=_int(args.get("page")) or 1,
        )

    def args(self, **override) -> dict:
        """URL parameters for this filter with some values replaced (for links)."""
        values = {"q": self.q, "evaluation": self.evaluation, "unit": self.unit,
                  "status": self.status.value if self.status else None,
                  "light": self.light.value if self.light else None,
                  "overdue": "1" if self.overdue else None, "open": "1" if self.open else None,
                  "owner": self.owner,
                  "mine": "1" if self.mine else None, "sort": self.sort, "page": self.page}
        values.update(override)
        return {k: v for k, v in values.items() if v not in (None, "", False)}

    def url(self, endpoint: str, **override) -> str:
        """`url_for(endpoint, **self.args(**override))`, for the dozens of sort, status and page
        links of a ledger page: the endpoint's path is built once, only the query string per link."""
        args = self.args(**override)
        if not args:
            return _path(endpoint)
        # urlencode() costs ~100 calls a link; the values here are numbers and short words, and
        # only free text (q) needs quoting.
        return _path(endpoint) + "?" + "&".join(
            f"{key}={quote_plus(value) if key == 'q' else value}" for key, value in args.items())


def filter_link(flt, endpoint: str, **override) -> str:
    """A link to `endpoint` with the filter `flt` changed (any object with `args()`, e.g. the
    dashboard's unit table): the ledger's filter builds it faster itself."""
    if isinstance(flt, LedgerFilter):
        return flt.url(endpoint, **override)
    return url_for(endpoint, **flt.args(**override))


def _path(endpoint: str) -> str:
    paths = g.setdefault("ledger_paths", {})
    if endpoint not in paths:
        paths[endpoint] = url_for(endpoint)
    return paths[endpoint]


def visible_to(user: User) -> Select:
    """Items `user` may see: everything for readers, else the unit's lead and cooperating items."""
    stmt = select(Item)
    if not user.reads_everything:
        stmt = stmt.where(_unit_items(user.unit_id))
    return stmt


def _unit_items(unit_id: int | None):
    """Condition: the item is led by the unit or the unit cooperates on it.

    SQLite answers `lead = ? OR id IN (...)` with two index lookups. PostgreSQL cannot use an index
    for `id IN (subquery)` under an OR and reads every item; with the cooperating ids collected
    first into an array, `lead = ? OR id = ANY(array)` is a BitmapOr of two index scans that the
    other filters (status) narrow before any row is read. (A UNION of the two lookups read every
    item of the unit and joined it back by id: 27 ms instead of 1 ms for a big unit's page.)"""
    if db.engine.dialect.name == "postgresql":
        return or_(Item.lead_unit_id == unit_id, Item.id == any_(_cooperating_ids(unit_id)))
    return or_(Item.lead_unit_id == unit_id, Item.id.in_(_cooperating(unit_id)))


def _cooperating(unit_id: int | None) -> Select:
    return select(item_cooperating_units.c.item_id).where(item_cooperating_units.c.unit_id == unit_id)


def _cooperating_ids(unit_id: int | None):
    """PostgreSQL: the ids of the items `unit_id` cooperates on, as one array (for `= ANY`)."""
    return func.array(_cooperating(unit_id).scalar_subquery())


def _filtered(stmt: Select, flt: LedgerFilter, user: User, today: dt.date, with_status=True) -> Select:
    if flt.q:
        stmt = stmt.where(search.matching(flt.q))
    if flt.evaluation:
        stmt = stmt.where(Item.finding_id.in_(select(Finding.id).where(
            Finding.evaluation_id == flt.evaluation)))
    if flt.unit:
        stmt = stmt.where(_unit_items(flt.unit))
    if flt.owner:
        stmt = stmt.where(Item.owner_id == flt.owner)
    if flt.mine:
        stmt = stmt.where(Item.owner_id == user.id)
    if flt.light:
        stmt = stmt.where(light_clause(flt.light, today))
    if flt.overdue:
        stmt = stmt.where(overdue_clause(today))
    if flt.open:
        stmt = stmt.where(Item.status.in_(OPEN_STATUSES))
    if with_status and flt.status:
        stmt = stmt.where(Item.status == flt.status)
    return stmt


def _ordered(stmt: Select, sort: str, today: dt.date) -> Select:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key == "light":
        column = light_order(today)
    elif key == "unit":
        stmt = stmt.join(Unit, Unit.id == Item.lead_unit_id)
        column = Unit.name
    else:
        column = SORTS[key]
    column = column.desc() if descending else column.asc()
    return stmt.order_by(column, Item.id.desc() if descending else Item.id.asc())


def status_counts(flt: LedgerFilter, user: User, today: dt.date) -> dict[Status, int]:
    """Counts per status for the current filter, ignoring its own status choice."""
    if _read_apart(flt, user):
        return dict(_search_counts(flt, user, today))
    if _kept_whole(flt, user):
        return dict(_hits(flt, user, today).counts)
    parts = [part.with_only_columns(Item.status) for part in _count_parts(flt, user, today)]
    base = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    rows = db.session.execute(select(base.c.status, func.count()).group_by(base.c.status)).all()
    counts = {status: 0 for status in Status}
    for status, count in rows:
        counts[Status(status)] = count
    return counts


def _count_parts(flt: LedgerFilter, user: User, today: dt.date) -> list[Select]:
    """The filtered items (any status) as disjoint statements whose union is the whole.

    On PostgreSQL one unit's items are split into those it leads and those it only cooperates on:
    the led ones are then counted from the index (lead_unit_id, status) alone, where the OR of the
    two lookups read a table page per item (3,000 pages for a county's education bureau)."""
    whole = _filtered(visible_to(user), flt, user, today, with_status=False)
    units = {flt.unit} if flt.unit else set()
    if not user.reads_everything:
        units.add(user.unit_id)
    if db.engine.dialect.name != "postgresql" or len(units) != 1:
        return [whole]
    (unit,) = units  # the unit filter and the user's scope (if any) are this one unit
    rest = _filtered(select(Item), replace(flt, unit=None), user, today, with_status=False)
    return [rest.where(Item.lead_unit_id == unit),
            rest.where(Item.id == any_(_cooperating_ids(unit)), Item.lead_unit_id != unit)]


def page_of_items(flt: LedgerFilter, user: User, today: dt.date, per_page: int, load=None,
                  counts: dict[Status, int] | None = None):
    """One page of the ledger with everything the rows show loaded up front (no N+1).

    `load` turns the page's ids into its rows: Item objects with their units, owner and finding
    (the API's default), or `rows.plain_rows` for the pages' tables. `counts` are this filter's
    status_counts when the page has them already: the total is then known without counting again."""
    load = load or _rows
    if _read_apart(flt, user):
        return _SearchPage(page=flt.page, per_page=per_page, max_per_page=None, error_out=False,
                           flt=flt, user=user, today=today, load=load)
    if _kept_whole(flt, user):
        hits = _hits(flt, user, today)
        return _IdsPagination(page=flt.page, per_page=per_page, max_per_page=None, error_out=False,
                              ids=hits.ids.get(flt.status, array("i")) if flt.status else hits.all_ids,
                              load=load)
    # The page is chosen on ids alone (a narrow sort, often straight from an index: the light order
    # reads only columns of ix_items_dashboard), then only its rows are loaded. Sorting whole rows
    # with their long texts made a big unit's "reddest first" page take tens of milliseconds.
    stmt = _ordered(_filtered(visible_to(user), flt, user, today), flt.sort, today)
    total = None if counts is None else (counts[flt.status] if flt.status else sum(counts.values()))
    return _PageOfIds(select=stmt.with_only_columns(Item.id), session=db.session(), page=flt.page,
                      per_page=per_page, max_per_page=None, error_out=False, load=load, total=total)


class _PageOfIds(SelectPagination):
    """A page of ids chosen by a statement, turned into rows by `load`; the total counted only
    when it was not given."""

    def _query_items(self) -> list:
        return self._query_args["load"](super()._query_items())

    def _query_count(self) -> int:
        known = self._query_args["total"]
        return super()._query_count() if known is None else known


# -- searches, the reddest-first order and one unit's listings ---------------------------------------
# A search can match tens of thousands of items, and the reddest-first order ("my items", a head's
# start page) computes every item's light before the first row: the page, its total and the status
# counts each had to find and sort them all again. One statement now reads the matches' ids and
# statuses in order, and the result is kept per process under the "items changed" marker (any
# change to an item, finding, unit or evaluation renews it) and the day, so paging or coming back
# reads only the 25 rows shown, and never a stale list. Ids are 32-bit (see DatabaseId): 4 bytes each.
# A listing narrowed to one unit or person (a head's every listing) is a few thousand items at
# most: reading all their ids and statuses in order costs about what its page and its counts cost
# apart (two statements, on PostgreSQL ~5 ms), so it is kept the same way. A reader's listing of
# the whole province keeps its page statement (LIMIT through an index) and its counts.

def _kept_whole(flt: LedgerFilter, user: User) -> bool:
    return (bool(flt.q) or flt.sort.lstrip("-") == "light" or not user.reads_everything
            or bool(flt.unit or flt.owner or flt.mine))


@dataclass(frozen=True)
class _Hits:
    all_ids: array
    ids: dict[Status, array]
    counts: dict[Status, int]


_HITS = freshness.Cache(size=64)


def _hits(flt: LedgerFilter, user: User, today: dt.date) -> _Hits:
    scope = ("all",) if user.reads_everything else ("unit", user.unit_id)
    filters = tuple(sorted(flt.args(page=None, status=None).items()))
    key = (freshness.marker(), scope, user.id if flt.mine else None, today, light_settings(), filters)
    return _HITS.get(key, lambda: _find(flt, user, today))


def _find(flt: LedgerFilter, user: User, today: dt.date) -> _Hits:
    # Never a walk: whenever one would serve, the search is read apart (_read_apart), page by page.
    stmt = _hits_statement(flt, user, today, walk=False)
    # Plain values through the connection: the ORM's rows and the Enum's conversion of each status
    # took twice as long as the statement itself for a broad search (0.4 s for 64,000 hits). Read
    # in parts, so that 64,000 rows never live at once: they made the garbage collector walk the
    # whole process (50-90 ms).
    connection = db.session.connection()
    all_ids, by_status = array("i"), {}
    with search.candidates_from_the_index(connection):
        for part in connection.execute(stmt).partitions(1000):
            for item_id, status in part:
                all_ids.append(item_id)
                bucket = by_status.get(status)
                if bucket is None:
                    bucket = by_status[status] = array("i")
                bucket.append(item_id)
    ids = {Status(status): found for status, found in by_status.items()}
    counts = {status: len(ids.get(status, ())) for status in Status}
    return _Hits(all_ids, ids, counts)


def _hits_statement(flt: LedgerFilter, user: User, today: dt.date, walk: bool) -> Select:
    """Ids and statuses (plain strings) of every match in order; `walk`: through hits_order_index."""
    if not walk:
        return _ordered(_filtered(visible_to(user), flt, user, today, with_status=False), flt.sort, today
                        ).with_only_columns(Item.id, _STORED_STATUS)
    # The search and the open filter tested on each entry of the walk: never used to look items up
    # (on a small table SQLite would rather find the open items by ix_items_status_deadline and sort).
    stmt = _filtered(visible_to(user), replace(flt, q="", open=False), user, today, with_status=False)
    stmt = stmt.where(search.matching(flt.q, scanned=True))
    if flt.open:
        stmt = stmt.where(_STORED_STATUS.concat("").in_(sorted(OPEN_STATUSES)))
    return _ordered(stmt, flt.sort, today).with_only_columns(Item.id, _STORED_STATUS)


# The status as the string stored, without the Enum's conversion of every row.
_STORED_STATUS = literal_column(f"{Item.__tablename__}.status", String)


# A broad search in the default order (by deadline) on SQLite: looking up each of 60,000 matches
# by id (a step into the wide item rows each) and sorting them took 60% of the time. Walking this
# index in its order instead, keeping the items whose id is in the matches' set, reads only the
# index and needs no sort; it costs a pass over every item (~10 ms for 100,000), so it is taken
# when the matches are at least 1 item in WALK_SHARE. Only for filters whose every column the
# index holds (the open filter tests the status), for people who see every item (a unit's own
# items are better found from its own index).
hits_order_index = Index("ix_items_deadline_id_status", Item.deadline, Item.id, Item.status)
WALK_SHARE = 25


def _walks_in_order(flt: LedgerFilter, user: User) -> bool:
    # The same searches as are read apart (below), when broad; one character is a prefix query,
    # costly to count: it is broad nearly always.
    return _read_apart(flt, user) and (len(flt.q) == 1 or search.matches_at_least(flt.q, WALK_SHARE))


# The first search after a change (SQLite, the default order, a reader of every item): reading
# all 64,000 hits of a broad search in order took 130-140 ms, most of it handing each row to
# Python. The page shows only its counts per status and 25 rows: the counts are read on their own
# (each match's status looked up in hits_status_index, no row to Python but the 7 counts, ~45 ms)
# and so is the page (the walk of hits_order_index stops after the page's rows, ~25 ms), each kept
# under the marker like the full list. Paging deeper runs one page statement per page (the walk
# goes further, at most a pass over the index) instead of slicing a list read once.
hits_status_index = Index("ix_items_id_status", Item.id, Item.status)
_PAGES = freshness.Cache(size=256)


def _read_apart(flt: LedgerFilter, user: User) -> bool:
    """Whether the counts and each page of this search are read apart, not from the full list."""
    return (bool(flt.q) and flt.sort.lstrip("-") == "deadline" and db.engine.dialect.name == "sqlite"
            and user.reads_everything and not (flt.evaluation or flt.unit or flt.owner or flt.mine
                                               or flt.light or flt.overdue))


def _search_key(flt: LedgerFilter, *more) -> tuple:
    # The reader sees every item and no filter read apart depends on the user, day or lights.
    return (freshness.marker(), "apart", tuple(sorted(flt.args(page=None, status=None).items())), *more)


def _search_counts(flt: LedgerFilter, user: User, today: dt.date) -> dict[Status, int]:
    return _HITS.get(_search_key(flt, "counts"), lambda: _count_matches(flt))


def _count_matches(flt: LedgerFilter) -> dict[Status, int]:
    counts = {status: 0 for status in Status}
    for status, count in db.session.connection().execute(_COUNT_MATCHES, {"match": search.fts_query(flt.q)}):
        counts[Status(status)] = count
    if flt.open:
        counts = {status: count if status in OPEN_STATUSES else 0 for status, count in counts.items()}
    return counts


# INDEXED BY: without statistics SQLite looks each match up by its rowid in the wide item rows (3x
# slower); SQLAlchemy's SQLite dialect renders no table hints, hence the text.
_COUNT_MATCHES = text("SELECT items.status, count(*) FROM item_search "
                      "JOIN items INDEXED BY ix_items_id_status ON items.id = item_search.rowid "
                      "WHERE item_search MATCH :match GROUP BY items.status")


def _page_ids(flt: LedgerFilter, user: User, today: dt.date, per_page: int) -> array:
    def read() -> array:
        stmt = _hits_statement(flt, user, today, walk=_walks_in_order(flt, user))
        if flt.status:
            stmt = stmt.where(Item.status == flt.status)
        stmt = stmt.limit(per_page).offset((flt.page - 1) * per_page)
        return array("i", (item_id for item_id, _ in db.session.connection().execute(stmt)))
    return _PAGES.get(_search_key(flt, "page", flt.status, flt.page, per_page), read)


class _SearchPage(Pagination):
    """A page of a search read apart: its ids from a page statement, its total from the counts."""

    def _query_items(self) -> list:
        args = self._query_args
        return args["load"](list(_page_ids(args["flt"], args["user"], args["today"], self.per_page)))

    def _query_count(self) -> int:
        args = self._query_args
        counts = _search_counts(args["flt"], args["user"], args["today"])
        return counts[args["flt"].status] if args["flt"].status else sum(counts.values())


class _IdsPagination(Pagination):
    """A page over an ordered list of item ids; only the page's rows are loaded."""

    def _query_items(self) -> list[Item]:
        ids = self._query_args["ids"][(self.page - 1) * self.per_page:self.page * self.per_page]
        return self._query_args["load"](list(ids))

    def _query_count(self) -> int:
        return len(self._query_args["ids"])


def _rows(ids: list[int]) -> list[Item]:
    """The items of `ids` in that order, with what the ledger's rows show."""
    if not ids:
        return []
    rows = {item.id: item for item in db.session.scalars(select(Item).where(Item.id.in_(ids)).options(*_ROW_LOADS))}
    return [rows[item_id] for item_id in ids if item_id in rows]


# The many-to-one rows come joined to the page's query (one statement instead of four).
_ROW_LOADS = (joinedload(Item.lead_unit, innerjoin=True), joinedload(Item.owner),
              joinedload(Item.finding, innerjoin=True).joinedload(Finding.evaluation, innerjoin=True),
              selectinload(Item.cooperating_units))

