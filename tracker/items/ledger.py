"""The ledger query: filters, sorting, counts and pagination, all driven by URL parameters."""
from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from math import ceil

from urllib.parse import quote_plus

from flask import g, url_for
from sqlalchemy import (Index, Select, String, any_, case, func, literal, literal_column, or_, select,
                        union_all)

from tracker import cache
from tracker.auth.models import User
from tracker.extensions import db
from tracker.items import search
from tracker.items.lights import Light, light_clause, light_order, overdue_clause
from tracker.items.models import OPEN_STATUSES, Item, Status, item_cooperating_units
from tracker.items.rows import plain_rows
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


def _member(enum_type, value: str | None):
    try:
        return enum_type(value)
    except ValueError:
        return None


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
        if sort.lstrip("-") not in SORTS and sort.lstrip("-") not in ("light", "unit", "attention"):
            sort = DEFAULT_SORT
        return cls(
            # NUL cannot be stored or compared by PostgreSQL: it is dropped like other malformed input.
            q=(args.get("q") or "").replace("\x00", "").strip()[:Q_MAX],
            evaluation=_int(args.get("evaluation")),
            unit=_int(args.get("unit")),
            status=_member(Status, args.get("status")),
            light=_member(Light, args.get("light")),
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
    """Items `user` may see: everything for readers, else the unit's lead and cooperating items;
    drafts only for those who may see drafts."""
    stmt = _drafts_rule(select(Item), user)
    if not user.reads_everything:
        stmt = stmt.where(_unit_items(user.unit_id))
    return stmt


def _drafts_rule(stmt: Select, user: User) -> Select:
    return stmt if user.role.can_see_drafts() else stmt.where(Item.status != Status.DRAFT)


def _unit_items(unit_id: int | None):
    """Condition: the item is led by the unit or the unit cooperates on it."""
    return or_(Item.lead_unit_id == unit_id, _cooperates(unit_id))


def _cooperates(unit_id: int | None):
    """Condition: `unit_id` cooperates on the item.

    SQLite answers `lead = ? OR id IN (...)` with two index lookups. PostgreSQL cannot use an index
    for `id IN (subquery)` under an OR and reads every item; with the cooperating ids collected
    first into an array, `lead = ? OR id = ANY(array)` is a BitmapOr of two index scans that the
    other filters (status) narrow before any row is read. (A UNION of the two lookups read every
    item of the unit and joined it back by id, many times slower for a big unit's page.)"""
    cooperating = select(item_cooperating_units.c.item_id).where(item_cooperating_units.c.unit_id == unit_id)
    if db.engine.dialect.name == "postgresql":
        return Item.id == any_(func.array(cooperating.scalar_subquery()))
    return Item.id.in_(cooperating)


def _filtered(stmt: Select, flt: LedgerFilter, user: User, today: dt.date, with_status=True,
              scanned=False) -> Select:
    if flt.q:
        stmt = stmt.where(search.matching(flt.q, scanned=scanned))
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


def _parts_to_acknowledge(unit_id: int) -> Select:
    """The items on which `unit_id` has a part (会签) waiting for its 签收, found from the unit's
    parts: asked per item (a correlated EXISTS) it read every item of the ledger to count them."""
    from tracker.parts.models import Part, PartStatus   # the parts package builds on items
    return select(Part.item_id).where(Part.unit_id == unit_id, Part.status == PartStatus.PENDING)


def parts_to_acknowledge(user: User) -> int:
    """How many items the user's unit has a part of waiting for its 签收 (My items says so)."""
    if user.unit_id is None or not user.role.acts_for_unit():
        return 0
    waiting = _parts_to_acknowledge(user.unit_id).subquery()
    return db.session.scalar(select(func.count()).select_from(waiting).join(Item, Item.id == waiting.c.item_id)
                             .where(Item.status != Status.DRAFT)) or 0


def _ordered(stmt: Select, sort: str, today: dt.date, unit_id: int | None = None) -> Select:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key == "light":
        column = light_order(today)
    elif key == "attention":  # what asks something of the unit first: to sign off, acknowledge, redo
        # ... and first of all a cooperating unit's own part waiting for its 签收.
        part = ((Item.id.in_(_parts_to_acknowledge(unit_id)), literal(-1)),) if unit_id is not None else ()
        waiting = case(*part, (Item.status == Status.SIGNOFF, literal(0)), (Item.status == Status.ASSIGNED, literal(1)),
                       (Item.status == Status.RETURNED, literal(2)), else_=literal(3))
        stmt = stmt.order_by(waiting.desc() if descending else waiting.asc())
        column = light_order(today)
    elif key == "unit":
        stmt = stmt.join(Unit, Unit.id == Item.lead_unit_id)
        column = Unit.name
    else:
        column = SORTS[key]
    column = column.desc() if descending else column.asc()
    return stmt.order_by(column, Item.id.desc() if descending else Item.id.asc())


def status_counts(flt: LedgerFilter, user: User, today: dt.date) -> dict[Status, int]:
    """Counts per status for the current filter, ignoring its own status choice (one statement).
    A text search's counts are kept (tracker/cache.py) while no searched text, status, unit or
    owner changes: counting every hit of a broad search is what costs, and most writes (progress,
    files) change none of that. Filters that depend on the day (light, overdue) are not kept."""
    if not flt.q or flt.light or flt.overdue:
        return _status_counts(flt, user, today)
    scope = user.scope_key
    asked = sorted(flt.args(page=None, status=None, sort=None).items())
    name = f"counts:{user.id if flt.mine else ''}:{asked}"
    return cache.kept(cache.SEARCH, scope, name, lambda: _status_counts(flt, user, today))


def _status_counts(flt: LedgerFilter, user: User, today: dt.date) -> dict[Status, int]:
    parts = [part.with_only_columns(Item.status) for part in _count_parts(flt, user, today)]
    base = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    counts = dict.fromkeys(Status, 0)
    with _reading(flt) as connection:
        for status, count in connection.execute(select(base.c.status, func.count()).group_by(base.c.status)):
            counts[Status(status)] = count
    return counts


def _count_parts(flt: LedgerFilter, user: User, today: dt.date) -> list[Select]:
    """The filtered items (any status) as disjoint statements whose union is the whole.

    One unit's items are split into those it leads and those it only cooperates on: the led ones
    are then counted from the index (lead_unit_id, status) alone, where the OR of the two lookups
    read a table page per item on PostgreSQL (3,000 pages for a county's education bureau)."""
    scanned = _broad(flt)
    whole = _filtered(visible_to(user), flt, user, today, with_status=False, scanned=scanned)
    units = {flt.unit} if flt.unit else set()
    if not user.reads_everything:
        units.add(user.unit_id)
    if len(units) != 1:
        return [whole]
    (unit,) = units  # the unit filter and the user's scope (if any) are this one unit
    rest = _filtered(_drafts_rule(select(Item), user), replace(flt, unit=None), user, today, with_status=False, scanned=scanned)
    return [rest.where(Item.lead_unit_id == unit), rest.where(_cooperates(unit), Item.lead_unit_id != unit)]


def page_of_items(flt: LedgerFilter, user: User, today: dt.date, per_page: int, load=plain_rows,
                  counts: dict[Status, int] | None = None) -> Page:
    """One page of the ledger: its ids chosen by one statement, then `load` turns them into rows
    (`rows.plain_rows` for the pages' tables, the API's summaries). The total comes from this
    filter's status_counts (`counts` when the page has them already)."""
    counts = status_counts(flt, user, today) if counts is None else counts
    total = counts[flt.status] if flt.status else sum(counts.values())
    ids, skipped = [], (flt.page - 1) * per_page
    if skipped < total:  # a page past the last (a link typed by hand) asks nothing
        with _reading(flt) as connection:
            stmt = _page_statement(flt, user, today, flt.page * per_page, total).limit(per_page).offset(skipped)
            ids = list(connection.execute(stmt).scalars())
    return Page(items=load(ids), page=flt.page, per_page=per_page, total=total)


def waiting_for_signoff(user: User) -> int:
    """How many submissions of the staff wait for `user`'s sign-off: the items their unit leads in
    SIGNOFF (heads; 0 for anyone else, who signs off nothing of a unit's own)."""
    if not (user.role.can_sign_off() and user.role.acts_for_unit()):
        return 0
    return db.session.scalar(select(func.count()).select_from(Item).where(
        Item.lead_unit_id == user.unit_id, Item.status == Status.SIGNOFF)) or 0


def matching_ids(flt: LedgerFilter, user: User, today: dt.date) -> Select:
    """The ids of every item the filter matches for `user`, in the filter's order (exports, and
    actions on "all matching the filter")."""
    return _ordered(_filtered(visible_to(user), flt, user, today), flt.sort, today, user.unit_id
                    ).with_only_columns(Item.id)


def _page_statement(flt: LedgerFilter, user: User, today: dt.date, rows: int = 0, total: int = 0) -> Select:
    """The ids of the filtered items in the filter's order (the page is its LIMIT and OFFSET, the
    first `rows` of the `total` matches)."""
    if not _walks_in_order(flt, user):
        # PostgreSQL's planner may walk the deadline order itself (see search.matching); in another
        # order each match is re-checked and sorted, best with the candidates collected first.
        scanned = db.engine.dialect.name == "postgresql" and flt.sort.lstrip("-") == "deadline"
        return _ordered(_filtered(visible_to(user), flt, user, today, scanned=scanned), flt.sort, today,
                        user.unit_id).with_only_columns(Item.id)
    # The search and the open filter tested on each entry of the walk, never used to look items up
    # (SQLite would rather find the open items by ix_items_status_deadline and sort them all).
    # When the page's rows come within PROBES entries of the walk, each entry is asked of the
    # search index in turn; otherwise the set of every match is collected first.
    if total and rows * db.session.scalar(select(func.max(Item.id))) <= PROBES * total:
        stmt = _filtered(select(Item), replace(flt, q="", open=False), user, today).where(search.probed(flt.q))
    else:
        stmt = _filtered(select(Item), replace(flt, open=False), user, today, scanned=True)
    if flt.open:
        stmt = stmt.where(literal_column("items.status", String).concat("").in_(sorted(OPEN_STATUSES)))
    return _ordered(stmt, flt.sort, today, user.unit_id).with_only_columns(Item.id)


def _reading(flt: LedgerFilter):
    """The session's connection, for a search with the candidates read from its index."""
    connection = db.session.connection()
    return search.candidates_from_the_index(connection) if flt.q else nullcontext(connection)


@dataclass(frozen=True)
class Page:
    """One page of a listing, with what the pager (templates/_macros.html) and the API show."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return ceil(self.total / self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def iter_pages(self, edge: int = 2, before: int = 2, after: int = 4):
        """The page numbers of the pager: the first and last `edge`, `before` and `after` around this
        one, None for each gap."""
        shown = [n for n in range(1, self.pages + 1)
                 if n <= edge or n > self.pages - edge or self.page - before <= n <= self.page + after]
        for previous, number in zip([0, *shown], shown):
            if number > previous + 1:
                yield None
            yield number


# -- broad searches on SQLite ----------------------------------------------------------------------
# A broad search (tens of thousands of matches) looked up each match by id, a step into the wide
# item rows each: testing every item of a narrow index against the set of matches instead reads
# no item row and costs a pass over that index, so it is taken when the matches are at least 1
# item in BROAD_SHARE. The counts scan any index holding the status (and need no sort for their
# GROUP BY). In the default order (by deadline) the page walks hits_order_index in its order,
# keeping the matches: no sort, and the walk stops after the page's rows. Only for filters whose
# every column the index holds, for people who see every item (a unit's own items are better
# found from its own index).
hits_order_index = Index("ix_items_deadline_id_status", Item.deadline, Item.id, Item.status)
hits_status_index = Index("ix_items_id_status", Item.id, Item.status)  # migration 0015
BROAD_SHARE = 25
PROBES = 200


def _broad(flt: LedgerFilter) -> bool:
    """SQLite: whether this search is broad (one character is a prefix query, costly to count:
    it is broad nearly always). Asked once a request: the counts and the page both need it, and
    it only chooses a plan, never what is found."""
    if not flt.q or db.engine.dialect.name != "sqlite":
        return False
    known = g.setdefault("broad_searches", {})
    if flt.q not in known:
        known[flt.q] = len(flt.q) == 1 or search.matches_at_least(flt.q, BROAD_SHARE)
    return known[flt.q]


def _walks_in_order(flt: LedgerFilter, user: User) -> bool:
    """Whether this search's page walks hits_order_index."""
    return (flt.sort.lstrip("-") == "deadline" and user.reads_everything
            and not (flt.evaluation or flt.unit or flt.owner or flt.mine or flt.light or flt.overdue)
            and _broad(flt))
