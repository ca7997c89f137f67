"""full-text search index for the ledger: character bigrams of title, measures and finding text

SQLite: a contentless FTS5 table; PostgreSQL: a tsvector table with a GIN index. Both are kept by
triggers and filled here from the items already there (see tracker/items/search.py).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 23:20:00.000000

"""
from alembic import op

from tracker.items import search


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    search.create_index(op.get_bind())


def downgrade():
    search.drop_index(op.get_bind())
