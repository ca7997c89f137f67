"""Free-text search of the ledger, served by an index of character bigrams.

Users search Chinese, where the most common query is a two-character word (教师, 编制), so neither
word tokenizers nor trigram indexes serve it. Each item's searched text (title, measures and the
text of its finding) is indexed as the bigrams of its characters, lower-cased; each field ends
with its last character alone, so every character starts one token and no bigram spans two fields.

- SQLite: a contentless FTS5 table `item_search` (rowid = item id). A query is the phrase of its
  bigrams, which matches exactly where the query is a substring of one field; a one-character
  query is a prefix query. No re-check is needed.
- PostgreSQL: a table `item_search(item_id, terms tsvector)` with a GIN index. A query asks for all
  its bigrams (a superset of the matches), and a substring test re-checks only those candidates
  (none is needed for one or two characters: see `_rechecked`).

The database keeps the index up to date itself (triggers on items and findings), so every write
path is covered: services, the importer, the generator's bulk inserts, a hand-written UPDATE.
SQLite's triggers call `rectify_search_terms`, a function this module registers on every SQLite
connection of the app; PostgreSQL's are PL/pgSQL (migration 0007).
"""
from __future__ import annotations

import unicodedata
from contextlib import contextmanager

from sqlalchemy import Integer, Select, Text, any_, bindparam, exists, func, literal_column, or_, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.sql import column, table

from tracker import database

SQL_FUNCTION = "rectify_search_terms"
# Tables of the index; autogenerate must not mistake them (or FTS5's shadow tables) for strays.
INDEX_TABLES = ("item_search",)

# ASCII punctuation and spaces would split FTS5 tokens; they are indexed as private-use
# characters instead (U+F0000 + code). A text holding such a character may match a query with the
# ASCII one: a false hit in an unused Unicode plane, never a missed one.
_ESCAPE_BASE = 0xF0000


def _fold(char: str) -> str:
    lower = char.lower()
    char = lower if len(lower) == 1 else char
    if char.isascii() and not char.isalnum():
        return chr(_ESCAPE_BASE + ord(char))
    return char


def _tokens(value: str) -> list[str]:
    chars = [_fold(c) for c in value]
    return [a + b for a, b in zip(chars, chars[1:])] + chars[-1:]


def terms(*fields: str | None) -> str:
    """The space-separated index tokens of the searched fields (SQLite's document)."""
    return " ".join(token for value in fields if value for token in _tokens(value))


def fts_query(q: str) -> str:
    """The FTS5 query that matches exactly the items containing `q` (non-empty) in one field."""
    chars = [_fold(c) for c in q]
    if len(chars) == 1:
        return f'"{chars[0]}"*'
    return '"' + " ".join(a + b for a, b in zip(chars, chars[1:])) + '"'


def matching(q: str, scanned: bool = False):
    """Condition on items: the title, measures or finding text contains `q` (case-insensitive).

    `scanned`: the condition is to be tested on each item of a walk through another index (a
    page's order), not used to fetch every match first. SQLite collects the matches' ids once and
    looks each item up among them; PostgreSQL may then walk the page's order and ask the index
    about each item until the page is full, instead of re-checking every candidate (bench/README.md)."""
    from tracker.extensions import db
    from tracker.items.models import Item
    if db.engine.dialect.name != "postgresql":
        # `id + 0` is no longer the rowid: SQLite cannot look items up by it, and walks an index.
        return (Item.id + literal_column("0") if scanned else Item.id).in_(_fts_rowids(q))
    candidates = select(_pg_index.c.item_id).where(
        _pg_index.c.terms.op("@@", is_comparison=True)(func.rectify_search_query(q)))
    if scanned or len(q) <= 2:   # (one term: no re-check, the candidates hashed, the items walked)
        return Item.id.in_(candidates) & _rechecked(q)
    # The candidates collected first (planned on their own: from the GIN index), then the items
    # looked up in id order and re-checked; as a join, the planner read item_search row by row.
    return (Item.id == any_(func.array(candidates.scalar_subquery()))) & _rechecked(q)


def probed(q: str):
    """SQLite: the same condition asked of the index item by item, for a walk in order that stops
    after a page's rows: no set of every match is collected first."""
    from tracker.items.models import Item
    return exists().where(text("item_search MATCH :search_probe").bindparams(search_probe=fts_query(q)),
                          _fts_index.c.rowid == Item.id)


def _rechecked(q: str):
    """PostgreSQL: the candidate's title, measures or finding text really holds `q`.

    ILIKE is LIKE on both sides lower()ed (a UTF-8 database), i.e. strpos(lower(text), lower(q));
    written so, lower(q) is computed once, not once per row (half of ILIKE's time). When no other
    character lower-cases to one of q's (`caseless`: Chinese), the texts need no lower() at all:
    that call on each candidate's measures (a kilobyte) was most of a broad search's time.

    A query of one or two characters after lower() is a single term of the index (a bigram, or a
    prefix of a term, and every character of a text starts a term), which holds exactly the texts
    containing it: no re-check. The test is written in SQL on lower(q), so that it is PostgreSQL's
    own lower() that decides, and it is folded into the plan (the re-check is not even planned)."""
    from tracker.evaluations.models import Finding
    from tracker.items.models import Item
    wanted = bindparam("search_text", q, type_=Text, unique=True)
    if caseless(q):
        def holds(column):
            return func.strpos(column, wanted) > 0
    else:
        lowered = func.lower(wanted)

        def holds(column):
            return func.strpos(func.lower(column), lowered) > 0
    # Re-checked per candidate by its finding's key: an IN list of matching findings read them all.
    finding_match = exists().where(Finding.id == Item.finding_id, holds(Finding.text))
    one_term = func.char_length(func.lower(wanted)) <= 2
    return or_(one_term, holds(Item.title), holds(Item.measures), finding_match)


def caseless(q: str) -> bool:
    """Whether no character but itself lower-cases to any of q's: ideographs and other letters
    without case, digits, punctuation, spaces (tests check this against the database's lower())."""
    return all(unicodedata.category(c) in _CASELESS_CATEGORIES for c in q)


_CASELESS_CATEGORIES = frozenset({"Lo", "Nd", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Zs"})


@contextmanager
def candidates_from_the_index(connection: Connection):
    """PostgreSQL: run the statements inside with the candidates read from the GIN index.

    The planner prices reading item_search row by row (sequentially, or by its primary key) as if
    its terms were small; each is a compressed, out-of-line tsvector of a few kilobytes, and a
    broad search spent far longer unpacking them than the index takes to answer (bench/README.md).
    Without hints, sequential scans are priced out for these statements only (SET LOCAL, reset after)."""
    if connection.dialect.name != "postgresql":
        yield connection
        return
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    yield connection
    # Not reached when the body raised: the request's transaction is rolled back, and the setting
    # with it (a reset here would fail in an aborted transaction and hide the error).
    connection.exec_driver_sql("SET LOCAL enable_seqscan TO DEFAULT")


def _fts_rowids(q: str) -> Select:
    return select(_fts_index.c.rowid).where(
        text("item_search MATCH :search_match").bindparams(search_match=fts_query(q)))


def matches_at_least(q: str, share: int) -> bool:
    """SQLite: whether `q` matches more than one item in `share` (by the largest item id, a cheap
    stand-in for their number); the index stops counting there, so a broad query costs little."""
    from tracker.extensions import db
    from tracker.items.models import Item
    wanted = select(func.coalesce(func.max(Item.id), 0) // literal_column(str(int(share))) + 1).scalar_subquery()
    found = select(func.count()).select_from(_fts_rowids(q).limit(wanted).subquery())
    reached, needed = db.session.execute(select(found.scalar_subquery(), wanted)).one()
    return reached >= needed


_fts_index = table("item_search", column("rowid", Integer))
_pg_index = table("item_search", column("item_id", Integer), column("terms"))


database.sqlite_function(SQL_FUNCTION, 3, terms)  # the triggers' own function


def include_name(name, type_, _parent_names) -> bool:
    """Autogenerate filter: the search index is created by its migration, not by the models."""
    return not (type_ == "table" and name and name.startswith(INDEX_TABLES))


# -- the index's DDL, used by migration 0007 ------------------------------------------------------

_SQLITE_DOC = "rectify_search_terms({p}.title, {p}.measures, (SELECT text FROM findings WHERE id = {p}.finding_id))"
_SQLITE_ADD = "INSERT INTO item_search(rowid, terms) VALUES (new.id, " + _SQLITE_DOC.format(p="new") + ");"
_SQLITE_REMOVE = ("INSERT INTO item_search(item_search, rowid, terms) VALUES ('delete', old.id, "
                  + _SQLITE_DOC.format(p="old") + ");")

SQLITE_CREATE = [
    # contentless: the tokens are not stored twice; columnsize=0: no ranking is needed.
    "CREATE VIRTUAL TABLE item_search USING fts5(terms, content='', columnsize=0, tokenize='ascii')",
    f"CREATE TRIGGER item_search_insert AFTER INSERT ON items BEGIN {_SQLITE_ADD} END",
    f"CREATE TRIGGER item_search_delete AFTER DELETE ON items BEGIN {_SQLITE_REMOVE} END",
    f"CREATE TRIGGER item_search_update AFTER UPDATE OF title, measures, finding_id ON items "
    f"BEGIN {_SQLITE_REMOVE} {_SQLITE_ADD} END",
    """CREATE TRIGGER item_search_finding AFTER UPDATE OF text ON findings BEGIN
         INSERT INTO item_search(item_search, rowid, terms)
           SELECT 'delete', id, rectify_search_terms(title, measures, old.text) FROM items
           WHERE finding_id = old.id;
         INSERT INTO item_search(rowid, terms)
           SELECT id, rectify_search_terms(title, measures, new.text) FROM items WHERE finding_id = new.id;
       END""",
    """INSERT INTO item_search(rowid, terms)
       SELECT i.id, rectify_search_terms(i.title, i.measures, f.text)
       FROM items i LEFT JOIN findings f ON f.id = i.finding_id""",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS item_search_finding", "DROP TRIGGER IF EXISTS item_search_update",
               "DROP TRIGGER IF EXISTS item_search_delete", "DROP TRIGGER IF EXISTS item_search_insert",
               "DROP TABLE IF EXISTS item_search"]

# PostgreSQL lower-cases with lower(), as its ILIKE does, so candidates and re-check agree.
# The bigrams are the 1-2 character pieces of the field and of the field without its first
# character (abcde: ab cd e + bc de), cut by one regular expression pass each. substr(l, i, 2) for
# every i walked the multibyte text from its start each time: minutes for a province's ledger (migration 0011 replaces that first version).
POSTGRES_TERMS_FUNCTION = """CREATE OR REPLACE FUNCTION rectify_search_terms(title text, measures text, finding text)
       RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
         SELECT coalesce(array_to_tsvector(array_agg(piece[1])), ''::tsvector)
         FROM unnest(ARRAY[title, measures, finding]) AS field, lower(field) AS l,
              unnest(ARRAY[l, substr(l, 2)]) AS shifted, regexp_matches(shifted, '..?', 'g') AS piece
       $$"""
POSTGRES_CREATE = [
    r"""CREATE FUNCTION rectify_search_lexeme(token text) RETURNS text
       LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
         SELECT '''' || replace(replace(token, '\', '\\'), '''', '''''') || ''''
       $$""",
    POSTGRES_TERMS_FUNCTION,
    # Every bigram of the query (one character: any token starting with it), as a tsquery whose
    # lexemes are quoted (backslash and quote escaped), so no character of the query is syntax.
    r"""CREATE FUNCTION rectify_search_query(q text) RETURNS tsquery
       LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
         SELECT CASE WHEN char_length(l) = 1 THEN (rectify_search_lexeme(l) || ':*')::tsquery
                ELSE (SELECT string_agg(rectify_search_lexeme(substr(l, i, 2)), ' & ')
                      FROM generate_series(1, char_length(l) - 1) AS i)::tsquery END
         FROM lower(q) AS l
       $$""",
    """CREATE TABLE item_search (
         item_id integer PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
         terms tsvector NOT NULL)""",
    "CREATE INDEX ix_item_search_terms ON item_search USING gin (terms)",
    """CREATE FUNCTION rectify_item_search() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO item_search (item_id, terms)
         VALUES (NEW.id, rectify_search_terms(NEW.title, NEW.measures,
                                              (SELECT text FROM findings WHERE id = NEW.finding_id)))
         ON CONFLICT (item_id) DO UPDATE SET terms = excluded.terms;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER item_search_sync AFTER INSERT OR UPDATE OF title, measures, finding_id ON items
       FOR EACH ROW EXECUTE FUNCTION rectify_item_search()""",
    """CREATE FUNCTION rectify_finding_search() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         UPDATE item_search AS s SET terms = rectify_search_terms(i.title, i.measures, NEW.text)
         FROM items AS i WHERE i.finding_id = NEW.id AND s.item_id = i.id;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER item_search_finding AFTER UPDATE OF text ON findings
       FOR EACH ROW EXECUTE FUNCTION rectify_finding_search()""",
    """INSERT INTO item_search (item_id, terms)
       SELECT i.id, rectify_search_terms(i.title, i.measures, f.text)
       FROM items AS i LEFT JOIN findings AS f ON f.id = i.finding_id""",
]
POSTGRES_DROP = ["DROP TRIGGER IF EXISTS item_search_finding ON findings",
                 "DROP TRIGGER IF EXISTS item_search_sync ON items",
                 "DROP FUNCTION IF EXISTS rectify_finding_search()", "DROP FUNCTION IF EXISTS rectify_item_search()",
                 "DROP TABLE IF EXISTS item_search",
                 "DROP FUNCTION IF EXISTS rectify_search_query(text)",
                 "DROP FUNCTION IF EXISTS rectify_search_lexeme(text)",
                 "DROP FUNCTION IF EXISTS rectify_search_terms(text, text, text)"]


def create_index(bind: Connection) -> None:
    """Create the search index with its triggers and fill it from the items already there."""
    statements = POSTGRES_CREATE if bind.dialect.name == "postgresql" else SQLITE_CREATE
    if bind.dialect.name == "sqlite":
        database.install_sqlite_functions(bind.connection.driver_connection)
    for statement in statements:
        bind.exec_driver_sql(statement)


def drop_index(bind: Connection) -> None:
    for statement in POSTGRES_DROP if bind.dialect.name == "postgresql" else SQLITE_DROP:
        bind.exec_driver_sql(statement)
