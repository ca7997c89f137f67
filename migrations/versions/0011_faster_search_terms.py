"""faster search terms on PostgreSQL: the same bigrams, cut by a regular expression

The first rectify_search_terms took substr(l, i, 2) for every position, which walks the multibyte
text from its start each time (1.5 ms for an item's measures; minutes to index a province). The new
definition gives the same tsvector in a third of the time. SQLite is unchanged.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 00:20:00.000000

"""
from alembic import op

from tracker.items import search


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

FIRST_DEFINITION = """CREATE OR REPLACE FUNCTION rectify_search_terms(title text, measures text, finding text)
       RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
         SELECT coalesce(array_to_tsvector(array_agg(DISTINCT substr(l, i, 2))), ''::tsvector)
         FROM unnest(ARRAY[title, measures, finding]) AS field, lower(field) AS l,
              generate_series(1, char_length(l)) AS i
       $$"""


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(search.POSTGRES_TERMS_FUNCTION)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(FIRST_DEFINITION)
